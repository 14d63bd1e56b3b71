"""Tuning and reducing the flags of ``program`` entries (``ck autotune``, ``ck reduce``).

The space of ``ck autotune program:X`` is ``--space=FILE`` (a path, relative to the current
folder or to the program's entry folder), else the program's own ``space.yaml`` or
``space.json``, else the ``tune: {space: ...}`` section of its meta. Objectives default to
the space's ``objectives``, else ``time:min,size:min``. Each trial is one
:func:`~cknowledge.experiments.measure.measure_program` call (built once per flag set: the
compile cache is shared by all trials and workers).

``ck reduce program:X --flags="..."`` measures the full flag set, then tries to drop each
flag in turn, keeping a removal when the result is not worse beyond noise than the full
set's (Welch's t-test, :func:`~cknowledge.experiments.stats.compare`; a metric without
noise, like the size, must not get worse at all). It repeats the passes until no flag can
go: the flags left are each needed.
"""

from __future__ import annotations

import os
import shlex
import time

from ..errors import CKError, InvalidInput
from ..experiments.measure import METRICS
from ..store.cid import parse_artifact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel
    from .space import Objective, Space

SPACE_FILES = ("space.yaml", "space.yml", "space.json")
DEFAULT_OBJECTIVES = "time:min,size:min"


class ProgramEvaluator:
    """Evaluates one configuration of a program: a picklable callable (for Ray workers,
    which open the kernel of ``home``; in-process it uses the kernel it was given)."""

    def __init__(self, home: str, artifact: str, space: Space, dataset: str | None = None,
                 repetitions: int = 5, warmup: int = 1, timeout: float | None = None,
                 kernel: Kernel | None = None) -> None:
        self.home, self.artifact, self.space = home, artifact, space
        self.dataset, self.repetitions, self.warmup = dataset, repetitions, warmup
        self.timeout = timeout
        self.kernel = kernel
        # a worker process sees the built-in repo this process sees (tests point it elsewhere)
        self.builtin_repo = os.environ.get("CK_BUILTIN_REPO")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["kernel"] = None
        return state

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        from ..experiments.measure import measure_program

        kernel = self.kernel
        if kernel is None:
            from ..api import kernel_for

            if self.builtin_repo and os.path.isdir(self.builtin_repo):
                os.environ["CK_BUILTIN_REPO"] = self.builtin_repo
            kernel = kernel_for(self.home)
        opt, flags = self.space.program_args(config)
        out = measure_program(kernel, self.artifact, opt=opt, flags=flags or None,
                              dataset=self.dataset, repetitions=self.repetitions,
                              warmup=self.warmup, timeout=self.timeout)
        return {"samples": out["samples"], "opt": opt, "flags": flags,
                "dataset": out.get("dataset"), "key": out.get("key"),
                "compile_cached": out.get("compile_cached")}


def program_space(kernel: Kernel, entry: dict[str, Any], space: Any) -> Space:
    from .space import load_space

    if space is not None and space != "":
        if isinstance(space, str) and not space.strip().startswith("{") \
                and not os.path.isabs(space) and not os.path.isfile(space) \
                and os.path.isfile(os.path.join(entry["path"], space)):
            return load_space(os.path.join(entry["path"], space))
        return load_space(space)
    for fname in SPACE_FILES:
        path = os.path.join(entry["path"], fname)
        if os.path.isfile(path):
            return load_space(path)
    tune = (entry.get("meta") or {}).get("tune")
    if isinstance(tune, dict) and isinstance(tune.get("space"), dict):
        return load_space(tune["space"])
    raise InvalidInput(f"program:{entry['name']} declares no search space (no space.yaml, no "
                       "tune.space in its meta); give one with --space=FILE")


def _load_program(kernel: Kernel, artifact: str | None) -> dict[str, Any]:
    if not artifact:
        raise InvalidInput("name the program: ck autotune program:NAME")
    return kernel.store.load("program", parse_artifact(artifact))


def _check_dataset(kernel: Kernel, entry: dict[str, Any], dataset: str | None) -> None:
    from ..workflow.program import pick_dataset

    pick_dataset(kernel, entry.get("meta") or {}, dataset)


