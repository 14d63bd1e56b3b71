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


INCOMPLETE = "INCOMPLETE"  # in a run folder until the run has finished and been recorded


def check_output(output: str, label: str) -> str:
    """The absolute run folder ``--output`` names, refused when it cannot be one."""
    folder = os.path.abspath(output)
    if os.path.isfile(folder) or (os.path.exists(folder) and not os.path.isdir(folder)):
        raise InvalidInput(f"{label}: --output={output} is a file, not a folder: name a new "
                           "or empty folder")
    if os.path.isdir(folder) and os.listdir(folder):
        raise InvalidInput(f"{label}: --output={output}: the folder exists and is not empty; "
                           "name a new or empty folder")
    parent = folder
    while not os.path.isdir(parent):
        up = os.path.dirname(parent)
        if os.path.exists(parent) or up == parent:  # a file on the way, or nothing at all
            raise InvalidInput(f"{label}: --output={output}: {parent} is not a folder; name "
                               "a folder that can be created")
        parent = up
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InvalidInput(f"{label}: --output={output}: {parent} is not writable; name a "
                           "folder you can write to")
    return folder


def run_folder(kernel: Kernel, name: str, inputs: dict[str, Any], output: str | None,
               label: str) -> str:
    """Create the run folder (claimed atomically: two runs never share one) and mark it
    incomplete until the run is recorded."""
    try:
        if output:
            folder = check_output(output, label)
            os.makedirs(folder, exist_ok=True)
            try:  # claim it: another run may be starting in the same empty folder
                fd = os.open(os.path.join(folder, INCOMPLETE),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                raise InvalidInput(f"{label}: --output={output} is in use by another run; "
                                   "name a new or empty folder") from None
            os.close(fd)
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            tag = "".join(f"-{inputs[k]}" for k in ("backend", "scenario") if inputs.get(k))
            base = os.path.join(kernel.home, "solutions", name, "runs", stamp + tag)
            os.makedirs(os.path.dirname(base), exist_ok=True)
            folder, i = base, 1
            while True:
                try:
                    os.mkdir(folder)
                    break
                except FileExistsError:
                    i += 1
                    folder = f"{base}-{i}"
    except OSError as exc:
        raise InvalidInput(f"{label}: cannot create the run folder "
                           f"{output or os.path.join(kernel.home, 'solutions')}: "
                           f"{exc.strerror}; name a writable folder with --output") from None
    mark_incomplete(folder, "the run has not finished")
    return folder


def why_stopped(exc: BaseException) -> str:
    """What stopped a run, for its INCOMPLETE marker."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, CKError):
        return exc.message
    if isinstance(getattr(exc, "signum", None), int):  # the CLI's SIGTERM/SIGHUP
        return f"stopped by signal {getattr(exc, 'signum')}"
    return f"{type(exc).__name__}: {exc}"


def mark_incomplete(folder: str, why: str) -> None:
    """Say in the run folder that it holds no finished run, and why."""
    try:
        with open(os.path.join(folder, INCOMPLETE), "w", encoding="utf-8") as fh:
            fh.write(f"this run did not finish: {why}\nnothing here is a result; the logs "
                     "are kept for diagnosis\n")
    except OSError:
        pass


def _value(steps: dict[str, dict[str, Any]], manifest: Manifest, step: str, var: str,
           label: str) -> str:
    if step not in steps:
        when = manifest.step(step).when
        raise InvalidInput(f"{label}: the run needs step {step!r}, which these inputs leave "
                           f"out (it runs only when {when}); check the solution's `when`")
    env = steps[step].get("new_env") or {}
    value = env.get(var)
    if not value:
        raise CommandFailed(f"{label}: step {step!r} exported no {var}; its exports: "
                            f"{', '.join(sorted(env)) or 'none'} (check the step's entry, "
                            f"or clear its cache entry with `ck rm cache` and run again)")
    return str(value)


def _rebuild_hint(manifest: Manifest, steps: dict[str, dict[str, Any]], message: str,
                  label: str) -> str:
    """What to do when the harness failed on something a prepare step made: the step whose
    cached files the message names (or the venv's step for a missing module)."""
    culprit = None
    if "missing from the solution venv" in message and manifest.run.python is not None:
        culprit = manifest.run.python.step
    else:
        for name, result in steps.items():
            path = str(result.get("path") or "")
            if path and path in message:
                culprit = name
                break
    if culprit is None:
        return ""
    step = manifest.step(culprit)
    return (f"; to rebuild step {culprit!r}: `ck rm cache --tags={step.tags}`, then "
            f"`ck init {label}`")


def check_runtime(manifest: Manifest, steps: dict[str, dict[str, Any]],
                  backends: list[str], label: str) -> None:
    """Refuse a prepared venv that lacks a package the harness needs for ``backends``
    (e.g. one removed by hand): the cache entry only records that the venv exists."""
    from ..errors import CacheError
    from ..mlperf.harness import missing_packages

    ref = manifest.run.python
    if manifest.run.harness != "mlperf-loadgen" or ref is None or ref.step not in steps:
        return
    python = _value(steps, manifest, ref.step, ref.var, label)
    if not os.access(python, os.X_OK):
        return  # not an interpreter at all: the harness run says so, naming the file
    try:
        missing = missing_packages(python, backends)
    except CommandFailed:
        return  # an interpreter that cannot run: likewise
    if missing:
        step = manifest.step(ref.step)
        raise CacheError(f"{label}: the venv of step {ref.step!r} "
                         f"({os.path.dirname(os.path.dirname(python))}) "
                         f"lacks {', '.join(missing)}: rebuild it with `ck rm cache "
                         f"--tags={step.tags}` and then `ck init {label}`")


def dataset_size(folder: str) -> int | None:
    """The number of images a COCO-folder dataset lists (None when it cannot be read: the
    harness then says why)."""
    try:
        with open(os.path.join(folder, "annotations", "instances.json"),
                  encoding="utf-8") as fh:
            images = json.load(fh).get("images")
    except (OSError, ValueError, AttributeError):
        return None
    return len(images) if isinstance(images, list) else None


def run_benchmark(kernel: Kernel, entry: dict[str, Any], manifest: Manifest,
                  inputs: dict[str, Any], steps: dict[str, dict[str, Any]],
                  lock: dict[str, Any], output: str | None, submit: bool, hub: str | None,
                  on_line: Callable[[str], None] | None) -> dict[str, Any]:
    label = f"solution:{entry['name']}"
    spec = manifest.run
    if spec.harness != "mlperf-loadgen":  # a command or a workflow step: see .generic
        from .generic import run_generic

        return run_generic(kernel, entry, manifest, inputs, steps, lock, output, submit, hub,
                           on_line)
    assert spec.python is not None and spec.dataset is not None
    backend = str(inputs.get("backend"))
    if backend not in spec.model:
        raise InvalidInput(f"{label} has no model for --backend={backend}")
    python = _value(steps, manifest, spec.python.step, spec.python.var, label)
    model = _value(steps, manifest, spec.model[backend].step, spec.model[backend].var, label)
    dataset = _value(steps, manifest, spec.dataset.step, spec.dataset.var, label)
    check_runtime(manifest, steps, [backend], label)
    size = dataset_size(dataset)
    count = inputs.get("count")
    if size is not None and count is not None and int(count) > size:
        raise InvalidInput(f"{label}: --count={count} is more than the {size} images of the "
                           f"dataset (step {spec.dataset.step!r}, {dataset}); use --count={size} "
                           "or less, or leave --count out to use them all")
    folder = run_folder(kernel, entry["name"], inputs, output, label)
    try:
        summary = _run_in(kernel, entry, manifest, inputs, steps, lock, folder, python, model,
                          dataset, label, on_line)
    except BaseException as exc:  # Ctrl-C and SIGTERM too: the folder must not look done
        mark_incomplete(folder, why_stopped(exc))
        raise
    if submit and summary["problems"]:  # an invalid result would mislead the scoreboard
        summary["submitted"] = None
    elif submit:
        summary["submitted"] = _submit(manifest, entry, summary["inputs"], summary["metrics"],
                                       summary.pop("_meta"), summary["experiment"], lock, hub)
    summary.pop("_meta", None)
    summary["text"] = _text(label, summary.pop("_rows"), summary)
    if summary["problems"]:
        raise CommandFailed(f"{label}: the run is not valid: {'; '.join(summary['problems'])} "
                            f"(logs: {folder}; recorded as experiment:"
                            f"{summary['experiment']['name']}, marked invalid"
                            + ("; not submitted" if submit else "") + ")",
                            result=summary)
    return summary


def _run_in(kernel: Kernel, entry: dict[str, Any], manifest: Manifest,
            inputs: dict[str, Any], steps: dict[str, dict[str, Any]], lock: dict[str, Any],
            folder: str, python: str, model: str, dataset: str, label: str,
            on_line: Callable[[str], None] | None) -> dict[str, Any]:
    """The harness runs, the layout and its check, the experiment, report and result file;
    the INCOMPLETE marker goes last."""
    from ..mlperf.harness import run_harness
    from ..mlperf.layout import check, system_description, write_results
    from ..experiments.drift import capture
    from ..experiments.energy import EnergyMeter

    spec = manifest.run
    backend = str(inputs.get("backend"))
    scenario = str(inputs.get("scenario"))
    count = int(inputs.get("count") or 0) or None
    threads = int(inputs.get("threads") or 0) or None
    duration = spec.min_duration_ms if inputs.get("duration_ms") is None \
        else int(inputs["duration_ms"])
    max_duration = int(inputs.get("max_duration_ms") or 0) or None
    meter = EnergyMeter()
    quiet_line = _harness_lines(on_line)
    raw: dict[str, Any] = {}
    energy_j = None
    for mode in spec.modes:
        out = os.path.join(folder, "raw", mode)
        _say(on_line, f"{label}: LoadGen {scenario} {mode} run ({backend}) -> {out}")
        before = meter.read() if meter.available and mode == "performance" else None
        started = time.perf_counter()
        try:
            raw[mode] = run_harness(
                python=python, backend=backend, model=model, dataset=dataset,
                scenario=scenario, mode=mode, count=count, threads=threads or 0, output=out,
                min_duration_ms=duration, max_duration_ms=max_duration,
                timeout=spec.timeout_s, on_line=quiet_line,
                device=str(inputs.get("device") or "cpu"))
        except CKError as exc:
            raise type(exc)(f"{label}: {exc.message}"
                            f"{_rebuild_hint(manifest, steps, exc.message, label)} "
                            f"(logs: {out})", **exc.details) from None
        raw[mode]["seconds"] = round(time.perf_counter() - started, 3)
        raw[mode]["output"] = out
        if before is not None:
            energy_j = meter.joules(before, meter.read())
    used = (raw.get("performance") or raw.get("accuracy") or {}).get("count")
    if used is not None:  # what the harness ran, whatever was asked
        inputs = {**inputs, "count": used}
    from ..detect.platform import platform_facts

    facts = platform_facts()
    system = _system_name(facts)
    results_dir = os.path.join(folder, "results")
    layout = write_results(results_dir, system, str(spec.model_name), scenario,
                           performance=(raw.get("performance") or {}).get("output"),
                           accuracy=(raw.get("accuracy") or {}).get("output"),
                           system_desc=system_description(system, _framework(raw, backend)))
    problems: list[str] = []
    checked: dict[str, Any] = {"ok": None}
    try:
        if "mlperf-results" in manifest.checks:
            checked = check(results_dir)
    except CKError as exc:
        checked = {"ok": False}
        problems += list(exc.details.get("problems") or [exc.message])
    perf = (raw.get("performance") or {}).get("loadgen_results") or {}
    if perf.get("valid") is False:  # say it in the solution's own inputs
        problems = [p for p in problems if "performance run is INVALID" not in p]
        problems.insert(0, _invalid_reason(perf, scenario, duration, max_duration))
    metrics = _metrics(raw, energy_j)
    min_map = manifest.validate_.min_map
    got_map = metrics.get("map")
    if min_map is not None and got_map is not None and got_map < min_map:
        problems.append(f"mAP {got_map:.3f}% is below the solution's floor {min_map}%")
    here = _platform_text(facts, raw)
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
                    "platform_text": here,
                    "harness": {m: {k: v for k, v in r.items() if k != "log_tail"}
                                for m, r in raw.items()},
                    "steps": {n: {"name": r.get("name"), "version": r.get("version"),
                                  "cached": r.get("cached"), "path": r.get("path")}
                              for n, r in steps.items()}}}
    from ..experiments.record import experiment_meta, save

    meta = experiment_meta(measured)
    meta["kind"] = "solution-benchmark"
    meta["valid"] = not problems
    saved = save(kernel, meta)
    summary: dict[str, Any] = {
        "solution": entry["name"], "inputs": inputs, "metrics": metrics,
        "valid": not problems, "problems": problems, "run_folder": folder,
        "results": results_dir, "system": system, "platform_text": here,
        "experiment": {"name": saved["name"], "repo": saved["repo"], "uid": saved["uid"]},
        "platform": meta["platform"].get("fingerprint"),
        # what LoadGen ran with: its built-in mlperf.conf, then the run's user.conf
        "loadgen_settings": {m: r.get("effective_settings") for m, r in raw.items()}}
    from .report import html, table

    rows = table(manifest, inputs, metrics, not problems, here)
    return finish_run(folder, manifest, summary, rows, meta,
                      lambda: html(label, manifest, rows, saved["name"], meta, summary, raw))


