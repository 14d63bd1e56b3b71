"""Tuning a solution over its inputs (``ck autotune solution:X``).

The space is ``--space=FILE|JSON`` (choices named after inputs), ``--space=a,b,c`` (those
inputs, as the manifest's ``tune.space`` or its inputs declare them), or by default the
manifest's ``tune.space``, else every input with ``choices`` or a ``min`` and ``max``. An input
given on the command line (``--dataset=digits``) is fixed for every trial. Objectives
default to ``tune.objectives``, else the first metric in its direction; ``--constraint``
(repeatable, or comma-separated) adds the manifest's ``tune.constraints``.

Each trial is one real ``ck benchmark solution:X`` (prepared steps come from the cache): a
run folder, a recorded experiment, the rules checked; an invalid run is a failed trial
with the rules it broke as its reason. ``--submit`` sends every trial to the solution's
hub scoreboard with its provenance (experiment, lockfile, platform);
``--seed-from-hub`` warm-starts the strategy from the hub's results of the nearest
platforms (:mod:`.crowd`).
"""

from __future__ import annotations

import os

from ..errors import CommandFailed, InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel
    from ..solutions.manifest import Manifest
    from .space import Space

#: tuning settings that are not solution inputs (the automation's own keywords)
RESERVED = ("space", "objectives", "strategy", "budget", "seed", "name", "resume", "backend",
            "ray_address", "workers", "constraint", "submit", "hub", "seed_from_hub",
            "quiet", "neighbours", "reference")