def autotune_program(kernel: Kernel, artifact: str | None, space: Any = None,
                     objectives: Any = None, strategy: str | None = None,
                     budget: int | None = None, seed: int | None = None,
                     repetitions: int | None = None, warmup: int = 1,
                     dataset: str | None = None, backend: str = "local",
                     ray_address: str | None = None, workers: int | None = None,
                     name: str | None = None, resume: bool = False,
                     fixed: dict[str, Any] | None = None, timeout: float | None = None,
                     reference: list[float] | None = None,
                     echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``ck autotune program:X``: see the module and :func:`run_tuning`."""
    from ..home import home_dir
    from .record import _find_resumable
    from .runner import run_tuning

    entry = _load_program(kernel, artifact)
    program = f"program:{entry['name']}"
    stored: dict[str, Any] = {}
    if resume:  # the stored settings fill what is not given
        found = _find_resumable(kernel, name, "local", program)
        stored, name = found.get("meta") or {}, found["name"]
    if space is not None or not stored.get("space"):
        space_obj: Space | None = program_space(kernel, entry, space)
    else:
        space_obj = None
    if objectives is None and not stored.get("objectives"):
        objectives = (space_obj.objectives if space_obj is not None else None) \
            or DEFAULT_OBJECTIVES
    if repetitions is None:
        repetitions = int(stored.get("repetitions") or 5)
    if repetitions < 1:
        raise InvalidInput("--repetitions must be at least 1")
    dataset = dataset or stored.get("dataset")
    _check_dataset(kernel, entry, dataset)
    from .space import load_space

    eval_space = space_obj if space_obj is not None else load_space(stored["space"])
    evaluator = ProgramEvaluator(home_dir(kernel.home), entry["name"], eval_space, dataset,
                                 repetitions, warmup, timeout,
                                 kernel=kernel if backend == "local" else None)
    return run_tuning(kernel, evaluator, space=space_obj, objectives=objectives,
                      metrics=METRICS, strategy=strategy, budget=budget, seed=seed,
                      fixed=fixed, name=name, resume=resume, backend=backend,
                      ray_address=ray_address, workers=workers, reference=reference,
                      program=program, echo=echo,
                      extra_meta={"repetitions": repetitions, "dataset": dataset})


def _within_noise(reference: list[float], candidate: list[float], objective: Objective) -> tuple[bool, dict[str, Any]]:
    """Whether ``candidate`` is not worse than ``reference`` beyond noise."""
    from ..experiments.stats import compare

    cmp = compare(reference, candidate)
    worse = objective.sign * cmp["diff"] > 0
    if cmp["a"]["n"] < 2 or cmp["b"]["n"] < 2:
        keeps = not worse          # no noise to hide behind: not worse at all
    else:
        keeps = not (worse and cmp["significant"])
    return keeps, cmp


def reduce_flags(measure: Callable[[str], dict[str, list[float]]], flags: list[str],
                 objective: Objective, echo: Callable[[str], None] | None = None
                 ) -> dict[str, Any]:
    """Greedy 1-minimal reduction of ``flags``; ``measure(flags_text)`` returns samples per
    metric. Returns the kept and removed flags and every step."""
    from ..experiments.stats import summarize

    full = measure(shlex.join(flags))
    if objective.metric not in full:
        raise InvalidInput(f"the measurement gave no metric {objective.metric!r}")
    reference = list(full[objective.metric])
    current = list(flags)
    steps: list[dict[str, Any]] = []
    final_samples = reference
    changed = True
    while changed and current:
        changed = False
        for flag in list(current):
            trial = [f for f in current if f != flag]
            try:
                samples = measure(shlex.join(trial))[objective.metric]
            except CKError as exc:
                steps.append({"flag": flag, "removed": False, "reason": exc.message})
                if echo:
                    echo(f"without {flag}: failed ({exc.message}); kept")
                continue
            keeps, cmp = _within_noise(reference, list(samples), objective)
            stat = cmp["b"]
            steps.append({"flag": flag, "removed": keeps, "mean": stat["mean"],
                          "ci95_half": stat["ci95_half"], "rel_diff": cmp["rel_diff"],
                          "significant": cmp["significant"]})
            if echo:
                rel = f"{cmp['rel_diff'] * 100:+.1f}%" if cmp["rel_diff"] is not None else "n/a"
                echo(f"without {flag}: {objective.metric} {stat['mean']:.4g} ({rel} vs all "
                     f"flags) -> {'dropped' if keeps else 'kept'}")
            if keeps:
                current = trial
                final_samples = list(samples)
                changed = True
    removed = [f for f in flags if f not in current]
    return {"flags": shlex.join(current), "kept": current, "removed": removed,
            "original": shlex.join(flags), "objective": str(objective),
            "reference": summarize(reference), "final": summarize(final_samples),
            "steps": steps, "evaluations": 1 + len(steps)}


def reduce_program(kernel: Kernel, artifact: str | None, flags: str | None,
                   opt: str | None = None, objective: str = "time",
                   repetitions: int = 5, dataset: str | None = None,
                   timeout: float | None = None,
                   echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``ck reduce program:X --flags="..."``: see the module."""
    from ..experiments.measure import measure_program
    from .space import parse_objectives

    entry = _load_program(kernel, artifact)
    if not flags or not isinstance(flags, str):
        raise InvalidInput("give the flags to reduce: --flags=\"-O3 -funroll-loops ...\"")
    parsed = parse_objectives(objective, METRICS)
    if len(parsed) != 1:
        raise InvalidInput("ck reduce takes one --objective (time, size, time:min, ...)")
    if repetitions < 2 and parsed[0].metric == "time":
        raise InvalidInput("--repetitions must be at least 2 to judge noise")
    _check_dataset(kernel, entry, dataset)
    try:
        words = shlex.split(flags)
    except ValueError as exc:
        raise InvalidInput(f"cannot read --flags {flags!r}: {exc}") from None
    if not words:
        raise InvalidInput("--flags holds no flag")
    started = time.perf_counter()

    def measure(text: str) -> dict[str, list[float]]:
        out = measure_program(kernel, entry["name"], opt=opt, flags=text or None,
                              dataset=dataset, repetitions=repetitions, timeout=timeout)
        return out["samples"]  # type: ignore[no-any-return]

    result = reduce_flags(measure, words, parsed[0], echo)
    result.update(program=f"program:{entry['name']}", opt=opt, repetitions=repetitions,
                  wall_s=time.perf_counter() - started)
    return result