def finish_run(folder: str, manifest: Manifest, summary: dict[str, Any],
               rows: list[dict[str, Any]], meta: dict[str, Any],
               page: Callable[[], str]) -> dict[str, Any]:
    """The last writes of a recorded run: ``report.html`` (``page()`` sees the summary
    with its report path), the result JSON, then the ``INCOMPLETE`` mark goes."""
    summary["report"] = os.path.join(folder, "report.html")
    with open(summary["report"], "w", encoding="utf-8") as fh:
        fh.write(page())
    summary["result_file"] = os.path.join(folder, manifest.result)
    with open(summary["result_file"], "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=1, sort_keys=True)
    os.remove(os.path.join(folder, INCOMPLETE))
    summary["_rows"] = rows
    summary["_meta"] = meta
    return summary


def _invalid_reason(perf: dict[str, Any], scenario: str, duration: int,
                    max_duration: int | None) -> str:
    failed = ", ".join(c.replace("_", " ").replace(" satisfied", "")
                       for c in perf.get("failed_checks") or []) or "see its summary"
    why = f"LoadGen ended the {scenario} performance run INVALID (not satisfied: {failed})"
    if max_duration and max_duration < duration:
        return (f"{why}: the cap --max_duration_ms={max_duration} is below the minimum "
                f"--duration_ms={duration}; raise the cap or leave it out")
    return (f"{why}: run longer, e.g. --duration_ms={max(2 * duration, 1000)}"
            + (f" (and a --max_duration_ms above it)" if max_duration else ""))


def _platform_text(facts: dict[str, Any], raw: dict[str, Any]) -> str:
    """This machine in the words of the reference rows: CPU, cores, memory, OS, Python and
    the runtime the harness used."""
    from ..mlperf.layout import os_text

    cpu = facts.get("cpu") or {}
    memory = facts.get("memory") or {}
    report: dict[str, Any] = next(iter(raw.values()), {})
    runtime = (report.get("versions") or {}).get("runtime")
    parts = [cpu.get("model") or facts.get("arch") or "unknown CPU",
             f"{cpu.get('logical_cores')} logical cores" if cpu.get("logical_cores") else "",
             f"{memory.get('total_gib')} GiB" if memory.get("total_gib") else "",
             os_text(facts),
             f"Python {report.get('python')}" if report.get("python") else "",
             str(runtime or "")]
    return ", ".join(p for p in parts if p)


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
    """The run to the hub, with its provenance (:func:`.generic.submission`)."""
    from ..experiments.stats import summarize
    from .generic import submit_run

    measured = {k: v for k, v in metrics.items() if v is not None}
    summary = {"inputs": inputs, "metrics": measured, "experiment": saved,
               "statistics": {k: summarize([v]) for k, v in measured.items()}}
    return submit_run(manifest, entry, summary, meta, lock, hub)


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
