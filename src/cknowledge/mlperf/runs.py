"""The recorded benchmark runs a submission is built from, and the runs it still lacks.

Every ``ck benchmark solution:X`` run is an experiment entry (kind ``solution-benchmark``)
whose ``details`` name its run folder and hold the harness's report per mode. A submission
takes, for each backend and scenario, the newest run that is valid, has both modes, ran
LoadGen from a user.conf, and lasted MLPerf's minimum duration (600 s; ``draft`` accepts
shorter runs). :func:`lacking` says in one message what is missing and the ``ck benchmark``
command that records it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound

MIN_DURATION_MS = 600000  # MLPerf's minimum performance run (mlperf.conf, the checker)
MODES = ("performance", "accuracy")


@dataclass
class Run:
    experiment: str
    created: str
    backend: str
    scenario: str
    inputs: dict[str, Any]
    folder: str
    modes: dict[str, dict[str, Any]]  # mode -> the harness report
    platform: dict[str, Any]
    system: str
    valid: bool
    steps: dict[str, Any] = field(default_factory=dict)

    def raw(self, mode: str) -> str:
        return str(self.modes[mode].get("output") or
                   os.path.join(self.folder, "raw", mode))

    def min_duration_ms(self) -> int | None:
        report = self.modes.get("performance") or {}
        value = (report.get("effective_settings") or {}).get("min_duration_ms")
        if value is None:
            value = report.get("min_duration_ms")
        return None if value is None else int(value)

    def device(self) -> str:
        return str(self.inputs.get("device") or "cpu")

    def stack(self) -> str:
        """The runtime as the system name shows it: the backend, plus the device when it
        is not the CPU (``onnxruntime-cuda``)."""
        return self.backend if self.device() == "cpu" else f"{self.backend}-{self.device()}"

    def machine(self) -> str:
        """The machine's name in the results layout (as the run wrote it)."""
        return self.system or f"{self.platform.get('arch') or 'cpu'}-" \
            f"{str(self.platform.get('fingerprint'))[:8]}"

    def has_user_conf(self) -> bool:
        return os.path.isfile(os.path.join(self.raw("performance"), "user.conf"))


def _run(entry: dict[str, Any]) -> Run | None:
    meta = entry.get("meta") or {}
    details = meta.get("details") or {}
    inputs = meta.get("inputs") or {}
    if meta.get("kind") != "solution-benchmark" or not details.get("run_folder"):
        return None
    return Run(experiment=entry["name"], created=str(meta.get("created") or ""),
               backend=str(inputs.get("backend")), scenario=str(inputs.get("scenario")),
               inputs=dict(inputs), folder=str(details["run_folder"]),
               modes=dict(details.get("harness") or {}),
               platform=dict(meta.get("platform") or {}),
               system=str((details.get("layout") or {}).get("results", "")).split(os.sep)[-3]
               if details.get("layout") else "",
               valid=bool(meta.get("valid", details.get("valid"))),
               steps=dict(details.get("steps") or {}))


def recorded(kernel: Any, solution: str, names: list[str] | None = None) -> list[Run]:
    """The solution's recorded runs (``names``: only those experiments, each must exist)."""
    from ..store.cid import ArtifactRef

    found = kernel.store.find("experiment", ArtifactRef(None, None),
                              tags=["benchmark", solution], with_meta=True)
    runs = [r for r in (_run(e) for e in found) if r is not None]
    if names:
        by_name = {r.experiment: r for r in runs}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise NotFound(f"no recorded run of solution:{solution} is named "
                           f"{', '.join(unknown)}: `ck find experiment --tags=benchmark,"
                           f"{solution}` lists them")
        runs = [by_name[n] for n in names]
    return runs


def usable(run: Run, draft: bool) -> str | None:
    """Why ``run`` cannot go into a submission, or None."""
    if not run.valid:
        return f"experiment:{run.experiment} is an invalid run"
    lacking = [m for m in MODES if m not in run.modes or not os.path.isdir(run.raw(m))]
    if lacking:
        return f"experiment:{run.experiment} has no {' or '.join(lacking)} run (its logs " \
               "are gone or it never ran that mode)"
    if not run.has_user_conf():
        return f"experiment:{run.experiment} predates LoadGen's user.conf (it has none)"
    duration = run.min_duration_ms()
    if not draft and (duration is None or duration < MIN_DURATION_MS):
        return (f"experiment:{run.experiment} ran {duration or 0} ms, under MLPerf's "
                f"minimum of {MIN_DURATION_MS} ms (--draft accepts it; the checker will not)")
    return None


Key = tuple[str, str, str]  # (machine, stack, scenario)


def key(run: Run) -> Key:
    return (run.machine(), run.stack(), run.scenario)


def choose(runs: list[Run], draft: bool) -> tuple[dict[Key, Run], dict[Key, str]]:
    """The newest usable run per machine, backend and scenario, and why the others of a
    key that has none were refused (the newest reason)."""
    chosen: dict[Key, Run] = {}
    refused: dict[Key, str] = {}
    for run in sorted(runs, key=lambda r: (r.created, r.experiment), reverse=True):
        if key(run) in chosen:
            continue
        why = usable(run, draft)
        if why is None:
            chosen[key(run)] = run
            refused.pop(key(run), None)
        else:
            refused.setdefault(key(run), why)
    return chosen, refused


def command(solution: str, stack: str, scenario: str, draft: bool) -> str:
    backend, _, device = stack.partition("-")
    duration = "" if draft else f" --duration_ms={MIN_DURATION_MS}"
    return (f"ck benchmark solution:{solution} --backend={backend}"
            + (f" --device={device}" if device else "") + f" --scenario={scenario}{duration}")


def lacking(solution: str, chosen: dict[Key, Run], refused: dict[Key, str],
            systems: list[tuple[str, str]], scenarios: list[str], draft: bool) -> list[str]:
    """One line per (machine, backend, scenario) the submission needs and has no usable
    run for; ``systems`` are the (machine, stack) pairs it holds."""
    lines = []
    several = len({m for m, _ in systems}) > 1
    for machine, backend in systems:
        for scenario in scenarios:
            if (machine, backend, scenario) in chosen:
                continue
            why = refused.get((machine, backend, scenario))
            where = f" on {machine}" if several else ""
            what = f"{scenario} performance and accuracy run ({backend}{where})"
            lines.append(f"{what} missing" + (f" ({why})" if why else "") + ": "
                         + command(solution, backend, scenario, draft))
    return lines
