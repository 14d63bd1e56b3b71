"""A benchmark run of a ``command`` or ``workflow`` solution: repetitions, metrics, rules,
experiment, report, result file, ``--submit``.

The run folder (``--output``, default ``$CK_HOME/solutions/NAME/runs/STAMP``) holds
``raw/<i>/`` per repetition (the command's working folder: its output log, its metrics
file, its exports; a workflow step's result), the manifest's ``result`` file and
``report.html``. ``INCOMPLETE`` marks it until the run is recorded, as for every solution
run (:mod:`.run`). Warm-up repetitions run first and are not measured.
"""

from __future__ import annotations

import os
import threading
import time

from ..errors import CKError, CommandFailed
from .harness import Context, check_rules, check_templates, extract, run_command, run_workflow
from .manifest import Manifest
from .run import _say, finish_run, mark_incomplete, run_folder, why_stopped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel


def run_generic(kernel: Kernel, entry: dict[str, Any], manifest: Manifest,
                inputs: dict[str, Any], steps: dict[str, dict[str, Any]],
                lock: dict[str, Any], output: str | None, submit: bool, hub: str | None,
                on_line: Callable[[str], None] | None) -> dict[str, Any]:
    label = f"solution:{entry['name']}"
    check_templates(manifest, label)
    ctx = Context(manifest, entry, inputs, steps, label)
    folder = run_folder(kernel, entry["name"], inputs, output, label)
    try:
        summary = _run_in(kernel, entry, manifest, ctx, steps, lock, folder, on_line)
    except BaseException as exc:  # Ctrl-C and SIGTERM too: the folder must not look done
        mark_incomplete(folder, why_stopped(exc))
        raise
    meta = summary.pop("_meta")
    if submit and summary["problems"]:  # an invalid result would mislead the scoreboard
        summary["submitted"] = None
    elif submit:
        summary["submitted"] = submit_run(manifest, entry, summary, meta, lock, hub)
    rows = summary.pop("_rows")
    summary["text"] = _text(label, rows, summary)
    if summary["problems"]:
        raise CommandFailed(f"{label}: the run is not valid: {'; '.join(summary['problems'])} "
                            f"(logs: {folder}; recorded as experiment:"
                            f"{summary['experiment']['name']}, marked invalid"
                            + ("; not submitted" if submit else "") + ")",
                            result=summary)
    return summary


