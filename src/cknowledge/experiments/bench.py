"""Measuring a program or a script step with repetitions: samples, lock, environment.

Every repetition is a separate run. What is measured:

``time``       wall time of one run, in seconds (always);
``size``       the size of a program's binary, in bytes (one value: it does not vary);
``energy_j``   joules of the CPU packages (RAPL, :mod:`.energy`) over one run, where the
               counters can be read; for programs these are separate runs after the timed
               ones, so reading the counters adds nothing to the times;
``<name>``     every ``CK_METRIC_<NAME>=value`` a script step exports (lower case).

A script step's dependencies are resolved and run (or found in the cache) once, before
the repetitions; the step itself runs every time, in a fresh work folder, even when its
meta says ``cache: true``: a benchmark measures the run, not the cache.

``locked`` (the nodes of a lock file) pins the dependencies as ``--from-lock`` does; what
cannot be reproduced raises :class:`~cknowledge.errors.Unsatisfiable`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from ..errors import InvalidInput, Unsatisfiable
from ..store.cid import ArtifactRef, parse_artifact
from .energy import EnergyMeter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel
    from ..workflow.engine import Engine, Node

UNITS = {"time": "s", "size": "bytes", "energy_j": "J"}
METRIC_PREFIX = "CK_METRIC_"
RESERVED = ("time", "size", "energy_j")  # a step cannot export these: the benchmark measures them


def _check_counts(repetitions: int, warmup: int) -> None:
    if repetitions < 1:
        raise InvalidInput("--repetitions must be at least 1")
    if warmup < 0:
        raise InvalidInput("--warmup cannot be negative")


def _lock_nodes(write: Any) -> dict[str, Any]:
    """Run ``write(path)`` (which writes a lock file) and return the file's content."""
    from ..workflow import read_lock

    folder = tempfile.mkdtemp(prefix="ck-lock-")
    try:
        path = os.path.join(folder, "lock.yaml")
        write(path)
        data = read_lock(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    data.pop("by_ident", None)
    return data


def _engine_lock(engine: Engine, top: Node) -> dict[str, Any]:
    from ..workflow import describe, write_lock

    return _lock_nodes(lambda path: write_lock(path, top, describe(engine, top)))


def _component(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"automation": kind, "name": entry["name"], "uid": entry["uid"],
            "repo": entry.get("repo")}


def program(kernel: Kernel, artifact: str, opt: str | None = None, flags: str | None = None,
            dataset: str | None = None, repetitions: int = 5, warmup: int = 1,
            timeout: float | None = None, validate: bool = True,
            locked: list[dict[str, Any]] | None = None,
            meter: EnergyMeter | None = None) -> dict[str, Any]:
    """Benchmark ``program:artifact`` with :func:`~.measure.measure_program`."""
    from ..workflow import run as run_workflow
    from ..workflow.program import pick_dataset, run_binary
    from ..workflow.spec import ScriptSpec
    from .drift import capture
    from .measure import measure_program

    _check_counts(repetitions, warmup)
    ref = parse_artifact(artifact)
    entry = kernel.store.load("program", ArtifactRef(ref.repo, ref.name))
    inputs = {k: v for k, v in (("opt", opt), ("flags", flags)) if v is not None}
    if locked is not None:  # --from-lock: the plan must give the locked keys
        lock_file = _write_temp_lock(locked)
        try:
            run_workflow(kernel, "program", artifact, None, None, inputs, None, dry_run=True,
                         from_lock=lock_file)
        finally:
            shutil.rmtree(os.path.dirname(lock_file), ignore_errors=True)
    measured = measure_program(kernel, artifact, opt=opt, flags=flags, dataset=dataset,
                               repetitions=repetitions, warmup=warmup, timeout=timeout,
                               validate=validate)
    samples: dict[str, list[float]] = {k: list(v) for k, v in measured["samples"].items()}
    meter = meter or EnergyMeter()
    if meter.available:
        chosen = pick_dataset(kernel, entry["meta"], measured["dataset"])
        energy: list[float] = []
        for _ in range(repetitions):
            before = meter.read()
            run_binary(entry["meta"], entry["path"], str(measured["binary"]), chosen, 1, False,
                       timeout)
            energy.append(meter.joules(before, meter.read()))
        samples["energy_j"] = energy
    lock = _lock_nodes(lambda path: run_workflow(kernel, "program", artifact, None, None,
                                                 inputs, None, dry_run=True, lock=path))
    spec = ScriptSpec(entry, "program")
    env = capture(kernel, lock["nodes"], entry.get("repo"), spec.declared_env([], inputs, {}),
                  spec.env_keys)
    return {"component": _component(entry, "program"),
            "inputs": {"artifact": artifact, "opt": opt, "flags": flags, "dataset": measured["dataset"],
                       "repetitions": repetitions, "warmup": warmup, "timeout": timeout,
                       "validate": validate},
            "samples": samples, "units": {k: UNITS.get(k, "") for k in samples},
            "energy": meter.describe(), "lock": lock, **env,
            "details": {"valid": measured["valid"], "key": measured["key"],
                        "compile_cached": measured["compile_cached"],
                        "warmup_time_s": measured["warmup_s"]},
            "warnings": []}


def _write_temp_lock(nodes: list[dict[str, Any]]) -> str:
    from ..store.metaio import atomic_write_text, dump_text
    from ..workflow import LOCK_FORMAT

    path = os.path.join(tempfile.mkdtemp(prefix="ck-lock-"), "lock.yaml")
    root = nodes[-1]["ident"] if nodes else None  # walk() lists the root last
    data = {"cknowledge_lock": LOCK_FORMAT, "root": root, "nodes": nodes}
    atomic_write_text(path, dump_text(data, path))
    return path


def script(kernel: Kernel, artifact: str | None = None, tags: Any = None,
           version: str | None = None, inputs: dict[str, Any] | None = None,
           env: dict[str, Any] | None = None, repetitions: int = 5, warmup: int = 1,
           locked: list[dict[str, Any]] | None = None, meter: EnergyMeter | None = None,
           on_line: Any = None) -> dict[str, Any]:
    """Benchmark a script step: run it ``warmup + repetitions`` times, never from the cache."""
    from ..workflow import compare as compare_lock
    from ..workflow import root_requirement
    from ..workflow.engine import Engine
    from .drift import capture

    _check_counts(repetitions, warmup)
    inputs = dict(inputs or {})
    explicit = {str(k): "" if v is None else str(v) for k, v in (env or {}).items()}
    root = root_requirement(kernel, "script", artifact, tags, version)
    engine = Engine(kernel, on_line)
    by_ident = {str(n["ident"]): n for n in locked} if locked is not None else None
    top = engine.plan(root, inputs, explicit, by_ident)
    if locked is not None:
        differences = compare_lock(top, {"by_ident": by_ident})
        if differences:
            raise Unsatisfiable("the recorded lock cannot be reproduced here: "
                                + "; ".join(differences))
    lock = _engine_lock(engine, top)
    for _, child in top.children:  # dependencies once, before the clock starts
        engine.execute(child, {}, None)
    if top.spec is not None:
        top.spec.cache = False  # the measured step runs every time (its deps stay cached)
    meter = meter or EnergyMeter()
    samples: dict[str, list[float]] = {"time": []}
    if meter.available:
        samples["energy_j"] = []
    warnings: list[str] = []
    warm_times: list[float] = []
    for i in range(warmup + repetitions):
        top.result = None
        work = tempfile.mkdtemp(prefix="ck-bench-")
        try:
            before = meter.read() if meter.available else []
            start = time.perf_counter()
            result = engine.execute(top, inputs, work)
            elapsed = time.perf_counter() - start
            joules = meter.joules(before, meter.read()) if meter.available else None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if i < warmup:
            warm_times.append(elapsed)
            continue
        samples["time"].append(elapsed)
        if joules is not None:
            samples["energy_j"].append(joules)
        for key, value in sorted((result.get("new_env") or {}).items()):
            if not key.startswith(METRIC_PREFIX) or len(key) == len(METRIC_PREFIX):
                continue
            try:
                number = float(value)
            except ValueError:
                note = f"{key}={value!r} is not a number: not recorded"
                if note not in warnings:
                    warnings.append(note)
                continue
            metric = key[len(METRIC_PREFIX):].lower()
            if metric in RESERVED:
                note = f"{key}: '{metric}' is measured by the benchmark itself; not recorded"
                if note not in warnings:
                    warnings.append(note)
                continue
            samples.setdefault(metric, []).append(number)
    assert top.spec is not None
    entry = top.cand.entry
    captured = capture(kernel, lock["nodes"], entry.get("repo"), top.env, top.spec.env_keys)
    return {"component": _component(entry, "script"),
            "inputs": {"artifact": artifact, "tags": list(tags) if isinstance(tags, (list, tuple)) else tags,
                       "version": version, "variations": top.variations, "inputs": inputs,
                       "env": explicit, "repetitions": repetitions, "warmup": warmup},
            "samples": samples, "units": {k: UNITS.get(k, "") for k in samples},
            "energy": meter.describe(), "lock": lock, **captured,
            "details": {"key": top.key, "warmup_time_s": warm_times},
            "warnings": warnings}
