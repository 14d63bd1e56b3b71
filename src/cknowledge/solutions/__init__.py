"""Solutions: one benchmark made portable (the paper's ``cb init`` / ``cb benchmark``).

    init(kernel, entry, backend=None)       prepare every step the manifest lists (cached)
    benchmark(kernel, entry, inputs, ...)   prepare what the inputs need, run the harness in
                                            each mode, write and check the results layout,
                                            record an experiment, summarize beside references

A solution entry's meta is a :class:`~.manifest.Manifest`. The steps are ordinary workflow
steps (``package`` or ``script`` entries found by tags), so everything they install is in
the content-addressed cache and ``ck init`` a second time only checks it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from ..errors import CKError
from .manifest import Manifest, Step, bind_inputs, load_manifest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel

__all__ = ["benchmark", "init", "load_manifest", "prepare"]


def label_of(entry: dict[str, Any]) -> str:
    return f"solution:{entry['name']}"


def _say(on_line: Callable[[str], None] | None, text: str) -> None:
    if on_line is not None:
        on_line(text)


def run_step(kernel: Kernel, step: Step, label: str, lock_dir: str | None,
             on_line: Callable[[str], None] | None) -> dict[str, Any]:
    """Resolve and run (or find in the cache) one prepare step; failures name the step."""
    from ..workflow import run

    lock = os.path.join(lock_dir, f"{step.name}.yaml") if lock_dir else None
    try:
        return run(kernel, step.kind, None, step.tags, step.version, {}, None, lock=lock,
                   on_line=on_line)
    except CKError as exc:
        raise type(exc)(f"{label}: step {step.name!r} ({step.kind} --tags={step.tags}) "
                        f"failed: {exc.message}", **exc.details) from None


def prepare(kernel: Kernel, entry: dict[str, Any], manifest: Manifest,
            inputs: dict[str, Any] | None, on_line: Callable[[str], None] | None,
            lock_dir: str | None = None) -> dict[str, dict[str, Any]]:
    """Run the prepare steps active for ``inputs`` (all of them when None), in order."""
    label = label_of(entry)
    steps = [s for s in manifest.prepare if inputs is None or s.active(inputs)]
    done: dict[str, dict[str, Any]] = {}
    for i, step in enumerate(steps, 1):
        _say(on_line, f"[{i}/{len(steps)}] {step.name}: {step.kind} --tags={step.tags}"
                      + (f" --version='{step.version}'" if step.version else ""))
        started = time.perf_counter()
        result = run_step(kernel, step, label, lock_dir, on_line)
        result["seconds"] = round(time.perf_counter() - started, 3)
        state = "cached" if result.get("cached") else "done"
        _say(on_line, f"[{i}/{len(steps)}] {step.name}: {state}"
                      + (f" ({result['version']})" if result.get("version") else "")
                      + f" in {result['seconds']:.1f} s")
        done[step.name] = result
    return done


def _check_python(kernel: Kernel, manifest: Manifest, label: str) -> dict[str, Any]:
    """The newest interpreter found in the manifest's Python range (detection is cached)."""
    from ..errors import NotFound, Unsatisfiable

    try:
        found = kernel.call({"action": "detect", "automation": "soft",
                             "tags": ["python", "interpreter"], "version": manifest.python})
    except NotFound as exc:  # none in the range: the error says what there is outside it
        found = {"list": [], "message": exc.message}
    if not found.get("list"):
        why = found.get("message") or "nothing was found"
        raise Unsatisfiable(f"{label} needs Python {manifest.python}: {why} (install one, "
                            "e.g. with the system's package manager or pyenv)")
    best = found["list"][0]
    return {"path": best.get("path"), "version": best.get("version")}