def _choice(name: str, spec: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
    """A tuning choice (``to: none``) from a ``tune.space`` item or the input itself."""
    inp = manifest.inputs[name]
    if "values" in spec:
        return {"type": "categorical", "values": list(spec["values"]), "to": "none"}
    if "low" in spec or "high" in spec:
        kind = "int" if inp.type == "int" else "float"
        out = {"type": kind, "low": spec.get("low", inp.min), "high": spec.get("high", inp.max),
               "to": "none"}
        if kind == "int" and spec.get("step"):
            out["step"] = spec["step"]
        if kind == "float" and spec.get("log"):
            out["log"] = True
        return out
    if inp.choices:
        return {"type": "categorical", "values": list(inp.choices), "to": "none"}
    if inp.type in ("int", "float") and inp.min is not None and inp.max is not None:
        return {"type": inp.type, "low": inp.min, "high": inp.max, "to": "none"}
    raise InvalidInput(f"input {name!r} has no choices and no min and max: give its values "
                       f"in the manifest's tune.space or with --space=FILE")


def solution_space(manifest: Manifest, space: Any, fixed: dict[str, Any], label: str
                   ) -> Space:
    from .space import load_space

    tune = manifest.tune.space if manifest.tune else {}
    if isinstance(space, str) and space.strip() and not space.strip().startswith("{") \
            and not os.path.exists(space) and all(p.strip().isidentifier()
                                                  for p in space.split(",")):
        names = [p.strip() for p in space.split(",") if p.strip()]
        unknown = [n for n in names if n not in manifest.inputs]
        if unknown:
            from .space import _valid

            raise InvalidInput(f"{label}: --space names {unknown[0]!r}, which is not an input"
                               + _valid(unknown[0], list(manifest.inputs)))
        data: Any = {"choices": {n: _choice(n, tune.get(n, {}), manifest) for n in names}}
    elif space not in (None, ""):
        parsed = load_space(space)
        unknown = [n for n in parsed.choices if n not in manifest.inputs]
        if unknown:
            raise InvalidInput(f"{label}: the space's choice {unknown[0]!r} is not an input "
                               f"of the solution (inputs: {', '.join(manifest.inputs)})")
        data = parsed.describe()
        for spec in data["choices"].values():
            spec["to"] = "none"
    elif tune:
        data = {"choices": {n: _choice(n, s, manifest) for n, s in tune.items()}}
    else:
        names = [n for n, s in manifest.inputs.items()
                 if s.choices or (s.min is not None and s.max is not None)]
        data = {"choices": {n: _choice(n, {}, manifest) for n in names}}
    data["choices"] = {n: c for n, c in data["choices"].items() if n not in fixed}
    if not data["choices"]:
        raise InvalidInput(f"{label}: nothing to tune: the space is empty (the inputs given on "
                           "the command line are fixed); name inputs with --space=a,b")
    return load_space(data)


class SolutionEvaluator:
    """One trial: ``ck benchmark solution:X`` with the fixed inputs and the configuration;
    picklable (a Ray worker opens the kernel of ``home``)."""

    def __init__(self, home: str, artifact: str, fixed: dict[str, Any], submit: bool,
                 hub: str | None, kernel: Kernel | None = None) -> None:
        self.home, self.artifact, self.fixed = home, artifact, dict(fixed)
        self.submit, self.hub, self.kernel = submit, hub, kernel
        self.builtin_repo = os.environ.get("CK_BUILTIN_REPO")

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "kernel": None}

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        from ..solutions import benchmark
        from ..store.cid import parse_artifact

        kernel = self.kernel
        if kernel is None:
            from ..api import kernel_for

            if self.builtin_repo and os.path.isdir(self.builtin_repo):
                os.environ["CK_BUILTIN_REPO"] = self.builtin_repo
            kernel = kernel_for(self.home)
        entry = kernel.store.load("solution", parse_artifact(self.artifact))
        try:
            summary = benchmark(kernel, entry, {**self.fixed, **config})
        except CommandFailed as exc:
            result = exc.details.get("result")
            if isinstance(result, dict) and result.get("problems"):
                raise CommandFailed(f"invalid run (experiment:{result['experiment']['name']})"
                                    f": {'; '.join(result['problems'])}") from None
            raise
        exp = summary["experiment"]
        meta = kernel.store.load("experiment", parse_artifact(f"{exp['repo']}:{exp['name']}"))
        samples = {k: list(v["samples"]) for k, v in (meta["meta"].get("metrics") or {}).items()}
        info: dict[str, Any] = {"experiment": exp["name"], "run_folder": summary["run_folder"]}
        if self.submit:  # a hub that fails now loses the submission, never the trial
            info.update(self._submit(entry, summary, meta["meta"]))
        return {"samples": samples, **info}

    def _submit(self, entry: dict[str, Any], summary: dict[str, Any], meta: dict[str, Any]
                ) -> dict[str, Any]:
        from ..errors import CKError
        from ..solutions.generic import submit_run
        from ..solutions.manifest import load_manifest

        body = {"inputs": summary["inputs"], "experiment": summary["experiment"],
                "metrics": {k: v for k, v in summary["metrics"].items() if v is not None},
                "statistics": {k: v["stats"] for k, v in (meta.get("metrics") or {}).items()
                               if k in summary["metrics"]}}
        try:
            sent = submit_run(load_manifest(entry), entry, body, meta, meta.get("lock") or {},
                              self.hub)
        except CKError as exc:
            return {"submit_error": exc.message}
        return {"hub_result": sent.get("id")}


