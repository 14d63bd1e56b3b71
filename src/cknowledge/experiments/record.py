"""Experiment entries: what a benchmark records, and its table for people.

An ``experiment`` entry (``meta.json``) written by ``ck benchmark ... --record`` holds:

``kind``        ``benchmark``;
``component``   automation, name, uid and repo of what was measured;
``inputs``      what it was run with (opt, flags, dataset or the script's inputs,
                repetitions, warmup, ...): ``ck replay`` runs them again;
``lock``        the resolved dependency graph as ``--lock`` writes it (identifier, kind,
                entry, version, path, repo commit, cache key and its parts per node);
``platform``    every platform fact and the fingerprint; ``env``: the relevant process
                environment; ``step_env``: what the step declares; ``git``: the state of
                every repo involved; ``software``: cknowledge's version (see :mod:`.drift`);
``metrics``     ``{name: {"unit", "samples": [...], "stats": summarize(samples)}}`` — the
                raw repetitions and their statistics (:mod:`.stats`);
``energy``      the counters read, or ``"unavailable: <why>"``;
``noisy_cv``    the coefficient of variation above which a metric is marked noisy;
``details``, ``created``.
"""

from __future__ import annotations

import time

from ..store.cid import ArtifactRef
from .stats import NOISY_CV, summarize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel

KIND = "benchmark"
SECTIONS = ("component", "inputs", "lock", "platform", "env", "step_env", "git", "software",
            "energy", "details")


def metrics_of(samples: dict[str, list[float]], units: dict[str, str]) -> dict[str, Any]:
    return {name: {"unit": units.get(name, ""), "samples": list(values),
                   "stats": summarize(values)}
            for name, values in samples.items() if values}


def experiment_meta(measured: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"kind": KIND}
    for key in SECTIONS:
        meta[key] = measured.get(key)
    meta["metrics"] = metrics_of(measured["samples"], measured.get("units") or {})
    meta["noisy_cv"] = NOISY_CV
    meta["created"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return meta


def save(kernel: Kernel, meta: dict[str, Any], name: str | None = None,
         repo: str | None = None) -> dict[str, Any]:
    """Add the entry (``local`` repo by default); the name is given or
    ``<component>-<date>-<time>`` (with ``-2``, ``-3``... when taken)."""
    from ..errors import AlreadyExists

    component = meta["component"]["name"]
    tags = ["benchmark", str(component)]
    if name:
        return kernel.store.add("experiment", ArtifactRef(repo, name), meta=meta, tags=tags)
    base = f"{component}-{time.strftime('%Y%m%d-%H%M%S')}"
    for i in range(1, 1000):
        candidate = base if i == 1 else f"{base}-{i}"
        try:
            return kernel.store.add("experiment", ArtifactRef(repo, candidate), meta=meta,
                                    tags=tags)
        except AlreadyExists:
            continue
    raise AlreadyExists(f"too many experiments named {base}-N")


# -- text for people --------------------------------------------------------------------------
def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
            for row in [header, *rows]]


def metrics_table(metrics: dict[str, Any]) -> str:
    """One row per metric: n, mean, median, std, 95% CI, CV, noisy, outliers. A metric
    measured once shows its value and no spread (there is none to show)."""
    header = ["metric", "unit", "n", "mean", "median", "std", "95% CI", "CV", "noisy",
              "outliers"]
    rows = []
    for name, data in metrics.items():
        s = summarize(data["samples"])
        ci = f"[{fmt(s['ci95'][0])}, {fmt(s['ci95'][1])}]" if s["ci95"] else "-"
        cv = f"{s['cv'] * 100:.1f}%" if s["cv"] is not None else "-"
        noisy = "NOISY" if s["noisy"] else ("no" if s["n"] > 1 else "-")
        outliers = ",".join(f"#{i + 1}" for i in s["outliers"]) or "-"
        rows.append([name, data.get("unit") or "", str(s["n"]), fmt(s["mean"]),
                     fmt(s["median"]), fmt(s["std"]) if s["n"] > 1 else "-", ci, cv, noisy,
                     outliers])
    lines = _table(header, rows)
    if any(r[8] == "NOISY" for r in rows):
        lines.append(f"NOISY: coefficient of variation above {NOISY_CV:.0%}; the mean is not "
                     "a reliable single number")
    return "\n".join(lines)


def describe_inputs(meta: dict[str, Any]) -> str:
    comp = meta.get("component") or {}
    inputs = {k: v for k, v in (meta.get("inputs") or {}).items()
              if v not in (None, "", [], {})}
    shown = " ".join(f"{k}={v}" for k, v in inputs.items())
    return f"{comp.get('automation')}:{comp.get('name')} {shown}".strip()


def render(meta: dict[str, Any], title: str | None = None) -> str:
    platform = meta.get("platform") or {}
    cpu = (platform.get("cpu") or {}).get("model")
    lines = []
    if title:
        lines.append(title)
    lines.append(f"  what:     {describe_inputs(meta)}")
    lines.append(f"  platform: {platform.get('fingerprint')} ({platform.get('os')} "
                 f"{platform.get('arch')}, {cpu}, kernel {platform.get('kernel')})")
    energy = meta.get("energy")
    if isinstance(energy, dict):
        energy = f"{energy.get('source')}: {', '.join(energy.get('domains') or [])}"
    lines.append(f"  energy:   {energy}")
    if meta.get("created"):
        lines.append(f"  created:  {meta['created']}")
    lines.append("")
    lines.append(metrics_table(meta.get("metrics") or {}))
    return "\n".join(lines)


def finish(kernel: Kernel, measured: dict[str, Any], record: bool, name: str | None,
           repo: str | None) -> dict[str, Any]:
    """The result of ``ck benchmark``: statistics per metric (never one number where several
    were measured), and the entry when recorded (``--record``; ``--name`` implies it)."""
    meta = experiment_meta(measured)
    out: dict[str, Any] = {"component": meta["component"], "inputs": meta["inputs"],
                           "metrics": meta["metrics"], "energy": meta["energy"],
                           "noisy_cv": meta["noisy_cv"], "experiment": None,
                           "warnings": list(measured.get("warnings") or [])}
    title = "benchmark (not recorded: add --record to keep it)"
    if record or name:
        entry = save(kernel, meta, name, repo)
        out["experiment"] = {"name": entry["name"], "repo": entry["repo"], "uid": entry["uid"],
                             "path": entry["path"]}
        title = f"experiment:{entry['repo']}:{entry['name']} recorded"
    out["text"] = render(meta, title)
    if not out["warnings"]:
        del out["warnings"]
    return out