def _run_in(kernel: Kernel, entry: dict[str, Any], manifest: Manifest, ctx: Context,
            steps: dict[str, dict[str, Any]], lock: dict[str, Any], folder: str,
            on_line: Callable[[str], None] | None) -> dict[str, Any]:
    from ..experiments.record import experiment_meta, save
    from ..experiments.stats import summarize

    spec = manifest.run
    label = ctx.label
    # the environment (platform, env, the repos' git state: a few git calls) is captured
    # while the command runs, not after it: the harness adds as little as it can
    captured: dict[str, Any] = {}
    env_thread = threading.Thread(target=_capture, args=(kernel, lock, entry, captured),
                                  daemon=True)
    env_thread.start()
    samples: dict[str, list[float]] = {m.name: [] for m in manifest.metrics}
    runs: list[dict[str, Any]] = []
    from ..experiments.energy import EnergyMeter

    meter = EnergyMeter()
    energy: list[float] = []
    total = spec.warmup + spec.repetitions
    for i in range(total):
        warm = i < spec.warmup
        rep_dir = os.path.join(folder, "raw", f"warmup-{i + 1}" if warm
                               else str(i - spec.warmup + 1))
        _say(on_line, f"{label}: {'warm-up' if warm else 'repetition'} "
                      f"{i + 1 if warm else i - spec.warmup + 1}/"
                      f"{spec.warmup if warm else spec.repetitions} -> {rep_dir}")
        before = meter.read() if meter.available and not warm else None
        if spec.harness == "command":
            run = run_command(ctx, rep_dir, on_line)
        else:
            run = run_workflow(kernel, ctx, rep_dir)
        if warm:
            continue
        if before is not None:  # CPU package energy of the repetition (RAPL, where readable)
            energy.append(meter.joules(before, meter.read()))
        got = extract(manifest, run, rep_dir, label)
        for name, values in got.items():
            samples[name].extend(values)
        result = run.get("result") or {}
        runs.append({"folder": rep_dir, "seconds": round(run["time"], 6),
                     "command": run["command"],
                     **({"valid": result["valid"]} if "valid" in result else {})})
    means = {k: float(summarize(v)["mean"]) for k, v in samples.items() if v}
    problems, verdicts = check_rules(manifest, means)
    bad = [r["folder"] for r in runs if r.get("valid") is False]
    if bad:
        problems.insert(0, f"the workflow step's output check failed in {len(bad)} of "
                           f"{len(runs)} repetitions ({bad[0]})")
    env_thread.join()
    if "error" in captured:
        raise captured["error"]
    measured = {
        "component": {"automation": "solution", "name": entry["name"], "uid": entry["uid"],
                      "repo": entry.get("repo")},
        "inputs": dict(ctx.inputs),
        "samples": {**samples, **({"energy_j": energy} if energy
                                  and "energy_j" not in samples else {})},
        "units": {m.name: m.unit for m in manifest.metrics} | {"energy_j": "J"},
        "energy": meter.describe(),
        "lock": lock, **captured["value"],
        "details": {"run_folder": folder, "harness": spec.harness, "runs": runs,
                    "repetitions": spec.repetitions, "warmup": spec.warmup,
                    "valid": not problems, "problems": problems, "rules": verdicts,
                    "steps": {n: {"name": r.get("name"), "version": r.get("version"),
                                  "cached": r.get("cached"), "path": r.get("path")}
                              for n, r in steps.items()}}}
    meta = experiment_meta(measured)
    meta["kind"] = "solution-benchmark"
    meta["valid"] = not problems
    saved = save(kernel, meta)
    summary: dict[str, Any] = {
        "solution": entry["name"], "inputs": ctx.inputs, "metrics": means,
        "statistics": {k: v["stats"] for k, v in meta["metrics"].items() if k in means},
        "valid": not problems, "problems": problems, "rules": verdicts,
        "run_folder": folder, "harness": spec.harness,
        "experiment": {"name": saved["name"], "repo": saved["repo"], "uid": saved["uid"]},
        "platform": (meta.get("platform") or {}).get("fingerprint")}
    from .report import generic_html, table

    here = _platform_text(meta.get("platform") or {})
    rows = table(manifest, ctx.inputs, dict(means), not problems, here,
                 columns=tuple(manifest.inputs))
    return finish_run(folder, manifest, summary, rows, meta,
                      lambda: generic_html(label, manifest, rows, saved["name"], meta, summary,
                                           runs))


def _capture(kernel: Kernel, lock: dict[str, Any], entry: dict[str, Any],
             out: dict[str, Any]) -> None:
    from ..experiments.drift import capture

    try:
        out["value"] = capture(kernel, lock.get("nodes") or [], entry.get("repo"), {}, ())
    except BaseException as exc:  # re-raised in the run's own thread
        out["error"] = exc


def _platform_text(platform: dict[str, Any]) -> str:
    cpu = platform.get("cpu") or {}
    memory = platform.get("memory") or {}
    distro = (platform.get("distro") or {}).get("pretty_name") or platform.get("os")
    python = (platform.get("python") or {})
    parts = [cpu.get("model") or platform.get("arch") or "unknown CPU",
             f"{cpu.get('logical_cores')} logical cores" if cpu.get("logical_cores") else "",
             f"{memory.get('total_gib')} GiB" if memory.get("total_gib") else "",
             str(distro or ""),
             f"Python {python.get('version')}" if isinstance(python, dict)
             and python.get("version") else ""]
    return ", ".join(p for p in parts if p)


def platform_summary(platform: dict[str, Any]) -> dict[str, Any]:
    """The facts a hub submission carries: what nearest-platform search compares."""
    cpu = platform.get("cpu") or {}
    memory = platform.get("memory") or {}
    return {"os": platform.get("os"), "arch": platform.get("arch"), "cpu": cpu.get("model"),
            "cores": cpu.get("logical_cores"), "physical_cores": cpu.get("physical_cores"),
            "memory_gib": memory.get("total_gib") or platform.get("memory_gib"),
            "cpu_mhz": cpu.get("max_mhz") or cpu.get("mhz")}


