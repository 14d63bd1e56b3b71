"""Component automations that, for now, carry the core entry actions.

Later work gives each its own actions (``run script``, ``detect soft``, ``install
package``, ``benchmark``, ...); the core actions come from :class:`Automation`.
"""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Dataset(Automation):
    name = "dataset"
    summary = "data sets and their variants"


class Model(Automation):
    name = "model"
    summary = "trained models with checksums"


class Soft(Automation):
    name = "soft"
    summary = "software detection plugins"


class Solution(Automation):
    name = "solution"
    summary = ("benchmark solutions: prepare (init), run (benchmark), tune (autotune) and get "
               "advice from the hub (advise) for one portable benchmark")
    meta_file = "meta.yaml"

    def _entry(self, artifact: str | None) -> dict[str, Any]:
        from ..errors import InvalidInput
        from ..store.cid import parse_artifact

        if not artifact:
            raise InvalidInput("name the solution: ck init solution:NAME ('ck find solution' "
                               "lists them)")
        return self.store.load(self.name, parse_artifact(artifact))

    @action
    def init(self, artifact: str | None = None, backend: str | None = None,
             quiet: bool = False) -> dict[str, Any]:
        """Prepare a solution: detect Python, then install its venv, runtimes, model and
        dataset (each cached); --backend=NAME prepares only what that backend needs."""
        from ..solutions import init

        return init(self.kernel, self._entry(artifact), backend,
                    on_line=self.kernel.output(quiet))

    @action
    def benchmark(self, artifact: str | None = None, output: str | None = None,
                  submit: bool = False, hub: str | None = None,
                  submit_if_logged_in: bool = False, quiet: bool = False,
                  **inputs: Any) -> dict[str, Any]:
        """Run a solution's benchmark (--scenario, --backend, --count, ... as the solution
        declares): harness, results layout and checks, a recorded experiment, a summary beside
        reference rows and an HTML report; --submit posts the result to the hub
        (`cb benchmark` does so whenever a hub login exists; --submit=no keeps it local)."""
        from ..solutions import benchmark

        if submit_if_logged_in and not submit:
            from ..client.config import settings

            submit = settings(self.kernel.home, hub).token is not None
        return benchmark(self.kernel, self._entry(artifact), inputs, output=output,
                         submit=submit, hub=hub, on_line=self.kernel.output(quiet))

    @action
    def autotune(self, artifact: str | None = None, space: Any = None,
                 objectives: Any = None, strategy: str | None = None,
                 budget: int | None = None, seed: int | None = None, name: str | None = None,
                 resume: bool = False, backend: str = "local", ray_address: str | None = None,
                 workers: int | None = None, constraint: Any = None, submit: bool = False,
                 hub: str | None = None, seed_from_hub: bool = False, neighbours: int = 3,
                 quiet: bool = False, **inputs: Any) -> dict[str, Any]:
        """Tune a solution over its inputs: each trial a real benchmark run; noise-aware Pareto front.

        --space=a,b|FILE (default: the manifest's tune.space), --objectives=qps:max,map:max,
        --constraint='map>=85', --strategy=random|grid|tpe|nsga2, --budget=N, --name [--resume],
        --backend=local|ray; other --INPUT=VALUE are fixed; --submit sends every trial to the
        hub scoreboard; --seed-from-hub warm-starts from the nearest platforms' results."""
        from ..tuning.solution import autotune_solution

        return autotune_solution(self.kernel, self._entry(artifact), inputs, space=space,
                                 objectives=objectives, strategy=strategy, budget=budget,
                                 seed=seed, name=name, resume=resume, backend=backend,
                                 ray_address=ray_address, workers=workers,
                                 constraint=constraint, submit=submit, hub=hub,
                                 seed_from_hub=seed_from_hub, neighbours=neighbours,
                                 echo=self.kernel.output(quiet))

    @action
    def scoreboard(self, artifact: str | None = None, hub: str | None = None
                   ) -> dict[str, Any]:
        """Create the solution's scoreboard on the hub (--hub=URL; an admin's token): its
        metrics and inputs as the manifest declares them, ready for --submit."""
        from ..solutions.generic import create_scoreboard

        return create_scoreboard(self.kernel, self._entry(artifact), hub)

    @action
    def advise(self, artifact: str | None = None, objectives: Any = None,
               constraint: Any = None, hub: str | None = None, neighbours: int = 3,
               **inputs: Any) -> dict[str, Any]:
        """Propose the configuration predicted best for this machine from the hub's results.

        Uses the results of the --neighbours=K platforms nearest to this one (on platform
        facts), says which; --objectives and --constraint as for autotune; other
        --INPUT=VALUE restrict the results to those inputs."""
        from ..tuning.crowd import advise

        return advise(self.kernel, self._entry(artifact), objectives, constraint, hub,
                      neighbours, inputs)

    @action
    def submission(self, artifact: str | None = None, division: str = "open",
                   submitter: str | None = None, output: str | None = None,
                   runs: str | None = None, scenarios: str | None = None,
                   backends: str | None = None, benchmark: str = "yolo-95",
                   system: dict[str, Any] | None = None, draft: bool = False,
                   compliance: str | None = None, source: str | None = None,
                   quiet: bool = False) -> dict[str, Any]:
        """Build the MLCommons inference submission tree from the solution's recorded runs
        (--division=open --submitter=ORG --output=DIR; --runs=EXPERIMENT,... to pick them,
        --scenarios / --backends to say what it must hold, --system.FIELD=VALUE for what no
        detector knows, --draft to accept runs under MLPerf's 600 s minimum,
        --compliance=TEST01,TEST04 to run those tests through LoadGen first, with the
        inference sources of the package mlperf-inference-src or --source=CHECKOUT)."""
        from ..errors import InvalidInput
        from ..mlperf.submission import build

        entry = self._entry(artifact)
        label = f"solution:{entry['name']}"
        model = ((entry.get("meta") or {}).get("run") or {}).get("model_name")
        if not model:
            raise InvalidInput(f"{label} names no MLPerf model (run.model_name): it has no "
                               "MLPerf results to submit")
        if not submitter or not output:
            raise InvalidInput(f"ck submission {label} needs --submitter=ORG and "
                               "--output=DIR")

        def split(text: str | None) -> list[str] | None:
            return [p.strip() for p in text.split(",") if p.strip()] if text else None

        return build(self.kernel, entry, str(model), division, submitter, output,
                     names=split(runs), scenarios=split(scenarios), benchmark=benchmark,
                     system=system, draft=draft, backends=split(backends),
                     compliance=split(compliance), source=source,
                     on_line=self.kernel.output(quiet))
