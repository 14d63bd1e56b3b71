"""Experiments out of the store: sample tables (CSV, JSON, Parquet) and an HTML report.

:func:`rows` gives one row per (experiment, metric, repetition): ``experiment``,
``component``, ``metric``, ``unit``, ``repetition`` (1-based), ``value``, ``outlier``
(outside Tukey's fences within its metric) and ``noisy`` (the metric's coefficient of
variation is above the threshold). :func:`write_rows` writes them as CSV, JSON (a list of
objects) or Parquet (through pyarrow, imported only then).

:func:`html_report` is one self-contained page: the metadata, the statistics table and a
box plot per metric with every repetition shown (plotly, its JavaScript embedded, so the
page works offline).
"""

from __future__ import annotations

import html
import json
import os

from ..errors import InvalidInput
from .stats import summarize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("csv", "json", "parquet")
COLUMNS = ("experiment", "component", "metric", "unit", "repetition", "value", "outlier",
           "noisy")


def rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        meta = entry.get("meta") or {}
        comp = meta.get("component") or {}
        label = f"{comp.get('automation')}:{comp.get('name')}" if comp else None
        for metric, data in (meta.get("metrics") or {}).items():
            samples = [float(v) for v in data.get("samples") or []]
            if not samples:
                continue
            stats = summarize(samples)
            for i, value in enumerate(samples):
                out.append({"experiment": entry["name"], "component": label, "metric": metric,
                            "unit": data.get("unit") or "", "repetition": i + 1,
                            "value": value, "outlier": i in stats["outliers"],
                            "noisy": stats["noisy"]})
    return out


def write_rows(data: list[dict[str, Any]], path: str, fmt: str) -> None:
    from ..store.metaio import atomic_write_text

    if fmt not in FORMATS:
        raise InvalidInput(f"--format={fmt}: use one of {', '.join(FORMATS)}")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if fmt == "json":
        atomic_write_text(path, json.dumps(data, indent=1) + "\n")
    elif fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
        atomic_write_text(path, buf.getvalue())
    else:
        import importlib

        try:  # through importlib: pyarrow ships no type information
            pa = importlib.import_module("pyarrow")
            pq = importlib.import_module("pyarrow.parquet")
        except ImportError:
            raise InvalidInput("--format=parquet needs pyarrow, which is not installed: "
                               "pip install 'cknowledge[tune]'") from None
        schema = pa.schema([("experiment", pa.string()), ("component", pa.string()),
                            ("metric", pa.string()), ("unit", pa.string()),
                            ("repetition", pa.int64()), ("value", pa.float64()),
                            ("outlier", pa.bool_()), ("noisy", pa.bool_())])
        table = pa.Table.from_pylist(data, schema=schema)
        tmp = path + ".tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, path)


# -- HTML --------------------------------------------------------------------------------------
_STYLE = """body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}
.noisy{color:#b00;font-weight:bold}pre{background:#f7f7f7;padding:1em;overflow:auto}"""


def _esc(value: Any) -> str:
    return html.escape("-" if value is None else str(value))


def _stats_table(metrics: dict[str, Any]) -> str:
    from .record import fmt

    head = ["metric", "unit", "n", "mean", "median", "std", "min", "max", "95% CI", "CV",
            "noisy", "outliers"]
    body = []
    for name, data in metrics.items():
        s = summarize(data["samples"])
        ci = f"[{fmt(s['ci95'][0])}, {fmt(s['ci95'][1])}]" if s["ci95"] else "-"
        cv = f"{s['cv'] * 100:.1f}%" if s["cv"] is not None else "-"
        noisy = '<span class="noisy">NOISY</span>' if s["noisy"] else "no"
        cells = [_esc(name), _esc(data.get("unit")), str(s["n"]), fmt(s["mean"]),
                 fmt(s["median"]), fmt(s["std"]) if s["n"] > 1 else "-", fmt(s["min"]),
                 fmt(s["max"]), _esc(ci), _esc(cv), noisy,
                 _esc(", ".join(f"#{i + 1}" for i in s["outliers"]) or "-")]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
            + "".join(body) + "</table>")


def _plots(metrics: dict[str, Any]) -> str:
    import importlib

    try:  # through importlib: plotly ships no type information
        go = importlib.import_module("plotly.graph_objects")
    except ImportError:
        return "<p>(box plots need plotly: pip install plotly)</p>"
    parts: list[str] = []
    first = True
    for name, data in metrics.items():
        unit = data.get("unit") or ""
        fig = go.Figure(go.Box(y=list(data["samples"]), name=name, boxpoints="all",
                               jitter=0.3, boxmean="sd"))
        fig.update_layout(title=f"{name} ({len(data['samples'])} repetitions)",
                          yaxis_title=unit or name, height=380, width=520,
                          margin={"l": 60, "r": 20, "t": 50, "b": 40})
        parts.append(fig.to_html(full_html=False, include_plotlyjs=first,
                                 div_id=f"metric-{len(parts)}"))
        first = False
    return "\n".join(parts)


def html_report(name: str, meta: dict[str, Any]) -> str:
    from .drift import _flatten
    from .record import describe_inputs

    metrics = meta.get("metrics") or {}
    platform = meta.get("platform") or {}
    info: dict[str, Any] = {}
    _flatten({k: v for k, v in platform.items()
              if k not in ("fingerprint_parts",) and k != "cpu"}, "platform", info)
    cpu = platform.get("cpu") or {}
    info["platform.cpu"] = f"{cpu.get('model')} ({cpu.get('logical_cores')} logical cores)"
    facts = {"experiment": name, "what": describe_inputs(meta), "kind": meta.get("kind"),
             "created": meta.get("created"), "energy": meta.get("energy"),
             "noisy when CV above": meta.get("noisy_cv"), **info}
    for repo, state in (meta.get("git") or {}).items():
        if isinstance(state, dict):
            facts[f"git.{repo}"] = (f"{state.get('commit') or 'not a git checkout'}"
                                    + (" (with changes)" if state.get("dirty") else ""))
    for node in (meta.get("lock") or {}).get("nodes") or []:
        facts[f"lock {node.get('kind')}:{node.get('name')}"] = " ".join(
            str(x) for x in (node.get("version"), node.get("path")) if x) or "-"
    rows_html = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>"
                        for k, v in facts.items())
    env = meta.get("env") or {}
    env_text = "\n".join(f"{k}={v}" for k, v in env.items())
    body = [f"<h1>experiment {_esc(name)}</h1>", f"<table>{rows_html}</table>",
            "<h2>statistics</h2>",
            _stats_table(metrics) if metrics else "<p>no metrics recorded</p>"]
    if metrics:
        body += ["<h2>repetitions</h2>", _plots(metrics)]
    body += ["<h2>environment</h2>", f"<pre>{_esc(env_text)}</pre>"]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>experiment {_esc(name)}</title><style>{_STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