def submission(manifest: Manifest, entry: dict[str, Any], inputs: dict[str, Any],
               metrics: dict[str, float], statistics: dict[str, Any], meta: dict[str, Any],
               experiment: dict[str, Any], lock: dict[str, Any]) -> dict[str, Any]:
    """A hub submission with its provenance: components (versions or cache keys), the
    lockfile, the platform's fingerprint and facts, the experiment it was recorded as."""
    platform = meta.get("platform") or {}
    return {
        "solution": {"name": entry["name"],
                     "version": str((entry.get("meta") or {}).get("version") or "0")},
        "components": [{"component": f"{n.get('kind')}:{n.get('name')}",
                        "version": str(n.get("version") or f"key:{str(n.get('key'))[:16]}")}
                       for n in lock.get("nodes") or []],
        "config": {k: v for k, v in inputs.items() if v is not None},
        "metrics": {k: v for k, v in metrics.items() if v is not None},
        "statistics": {k: {"mean": s["mean"], "ci95": s.get("ci95_half"), "cv": s.get("cv"),
                           "n": s["n"]} for k, s in statistics.items()},
        "platform": {"fingerprint": platform.get("fingerprint"),
                     "facts": {k: v for k, v in platform_summary(platform).items()
                               if v is not None}},
        "lockfile": lock,
        "experiment": {"uid": experiment["uid"], "recorded_at": meta.get("created")},
        "reference": False,
    }


def submit_run(manifest: Manifest, entry: dict[str, Any], summary: dict[str, Any],
               meta: dict[str, Any], lock: dict[str, Any], hub: str | None) -> dict[str, Any]:
    from ..client import submit_result

    body = submission(manifest, entry, summary["inputs"], summary["metrics"],
                      summary["statistics"], meta, summary["experiment"], lock)
    try:
        return submit_result(manifest.scoreboard, body, hub=hub)
    except CKError as exc:
        raise type(exc)(f"the run is recorded (experiment:{summary['experiment']['name']}) "
                        f"but submitting it failed: {exc.message}", **exc.details) from None


def scoreboard_spec(manifest: Manifest, entry: dict[str, Any]) -> dict[str, Any]:
    """The hub scoreboard a solution's results go to, as ``POST /api/v1/scoreboards``
    takes it: the manifest's metrics (unit, direction) and its inputs as config keys."""
    return {"name": manifest.scoreboard, "title": manifest.title or entry["name"],
            "description": manifest.description,
            "metrics": [{"name": m.name, "unit": m.unit, "better": m.better}
                        for m in manifest.metrics],
            "config_keys": list(manifest.inputs)}


def create_scoreboard(kernel: Kernel, entry: dict[str, Any], hub: str | None
                      ) -> dict[str, Any]:
    """``ck scoreboard solution:X``: create the solution's scoreboard on the hub (an
    admin's token); one that exists already is code 8."""
    from ..client.config import settings
    from ..client.http import HubClient
    from ..home import home_dir
    from .manifest import load_manifest

    manifest = load_manifest(entry)
    spec = scoreboard_spec(manifest, entry)
    with HubClient(settings(home_dir(kernel.home), hub)) as client:
        made = client.post_json("/scoreboards", json=spec)
        url = client.url
    return {**made, "hub": url, "text": f"scoreboard {spec['name']} created on {url} with "
            f"metrics {', '.join(m['name'] for m in spec['metrics'])}; `ck benchmark "
            f"solution:{entry['name']} --submit` and `ck autotune ... --submit` feed it"}


def _text(label: str, rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    from .report import render_rows

    lines = [f"{label}: {'VALID' if summary['valid'] else 'INVALID'} run, recorded as "
             f"experiment:{summary['experiment']['name']}", "", render_rows(rows), ""]
    for verdict in summary.get("rules") or []:
        lines.append(f"rule {verdict['rule']}: {'ok' if verdict['ok'] else 'FAILED'}")
    lines.append(f"run folder:  {summary['run_folder']}")
    lines.append(f"HTML report: {summary['report']}")
    if summary.get("submitted"):
        sub = summary["submitted"]
        lines.append(f"submitted:   result {sub.get('id')}"
                     + (" (already on the hub)" if sub.get("duplicate") else ""))
    return "\n".join(lines)
