"""One benchmark run of a solution: harness, results layout, checks, experiment, summary.

The run folder (``--output``, default ``$CK_HOME/solutions/NAME/runs/STAMP-BACKEND-SCENARIO``)
holds ``raw/<mode>/`` (what the harness wrote), ``results/`` (the MLPerf submission layout),
the manifest's ``result`` file (the summary as JSON) and ``report.html``.
"""

from __future__ import annotations

import json
import os
import time

from ..errors import CKError, CommandFailed, InvalidInput
from .manifest import Manifest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel

COLUMNS = ("source", "scenario", "backend", "count")


def _say(on_line: Callable[[str], None] | None, text: str) -> None:
    if on_line is not None:
        on_line(text)


def run_folder(kernel: Kernel, name: str, inputs: dict[str, Any], output: str | None) -> str:
    if output:
        folder = os.path.abspath(output)
        if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
            raise InvalidInput(f"--output={output}: the folder exists and is not empty; "
                               "name a new or empty folder")
    else:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = os.path.join(kernel.home, "solutions", name, "runs",
                            f"{stamp}-{inputs.get('backend')}-{inputs.get('scenario')}")
        folder, i = base, 1
        while os.path.exists(folder):
            i += 1
            folder = f"{base}-{i}"
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create the run folder {folder}: {exc.strerror}") from None
    return folder


def _value(steps: dict[str, dict[str, Any]], step: str, var: str, label: str) -> str:
    env = (steps.get(step) or {}).get("new_env") or {}
    value = env.get(var)
    if not value:
        raise CommandFailed(f"{label}: step {step!r} exported no {var}; its exports: "
                            f"{', '.join(sorted(env)) or 'none'} (check the step's entry, "
                            f"or clear its cache entry with `ck rm cache` and run again)")
    return str(value)