def init(kernel: Kernel, entry: dict[str, Any], backend: str | None = None,
         on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``ck init solution:X``: detect Python, then prepare every step (or those of one
    backend), each from the cache when it is there."""
    manifest = load_manifest(entry)
    label = label_of(entry)
    inputs = None
    if backend is not None:
        inputs = bind_inputs(manifest, {"backend": backend}, label)
    python = _check_python(kernel, manifest, label)
    _say(on_line, f"{label}: Python {python['version']} at {python['path']} "
                  f"(needs {manifest.python})")
    started = time.perf_counter()
    done = prepare(kernel, entry, manifest, inputs, on_line)
    from .run import check_runtime

    backends = [b for b in manifest.run.model if backend is None or b == backend]
    check_runtime(manifest, done, backends, label)
    steps: list[dict[str, Any]] = [{"step": name, "name": r.get("name"), "version": r.get("version"),
              "cached": bool(r.get("cached")), "seconds": r.get("seconds"),
              "path": r.get("path")} for name, r in done.items()]
    lines = [f"{label}: ready ({len(steps)} steps, {time.perf_counter() - started:.1f} s)"]
    width = max(len(s["step"]) for s in steps) if steps else 0
    for s in steps:
        lines.append(f"  {s['step'].ljust(width)}  {'cached   ' if s['cached'] else 'installed'}"
                     f"  {s['name']} {s['version'] or ''}".rstrip())
    lines.append(f"next: ck benchmark {label}" + (f" --backend={backend}" if backend else ""))
    return {"solution": entry["name"], "python": python, "steps": steps,
            "text": "\n".join(lines)}


def benchmark(kernel: Kernel, entry: dict[str, Any], given: dict[str, Any],
              output: str | None = None, submit: bool = False, hub: str | None = None,
              on_line: Callable[[str], None] | None = None,
              locked: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``ck benchmark solution:X``: see :mod:`.run` (and :mod:`.generic` for command and
    workflow runs). ``locked``: the lock nodes a replay pins (see :func:`check_locked`)."""
    from .run import run_benchmark

    manifest = load_manifest(entry)
    inputs = bind_inputs(manifest, given, label_of(entry))
    if manifest.run.harness != "mlperf-loadgen":
        from .harness import check_templates

        check_templates(manifest, label_of(entry))
    if inputs.get("device") not in (None, "cpu"):  # a GPU run is refused before preparing
        from ..mlperf.harness import check_device

        try:
            check_device(str(inputs["device"]), str(inputs.get("backend")))
        except CKError as exc:
            raise type(exc)(f"{label_of(entry)}: {exc.message}") from None
    if output:  # refuse an unusable --output before anything is prepared
        from .run import check_output

        check_output(output, label_of(entry))
    if manifest.run.harness == "mlperf-loadgen" or manifest.run.python is not None:
        _check_python(kernel, manifest, label_of(entry))
    if locked is not None:
        check_locked(kernel, entry, manifest, inputs, locked)
    if not any(step.active(inputs) for step in manifest.prepare):
        steps: dict[str, dict[str, Any]] = {}
        lock: dict[str, Any] = {"format": None, "nodes": []}
    else:
        lock_dir = tempfile.mkdtemp(prefix="ck-solution-lock-")
        try:
            steps = prepare(kernel, entry, manifest, inputs, on_line, lock_dir)
            lock = _merge_locks(lock_dir)
        finally:
            shutil.rmtree(lock_dir, ignore_errors=True)
    return run_benchmark(kernel, entry, manifest, inputs, steps, lock, output, submit, hub,
                         on_line)


def _merge_locks(folder: str) -> dict[str, Any]:
    """One lock of every prepare step's graph (nodes shared by steps appear once)."""
    from ..workflow import read_lock

    nodes: list[dict[str, Any]] = []
    seen: set[str] = set()
    fmt = None
    for name in sorted(os.listdir(folder)):
        data = read_lock(os.path.join(folder, name))
        fmt = data.get("format", fmt)
        for node in data.get("nodes") or []:
            key = str(node.get("key") or node.get("ident"))
            if key not in seen:
                seen.add(key)
                nodes.append(node)
    return {"format": fmt, "nodes": nodes}


def check_locked(kernel: Kernel, entry: dict[str, Any], manifest: Manifest,
                 inputs: dict[str, Any], locked: list[dict[str, Any]]) -> None:
    """Plan every active prepare step (nothing runs) and refuse, with
    :class:`~cknowledge.errors.Unsatisfiable`, a plan whose components differ from the
    recorded lock (another version, another cache key)."""
    from ..errors import Unsatisfiable
    from ..workflow import read_lock, run

    recorded = {str(n.get("ident")): n for n in locked}
    folder = tempfile.mkdtemp(prefix="ck-solution-plan-")
    differences: list[str] = []
    try:
        for step in manifest.prepare:
            if not step.active(inputs):
                continue
            path = os.path.join(folder, f"{step.name}.yaml")
            run(kernel, step.kind, None, step.tags, step.version, {}, None, dry_run=True,
                lock=path)
            for node in read_lock(path).get("nodes") or []:
                was = recorded.get(str(node.get("ident")))
                if was is None:
                    differences.append(f"{node.get('kind')}:{node.get('name')} was not in "
                                       "the recorded lock")
                elif was.get("version") != node.get("version"):
                    differences.append(f"{node.get('kind')}:{node.get('name')} "
                                       f"{was.get('version')} → {node.get('version')}")
                elif was.get("key") != node.get("key"):
                    differences.append(f"{node.get('kind')}:{node.get('name')}: another "
                                       "cache key (its inputs or files changed)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if differences:
        raise Unsatisfiable(f"{label_of(entry)}: the recorded lock cannot be reproduced "
                            "here: " + "; ".join(differences))


def replay_run(kernel: Kernel, artifact: str, inputs: dict[str, Any],
               locked: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Run a recorded solution benchmark again with its inputs (and lock); what
    :func:`cknowledge.experiments.analysis.replay` compares. An invalid run is compared
    too (its problems go with it)."""
    from ..errors import CommandFailed
    from ..store.cid import parse_artifact

    entry = kernel.store.load("solution", parse_artifact(artifact))
    try:
        summary = benchmark(kernel, entry, dict(inputs), locked=locked)
        warnings: list[str] = []
    except CommandFailed as exc:
        invalid = exc.details.get("result")
        if not isinstance(invalid, dict) or "experiment" not in invalid:
            raise
        summary = invalid
        warnings = [f"the replayed run is not valid: {'; '.join(summary['problems'])}"]
    saved = kernel.store.load("experiment", parse_artifact(
        f"{summary['experiment']['repo']}:{summary['experiment']['name']}"))
    meta = saved["meta"]
    from ..experiments.record import SECTIONS

    measured = {k: meta.get(k) for k in SECTIONS}
    measured["samples"] = {k: v["samples"] for k, v in (meta.get("metrics") or {}).items()}
    measured["units"] = {k: v.get("unit") or "" for k, v in (meta.get("metrics") or {}).items()}
    measured["warnings"] = warnings
    measured["replay_experiment"] = summary["experiment"]
    return measured
