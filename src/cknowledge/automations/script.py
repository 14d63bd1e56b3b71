"""``script``: portable workflow steps (``ck run script --tags=...`` / ``ck run script:NAME``)."""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ScriptAutomation(Automation):
    name = "script"
    summary = "portable workflow steps"
    meta_file = "meta.yaml"

    @action
    def run(self, artifact: str | None = None, tags: list[str] | None = None,
            version: str | None = None, env: dict[str, Any] | None = None,
            dry_run: bool = False, lock: str | None = None, from_lock: str | None = None,
            quiet: bool = False, timeout: float | None = None, **inputs: Any) -> dict[str, Any]:
        """Run a step and its dependencies: --tags=a,b,_variation, --version=RANGE, --INPUT=x,
        --env.K=V; --dry-run prints the resolved graph; --lock=FILE writes it; --from-lock=FILE
        reproduces it; --timeout=SECONDS stops the steps' commands after that long overall."""
        from ..cmcompat import dispatch

        if dispatch.is_foreign(self.kernel, artifact, tags):  # a CM/MLC script
            return dispatch.run(self.kernel, artifact, tags, version, inputs, env,
                                dry_run=dry_run, quiet=quiet, timeout=timeout)
        from ..workflow import run
        from ..workflow.steps import parse_timeout, step_deadline

        with step_deadline(parse_timeout(timeout, "--timeout")):
            return run(self.kernel, self.name, artifact, tags, version, inputs, env,
                       dry_run=dry_run, lock=lock, from_lock=from_lock,
                       on_line=self.kernel.output(quiet))

    @action
    def benchmark(self, artifact: str | None = None, tags: list[str] | None = None,
                  version: str | None = None, env: dict[str, Any] | None = None,
                  repetitions: int = 5, warmup: int = 1, record: bool = False,
                  name: str | None = None, repo: str | None = None, quiet: bool = False,
                  timeout: float | None = None, **inputs: Any) -> dict[str, Any]:
        """Measure --repetitions=N runs of a step after --warmup=W; --record [--name=E] keeps it.

        The step runs every time (never from the cache; its deps once). Metrics: wall time,
        its CK_METRIC_* exports, energy where RAPL counters are readable. The experiment
        entry holds the inputs, the lock, platform, env and git state; --timeout=SECONDS
        stops the runs' commands after that long overall."""
        from ..experiments import bench
        from ..experiments.record import finish
        from ..workflow.steps import parse_timeout, step_deadline

        with step_deadline(parse_timeout(timeout, "--timeout")):
            measured = bench.script(self.kernel, artifact, tags, version, inputs, env,
                                    repetitions, warmup, on_line=self.kernel.output(quiet))
        return finish(self.kernel, measured, record, name, repo)