def run_benchmark(kernel: Kernel, entry: dict[str, Any], manifest: Manifest,
                  inputs: dict[str, Any], steps: dict[str, dict[str, Any]],
                  lock: dict[str, Any], output: str | None, submit: bool, hub: str | None,
                  on_line: Callable[[str], None] | None) -> dict[str, Any]:
    from ..mlperf.harness import run_harness
    from ..mlperf.layout import check, system_description, write_results
    from ..experiments.drift import capture
    from ..experiments.energy import EnergyMeter

    label = f"solution:{entry['name']}"
    spec = manifest.run
    backend = str(inputs.get("backend"))
    if backend not in spec.model:
        raise InvalidInput(f"{label} has no model for --backend={backend}")
    python = _value(steps, spec.python.step, spec.python.var, label)
    model = _value(steps, spec.model[backend].step, spec.model[backend].var, label)
    dataset = _value(steps, spec.dataset.step, spec.dataset.var, label)
    folder = run_folder(kernel, entry["name"], inputs, output)
    scenario = str(inputs.get("scenario"))
    count = int(inputs.get("count") or 0) or None
    threads = int(inputs.get("threads") or 0) or None
    duration = spec.min_duration_ms if inputs.get("duration_ms") is None \
        else int(inputs["duration_ms"])
    meter = EnergyMeter()
    quiet_line = _harness_lines(on_line)
    raw: dict[str, Any] = {}
    energy_j = None
    for mode in spec.modes:
        out = os.path.join(folder, "raw", mode)
        _say(on_line, f"{label}: LoadGen {scenario} {mode} run ({backend}) -> {out}")
        before = meter.read() if meter.available and mode == "performance" else None
        started = time.perf_counter()
        raw[mode] = run_harness(
            python=python, backend=backend, model=model, dataset=dataset, scenario=scenario,
            mode=mode, count=count, threads=threads or 0, output=out,
            min_duration_ms=duration, timeout=spec.timeout_s, on_line=quiet_line)
        raw[mode]["seconds"] = round(time.perf_counter() - started, 3)
        raw[mode]["output"] = out
        if before is not None:
            energy_j = meter.joules(before, meter.read())
    if inputs.get("count") is None:  # all images: say how many that was
        used = (raw.get("performance") or raw.get("accuracy") or {}).get("count")
        inputs = {**inputs, "count": used}
    from ..detect.platform import platform_facts

    facts = platform_facts()
    system = _system_name(facts)
    results_dir = os.path.join(folder, "results")
    layout = write_results(results_dir, system, spec.model_name, scenario,
                           performance=(raw.get("performance") or {}).get("output"),
                           accuracy=(raw.get("accuracy") or {}).get("output"),
                           system_desc=system_description(system, _framework(raw, backend)))
    problems: list[str] = []
    checked: dict[str, Any] = {"ok": None}
    try:
        if "mlperf-results" in manifest.validate_.checks:
            checked = check(results_dir)
    except CKError as exc:
        checked = {"ok": False}
        problems += list(exc.details.get("problems") or [exc.message])
    metrics = _metrics(raw, energy_j)
    min_map = manifest.validate_.min_map
    got_map = metrics.get("map")
    if min_map is not None and got_map is not None and got_map < min_map:
        problems.append(f"mAP {got_map:.3f}% is below the solution's floor {min_map}%")
    captured = capture(kernel, lock.get("nodes") or [], entry.get("repo"), {}, ())
    measured = {
        "component": {"automation": "solution", "name": entry["name"], "uid": entry["uid"],
                      "repo": entry.get("repo")},
        "inputs": dict(inputs),
        "samples": {k: [v] for k, v in metrics.items() if v is not None},
        "units": {k: "ms" for k in metrics if k.endswith("_ms")}
        | {m.name: m.unit for m in manifest.metrics} | {"energy_j": "J"},
        "energy": meter.describe(), "lock": lock, **captured,
        "details": {"run_folder": folder, "results": results_dir, "layout": layout,
                    "check": checked, "valid": not problems, "problems": problems,
                    "harness": {m: {k: v for k, v in r.items() if k != "log_tail"}
                                for m, r in raw.items()},
                    "steps": {n: {"name": r.get("name"), "version": r.get("version"),
                                  "cached": r.get("cached"), "path": r.get("path")}
                              for n, r in steps.items()}}}
    from ..experiments.record import experiment_meta, save

    meta = experiment_meta(measured)
    meta["kind"] = "solution-benchmark"
    saved = save(kernel, meta)
    summary = {"solution": entry["name"], "inputs": inputs, "metrics": metrics,
               "valid": not problems, "problems": problems, "run_folder": folder,
               "results": results_dir, "system": system,
               "experiment": {"name": saved["name"], "repo": saved["repo"], "uid": saved["uid"]},
               "platform": meta["platform"].get("fingerprint")}
    report = os.path.join(folder, "report.html")
    from .report import html, table

    rows = table(manifest, inputs, metrics, not problems)
    with open(report, "w", encoding="utf-8") as fh:
        fh.write(html(label, manifest, rows, saved["name"], meta, summary))
    summary["report"] = report
    result_file = os.path.join(folder, manifest.result)
    with open(result_file, "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True)
    summary["result_file"] = result_file
    if submit:
        summary["submitted"] = _submit(manifest, entry, inputs, metrics, meta, saved, lock, hub)
    summary["text"] = _text(label, rows, summary)
    if problems:
        from ..errors import CommandFailed as Failed

        raise Failed(f"{label}: the run is not valid: {'; '.join(problems)} (logs: "
                     f"{results_dir}; experiment:{saved['name']} records it)",
                     result=summary)
    return summary


def _harness_lines(on_line: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Progress lines of the harness without the runtime's start-up chatter and without its
    closing JSON report (which the result holds)."""
    if on_line is None:
        return None
    emit = on_line
    noise = ("WARNING: All log messages before absl", "oneDNN custom operations",
             "To enable the following instructions", "mlir_graph_optimization_pass")

    def filtered(line: str) -> None:
        text = line.strip()
        if text.startswith("{") or any(n in text for n in noise):
            return
        emit(line)

    return filtered


def _system_name(facts: dict[str, Any]) -> str:
    """A stable, file-safe name for this machine in the results layout."""
    cpu = facts.get("cpu") or {}
    cores = cpu.get("logical_cores") or "n"
    return f"{facts.get('arch') or 'cpu'}-{cores}c-{str(facts.get('fingerprint'))[:8]}"


def _framework(raw: dict[str, Any], backend: str) -> str:
    """The runtime and its version as the harness found them (e.g. tensorflow-cpu 2.21.0)."""
    for report in raw.values():
        runtime = (report.get("versions") or {}).get("runtime")
        if runtime:
            return str(runtime)
    return backend


def _metrics(raw: dict[str, Any], energy_j: float | None) -> dict[str, float | None]:
    perf = (raw.get("performance") or {}).get("loadgen_results") or {}
    latency = perf.get("latency_ns") or {}
    qps = perf.get("samples_per_second") if perf.get("scenario") == "Offline" \
        else perf.get("qps_with_loadgen_overhead")
    out: dict[str, float | None] = {
        "qps": None if qps is None else round(float(qps), 3),
        "latency_p50_ms": _ms(latency.get("p50")),
        "latency_p90_ms": _ms(latency.get("p90")),
        "latency_p99_ms": _ms(latency.get("p99")),
        "map": (raw.get("accuracy") or {}).get("mAP_percent"),
    }
    if energy_j is not None:
        out["energy_j"] = energy_j
    return out


def _ms(ns: Any) -> float | None:
    return None if ns is None else round(float(ns) / 1e6, 3)


def _submit(manifest: Manifest, entry: dict[str, Any], inputs: dict[str, Any],
            metrics: dict[str, float | None], meta: dict[str, Any], saved: dict[str, Any],
            lock: dict[str, Any], hub: str | None) -> dict[str, Any]:
    from ..client import submit_result
    from ..experiments.stats import summarize

    platform = meta.get("platform") or {}
    cpu = platform.get("cpu") or {}
    submission = {
        "solution": {"name": entry["name"], "version": str(entry["meta"].get("version") or "")
                     or None},
        # a component without a version is named by its cache key (what identifies it here)
        "components": [{"component": f"{n.get('kind')}:{n.get('name')}",
                        "version": str(n.get("version") or f"key:{str(n.get('key'))[:16]}")}
                       for n in lock.get("nodes") or []],
        "config": {k: v for k, v in inputs.items() if v is not None},
        "metrics": {k: v for k, v in metrics.items() if v is not None},
        "statistics": {k: summarize([v]) for k, v in metrics.items() if v is not None},
        "platform": {"fingerprint": platform.get("fingerprint"),
                     "facts": {"os": platform.get("os"), "arch": platform.get("arch"),
                               "cpu": cpu.get("model"), "cores": cpu.get("logical_cores"),
                               "memory_gib": platform.get("memory_gib")}},
        "lockfile": lock,
        "experiment": {"uid": saved["uid"], "recorded_at": meta.get("created")},
        "reference": False,
    }
    try:
        return submit_result(manifest.scoreboard, submission, hub=hub)
    except CKError as exc:
        raise type(exc)(f"the run is recorded (experiment:{saved['name']}) but submitting it "
                        f"failed: {exc.message}", **exc.details) from None


def _text(label: str, rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    from .report import render_rows

    lines = [f"{label}: {'VALID' if summary['valid'] else 'INVALID'} run, recorded as "
             f"experiment:{summary['experiment']['name']}", "", render_rows(rows), ""]
    lines.append(f"results layout: {summary['results']}")
    lines.append(f"HTML report:    {summary['report']}")
    if summary.get("submitted"):
        sub = summary["submitted"]
        lines.append(f"submitted:      result {sub.get('id')}"
                     + (" (already on the hub)" if sub.get("duplicate") else ""))
    return "\n".join(lines)
