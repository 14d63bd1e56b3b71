"""An MLCommons inference submission tree built from recorded benchmark runs.

::

    OUT/<division>/<submitter>/
        model_mapping.json                     open: our model -> the official benchmark
        src/<solution>/                        the harness and the solution that ran
        systems/<system>.json                  every field the checker requires
        results/<system>/<model>/<scenario>/
            performance/run_1/  mlperf_log_summary.txt  mlperf_log_detail.txt
            accuracy/  mlperf_log_summary.txt  mlperf_log_detail.txt  accuracy.txt
                       mlperf_log_accuracy.json (truncated; its sha256 in accuracy.txt)
            measurements.json  user.conf  README.md

This is the layout of the MLPerf Inference round whose LoadGen the harness runs
(:data:`VERSION`: LoadGen 6.0.17's built-in mlperf.conf carries that round's seeds), as
the submission checker of the pinned inference sources reads it. A system is one machine
with one runtime (``<machine>-<backend>``). The tree is a pure function of the runs: the
same runs give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from typing import Any

from ..errors import InvalidInput, NotFound
from ..store.cid import check_name
from . import runs as runlib
from . import sysdesc

VERSION = "v6.1"
DIVISIONS = ("open", "closed", "network")
# the official benchmark an object detector on COCO is measured against in this round
BENCHMARK = "yolo-95"
BENCHMARKS = ("yolo-95", "yolo-99")
PERFORMANCE_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt")
ACCURACY_FILES = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "accuracy.txt",
                  "mlperf_log_accuracy.json")
MAX_ACCURACY_LOG = 10 * 1024  # the checker's limit on a truncated accuracy log
VIEWABLE = 4096  # MLCommons keeps the first and the last 4 KiB
RUNNER_FILES = ("main.py", "harness.py", "conf.py", "backends.py", "dataset.py",
                "accuracy.py", "common.py")


def closed_refusal(label: str, model: str) -> str:
    return (f"{label}: the closed division is refused: its runs measure {model}, which with "
            f"its dataset is not the official model and dataset of an MLPerf Inference "
            f"{VERSION} closed benchmark (object detection there is YOLO on its COCO subset, "
            "1525 images; ssd-mobilenet left the closed division after v2.0); submit them to "
            "the open division (--division=open), which maps the model onto that benchmark")


def truncate(log: str, dst_log: str, accuracy_txt: str, dst_txt: str) -> str:
    """MLCommons' truncation: the sha256 of the whole accuracy log goes on a ``hash=``
    line of accuracy.txt, and the log keeps its first and last 4 KiB."""
    digest = hashlib.sha256()
    with open(log, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    with open(accuracy_txt, encoding="utf-8") as fh:
        text = fh.read()
    with open(dst_txt, "w", encoding="utf-8") as fh:
        fh.write(text + f"\nhash={digest.hexdigest()}\n")
    size = os.path.getsize(log)
    if size < VIEWABLE:
        shutil.copyfile(log, dst_log)
        return digest.hexdigest()
    with open(log, "rb") as fh:
        head = fh.read(VIEWABLE)
        fh.seek(size - VIEWABLE)
        tail = fh.read(VIEWABLE)
    with open(dst_log, "wb") as fh:
        fh.write(head + b"\n\n...\n\n" + tail)
    return digest.hexdigest()


def _json(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")


def _copy(src_dir: str, names: tuple[str, ...], dst_dir: str) -> None:
    os.makedirs(dst_dir, exist_ok=True)
    for name in names:
        src = os.path.join(src_dir, name)
        if not os.path.isfile(src):
            raise NotFound(f"{src} is missing: the run's logs are incomplete; record the run "
                           "again")
        shutil.copyfile(src, os.path.join(dst_dir, name))


def _framework(run: runlib.Run) -> str:
    for report in run.modes.values():
        runtime = (report.get("versions") or {}).get("runtime")
        if runtime:
            return str(runtime)
    return run.backend


def _software(run: runlib.Run) -> str:
    versions = (run.modes.get("performance") or {}).get("versions") or {}
    parts = [f"Python {(run.modes.get('performance') or {}).get('python') or ''}".strip()]
    parts += [f"{k} {v}" for k, v in sorted(versions.items()) if k != "runtime"]
    return ", ".join(p for p in parts if p)


def measurements(run: runlib.Run, model: str) -> dict[str, Any]:
    """The fields the checker requires of measurements.json, and what ran."""
    report = run.modes.get("performance") or {}
    weights = os.path.basename(str(report.get("model") or "")) or model
    onnx = run.backend == "onnxruntime"
    return {
        "input_data_types": "uint8",
        "retraining": "no",
        "starting_weights_filename": weights,
        "weight_data_types": "fp32",
        "weight_transformations": "TensorFlow frozen graph converted to ONNX with tf2onnx"
        if onnx else "none (the TensorFlow frozen graph as published)",
        "backend": run.backend, "framework": _framework(run),
        "experiment": run.experiment, "scenario": run.scenario,
        "samples": report.get("count"),
    }


def readme(solution: str, run: runlib.Run, model: str, benchmark: str) -> str:
    perf = run.modes.get("performance") or {}
    settings = perf.get("effective_settings") or {}
    inputs = " ".join(f"--{k}={v}" for k, v in sorted(run.inputs.items())
                      if v is not None and k not in ("backend", "scenario"))
    lines = [f"# {model} ({run.backend}, {run.scenario})", "",
             f"Measured with cknowledge's MLPerf harness (solution:{solution}) under MLPerf "
             f"LoadGen, against the {benchmark} benchmark (open division).", "",
             "## Reproduce", "", "```bash", f"ck init solution:{solution}",
             f"ck benchmark solution:{solution} --backend={run.backend} "
             f"--scenario={run.scenario} {inputs}".rstrip(), "```", "",
             f"Recorded as experiment:{run.experiment}. LoadGen read its built-in mlperf.conf "
             "and the user.conf beside this file; what it ran with:", ""]
    lines += [f"- {k}: {settings[k]}" for k in sorted(settings)]
    return "\n".join(lines) + "\n"


def _code(dst: str, solution: str, solution_path: str | None) -> None:
    """The harness sources of this cknowledge and the solution's manifest (the runs record
    the versions of what ran; rebuild with the cknowledge that made them)."""
    from .harness import RUNNER_DIR

    os.makedirs(os.path.join(dst, "runner"), exist_ok=True)
    for name in RUNNER_FILES:
        src = os.path.join(RUNNER_DIR, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(dst, "runner", name))
    if solution_path and os.path.isfile(os.path.join(solution_path, "meta.yaml")):
        shutil.copyfile(os.path.join(solution_path, "meta.yaml"),
                        os.path.join(dst, "solution.yaml"))
    with open(os.path.join(dst, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(f"# solution:{solution}\n\nThe MLPerf LoadGen harness of cknowledge "
                 "(`runner/`, run in the solution's managed venv as `python -I "
                 "runner/main.py ...`) and the solution manifest (`solution.yaml`) that "
                 "prepared the venv, the model and the dataset. "
                 f"`ck benchmark solution:{solution}` runs it.\n")


def check_inputs(division: str, submitter: str, benchmark: str, label: str,
                 model: str) -> None:
    if division not in DIVISIONS:
        raise InvalidInput(f"{label}: --division={division} is not an MLPerf division: use "
                           "open (closed and network need the official model)")
    if division != "open":
        raise InvalidInput(closed_refusal(label, model))
    check_name(submitter, what="submitter (--submitter)")
    if benchmark not in BENCHMARKS:
        raise InvalidInput(f"{label}: --benchmark={benchmark} is not the object-detection "
                           f"benchmark of MLPerf Inference {VERSION}: use "
                           f"{' or '.join(BENCHMARKS)}")


def _inference_source(kernel: Any, source: str | None, on_line: Any) -> str:
    if source is None:
        from .checker import install_source

        return install_source(kernel, on_line)
    if not os.path.isdir(os.path.join(source, "compliance")):
        raise NotFound(f"--source={source} has no compliance/ folder: name a checkout of the "
                       "MLCommons inference sources")
    return os.path.abspath(source)


def _output(output: str, label: str) -> str:
    folder = os.path.abspath(output)
    if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise InvalidInput(f"{label}: --output={output} exists and is not an empty folder: "
                           "name a new one (a submission tree is written whole)")
    parent = os.path.dirname(folder)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise InvalidInput(f"{label}: --output={output}: {parent} is not a writable folder")
    return folder


def wanted_systems(runs: list[runlib.Run], backends: list[str] | None
                   ) -> list[tuple[str, str]]:
    """The (machine, backend) pairs the tree holds: those of the runs (of ``backends``
    when given, each on every machine that has runs)."""
    machines = sorted({r.machine() for r in runs}) or [""]
    if backends:
        return [(m, b) for m in machines for b in backends]
    return sorted({(r.machine(), r.stack()) for r in runs}) or [("", "tensorflow")]


def build(kernel: Any, entry: dict[str, Any], model: str, division: str, submitter: str,
          output: str, names: list[str] | None = None, scenarios: list[str] | None = None,
          benchmark: str = BENCHMARK, system: dict[str, Any] | None = None,
          draft: bool = False, backends: list[str] | None = None,
          compliance: list[str] | None = None, source: str | None = None,
          on_line: Any = None) -> dict[str, Any]:
    """Write the submission tree of ``entry``'s recorded runs into ``output``; with
    ``compliance`` (e.g. ``["TEST01"]``) run those tests for each run first (once: the
    run folder keeps them), with the inference sources of ``source`` or the package."""
    solution = entry["name"]
    label = f"solution:{solution}"
    check_inputs(division, submitter, benchmark, label, model)
    folder = _output(output, label)
    all_runs = runlib.recorded(kernel, solution, names)
    chosen, refused = runlib.choose(all_runs, draft)
    want_scenarios = scenarios or ["Offline", "SingleStream"]
    systems = wanted_systems(all_runs, backends)
    missing = runlib.lacking(solution, chosen, refused, systems, want_scenarios, draft)
    if missing:
        raise NotFound(f"{label}: the submission lacks {len(missing)} run"
                       f"{'s' if len(missing) > 1 else ''}: " + "; ".join(missing),
                       missing=missing)
    picked = [chosen[(m, b, s)] for m, b in systems for s in want_scenarios]
    tests: dict[str, dict[str, str]] = {}
    if compliance:
        from . import compliance as comp

        unknown = [t for t in compliance if t not in comp.TESTS]
        if unknown:
            raise InvalidInput(f"{label}: unknown compliance test {', '.join(unknown)}: use "
                               f"{', '.join(comp.TESTS)}")
        src = _inference_source(kernel, source, on_line)
        for run in picked:
            tests[run.experiment] = {t: comp.run_test(run, t, src, on_line)
                                     for t in compliance}
    from ..detect.platform import platform_facts

    here = platform_facts().get("fingerprint")
    parent = os.path.dirname(folder)
    work = tempfile.mkdtemp(prefix=".ck-submission-", dir=parent)
    try:
        root = os.path.join(work, division, submitter)
        rows = _write(root, solution, entry.get("path"), model, division, submitter,
                      benchmark, picked, system or {}, here, tests)
        if os.path.isdir(folder):
            os.rmdir(folder)
        os.rename(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"output": folder, "division": division, "submitter": submitter,
            "version": VERSION, "benchmark": benchmark, "model": model, "results": rows,
            "draft": draft,
            "text": _text(label, folder, rows, division, submitter, draft)}


def _write(root: str, solution: str, solution_path: str | None, model: str, division: str,
           submitter: str, benchmark: str, picked: list[runlib.Run],
           given: dict[str, Any], here: str | None,
           tests: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    _code(os.path.join(root, "src", solution), solution, solution_path)
    _json(os.path.join(root, "model_mapping.json"), {model: benchmark})
    rows = []
    systems: dict[str, dict[str, Any]] = {}
    for run in picked:
        name = check_name(f"{run.machine()}-{run.stack()}", what="MLPerf system name")
        if name not in systems:
            systems[name] = sysdesc.describe(
                name, run.platform, _framework(run), division, submitter, _software(run),
                here=run.platform.get("fingerprint") == here, given=given,
                device=run.device())
        base = os.path.join(root, "results", name, model, run.scenario)
        _copy(run.raw("performance"), PERFORMANCE_FILES,
              os.path.join(base, "performance", "run_1"))
        acc = run.raw("accuracy")
        _copy(acc, ("mlperf_log_summary.txt", "mlperf_log_detail.txt"),
              os.path.join(base, "accuracy"))
        digest = truncate(os.path.join(acc, "mlperf_log_accuracy.json"),
                          os.path.join(base, "accuracy", "mlperf_log_accuracy.json"),
                          os.path.join(acc, "accuracy.txt"),
                          os.path.join(base, "accuracy", "accuracy.txt"))
        shutil.copyfile(os.path.join(run.raw("performance"), "user.conf"),
                        os.path.join(base, "user.conf"))
        _json(os.path.join(base, "measurements.json"), measurements(run, model))
        with open(os.path.join(base, "README.md"), "w", encoding="utf-8") as fh:
            fh.write(readme(solution, run, model, benchmark))
        verdicts = {}
        for test, folder in sorted((tests.get(run.experiment) or {}).items()):
            from .compliance import verdict

            shutil.copytree(folder, os.path.join(base, test))
            verdicts[test] = verdict(folder)
        perf = (run.modes.get("performance") or {}).get("loadgen_results") or {}
        rows.append({"compliance": verdicts, "system": name, "model": model, "scenario": run.scenario,
                     "experiment": run.experiment, "result": perf.get("result"),
                     "metric": perf.get("metric"), "metric_value": perf.get("metric_value"),
                     "mAP_percent": (run.modes.get("accuracy") or {}).get("mAP_percent"),
                     "accuracy_log_sha256": digest})
    os.makedirs(os.path.join(root, "systems"), exist_ok=True)
    for name, desc in systems.items():
        _json(os.path.join(root, "systems", name + ".json"), desc)
    return rows


def _text(label: str, folder: str, rows: list[dict[str, Any]], division: str,
          submitter: str, draft: bool) -> str:
    lines = [f"{label}: MLPerf Inference {VERSION} {division} submission of {submitter} "
             f"({len(rows)} result{'s' if len(rows) != 1 else ''}) in {folder}"]
    for row in rows:
        lines.append(f"  {row['system']}/{row['model']}/{row['scenario']}: "
                     f"{row['metric']}={row['metric_value']} mAP={row['mAP_percent']}% "
                     f"(experiment:{row['experiment']})")
        for test, checks in row["compliance"].items():
            words = ", ".join(f"{name[len('verify_'):-4]} {'PASS' if ok else 'FAIL'}"
                              for name, ok in sorted(checks.items()))
            lines.append(f"    {test}: {words}")
    if draft:
        lines.append("draft: runs shorter than MLPerf's 600 s minimum are included; the "
                     "checker rejects them")
    lines.append(f"next: ck check submission {folder}")
    return "\n".join(lines)