def autotune_solution(kernel: Kernel, entry: dict[str, Any], given: dict[str, Any], *,
                      space: Any = None, objectives: Any = None, strategy: str | None = None,
                      budget: int | None = None, seed: int | None = None,
                      name: str | None = None, resume: bool = False, backend: str = "local",
                      ray_address: str | None = None, workers: int | None = None,
                      constraint: Any = None, submit: bool = False, hub: str | None = None,
                      seed_from_hub: bool = False, neighbours: int = 3,
                      echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``ck autotune solution:X``: see the module."""
    from ..home import home_dir
    from ..solutions.manifest import bind_inputs, load_manifest
    from .record import _find_resumable
    from .runner import run_tuning

    manifest = load_manifest(entry)
    label = f"solution:{entry['name']}"
    bind_inputs(manifest, given, label)                  # unknown or bad inputs: refused now
    if seed_from_hub:
        from .crowd import check_neighbours

        check_neighbours(neighbours)
    fixed = dict(given)
    program = label
    stored: dict[str, Any] = {}
    if resume:
        found = _find_resumable(kernel, name, "local", program)
        stored, name = found.get("meta") or {}, found["name"]
        fixed = {**(stored.get("inputs") or {}), **fixed}
    space_obj = None if resume and space is None and stored.get("space") else \
        solution_space(manifest, space, fixed, label)
    metrics = [m.name for m in manifest.metrics]
    if objectives is None and not stored.get("objectives"):
        objectives = (manifest.tune.objectives if manifest.tune else None) or \
            f"{manifest.metrics[0].name}:{'max' if manifest.metrics[0].better == 'higher' else 'min'}"
    constraints = _constraints(constraint, manifest)
    if submit:
        check_hub(kernel, manifest, hub)
    evaluator = SolutionEvaluator(home_dir(kernel.home), f"{entry['repo']}:{entry['name']}",
                                  fixed, submit, hub,
                                  kernel=kernel if backend == "local" else None)
    warm = None
    if seed_from_hub:
        from .crowd import warm_start

        def warm(space: Space, objs: list[Any]) -> dict[str, Any]:
            return warm_start(kernel, manifest, entry, space, objs, fixed, hub, neighbours,
                              budget or 20)

    result = run_tuning(kernel, evaluator, space=space_obj, objectives=objectives,
                        metrics=metrics, strategy=strategy, budget=budget, seed=seed,
                        name=name, resume=resume, backend=backend, ray_address=ray_address,
                        workers=workers, program=program, echo=echo,
                        constraints=constraints or None, warm=warm,
                        extra_meta={"inputs": fixed})
    trials = result.get("trials") or {}
    if submit:
        from .record import read_trials

        exp = result.get("experiment") or {}
        records = read_trials(exp["trials"]) if exp.get("trials") else []
        unsent = [r for r in records if (r.get("info") or {}).get("submit_error")]
        sent = [r for r in records if (r.get("info") or {}).get("hub_result")]
        result["submitted"] = {"sent": len(sent), "unsent": len(unsent)}
        result["table"] += f"\nsubmitted to the hub: {len(sent)} trial(s)"
        if unsent:
            result["table"] += (f"; NOT submitted: {len(unsent)} (trial "
                                f"{unsent[0]['number']}: {unsent[0]['info']['submit_error']})")
    if trials.get("count") and not trials.get("ok"):
        where = (result.get("experiment") or {}).get("trials")
        if trials.get("infeasible") == trials["count"]:
            raise CommandFailed(f"{label}: every one of the {trials['count']} trials was "
                                f"infeasible: no configuration met "
                                f"{', '.join(result['constraints'])} (each trial's values "
                                f"are in {where}); relax the constraint or widen the space")
        raise CommandFailed(f"{label}: no trial succeeded ({trials['failed']} failed, "
                            f"{trials.get('infeasible', 0)} infeasible; their reasons are "
                            f"recorded in {where}); no Pareto front")
    return result


def check_hub(kernel: Kernel, manifest: Manifest, hub: str | None) -> None:
    """Before the first trial: the hub answers, the token is accepted, the scoreboard
    exists (else one line says which, and nothing runs)."""
    from urllib.parse import quote

    from ..client.config import settings
    from ..client.http import HubClient
    from ..errors import NotFound
    from ..home import home_dir

    with HubClient(settings(home_dir(kernel.home), hub)) as client:
        client.get_json("/whoami", write=True)
        try:
            client.get_json(f"/scoreboards/{quote(manifest.scoreboard, safe='')}")
        except NotFound:
            raise NotFound(f"--submit: the hub at {client.url} has no scoreboard "
                           f"{manifest.scoreboard!r}; an admin creates it with `ck scoreboard "
                           f"solution:NAME --hub={client.url}`") from None


def _constraints(given: Any, manifest: Manifest) -> list[str]:
    items: list[str] = list(manifest.tune.constraints) if manifest.tune else []
    if isinstance(given, (list, tuple)):
        items += [str(g) for g in given]
    elif given not in (None, ""):
        items += [p for p in str(given).split(",") if p.strip()]
    return items
