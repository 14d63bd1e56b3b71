"""What a solution run shows: its row beside the manifest's reference rows (text and HTML).

The HTML page is the run's own: the result beside the references, what LoadGen reported
for each mode, the software that ran (runtime versions from the harness, every prepared
component with its version or cache key), the system, and the environment. A single run
has one sample per metric, so spread statistics and box plots are left to
``ck report experiment:NAME`` over repeated runs.
"""

from __future__ import annotations

import html as _html

from .manifest import Manifest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

CONFIG = ("scenario", "backend", "count")


def table(manifest: Manifest, inputs: dict[str, Any], metrics: dict[str, float | None],
          valid: bool, platform: str = "this machine",
          columns: tuple[str, ...] = CONFIG) -> list[dict[str, Any]]:
    """This run first, then the reference rows of the same scenario, then the others;
    ``columns``: the inputs shown (the MLPerf ones by default)."""
    rows = [{"source": "this run" + ("" if valid else " (INVALID)"),
             **{k: inputs.get(k) for k in columns}, "metrics": metrics, "platform": platform}]
    refs = sorted(manifest.reference,
                  key=lambda r: tuple(r.config.get(k) != inputs.get(k) for k in columns))
    for ref in refs:
        rows.append({"source": ref.label, **{k: ref.config.get(k) for k in columns},
                     "metrics": dict(ref.metrics), "platform": ref.platform,
                     "measured": ref.measured})
    names = [m.name for m in manifest.metrics]
    for row in rows:
        row["config_columns"] = list(columns)
        row["columns"] = names
        row["titles"] = {m.name: (m.title or m.name) + (f" ({m.unit})" if m.unit else "")
                         for m in manifest.metrics}
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def render_rows(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    names = rows[0]["columns"]
    titles = rows[0]["titles"]
    config = rows[0].get("config_columns") or CONFIG
    header = ["", *config, *(titles[n] for n in names)]
    body = [[r["source"], *(_fmt(r.get(k)) for k in config),
             *(_fmt(r["metrics"].get(n)) for n in names)] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
           for line in [header, *body]]
    out.append("")
    out += [f"{r['source']}: {r['platform']}" + (f", {r['measured']}" if r.get("measured")
                                                 else "") for r in rows if r.get("platform")]
    return "\n".join(out)


_STYLE = """body{font-family:sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;
padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.this td{font-weight:bold;
background:#eef6ff}.ok{color:#060;font-weight:bold}.bad{color:#b00;font-weight:bold}
pre{background:#f7f7f7;padding:1em;overflow:auto}code{font-size:.9em}"""


def _kv(rows: list[tuple[str, Any]]) -> str:
    esc = _html.escape
    return "<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(_fmt(v))}</td></tr>"
                               for k, v in rows) + "</table>"


def _loadgen(raw: dict[str, Any]) -> str:
    """One column per mode: what LoadGen's summary says."""
    esc = _html.escape
    modes = list(raw)
    if not modes:
        return "<p>no LoadGen run</p>"

    def yes(v: Any) -> str:
        return "-" if v is None else ("yes" if v else "NO")

    fields: list[tuple[str, Any]] = [
        ("LoadGen result", lambda r: r.get("result") or "(accuracy run: no result)"),
        ("scenario / mode", lambda r: f"{r.get('scenario')} / {r.get('mode')}"),
        ("min duration satisfied", lambda r: yes(r.get("min_duration_satisfied"))),
        ("min queries satisfied", lambda r: yes(r.get("min_queries_satisfied"))),
        ("early stopping satisfied", lambda r: yes(r.get("early_stopping_satisfied"))),
        ("min duration (ms)", lambda r: (r.get("parameters") or {}).get("min_duration_ms")),
        ("max duration (ms, 0: none)",
         lambda r: (r.get("parameters") or {}).get("max_duration_ms")),
        ("min query count", lambda r: (r.get("parameters") or {}).get("min_query_count")),
        ("samples per query", lambda r: (r.get("parameters") or {}).get("samples_per_query")),
        ("LoadGen errors / warnings",
         lambda r: f"{len(r.get('detail_errors') or [])} / "
                   f"{len(r.get('detail_warnings') or [])}"),
    ]
    head = "<tr><th></th>" + "".join(f"<th>{esc(m)}</th>" for m in modes) + "</tr>"
    body = []
    for title, get in fields:
        cells = "".join(f"<td>{esc(_fmt(get(raw[m].get('loadgen_results') or {})))}</td>"
                        for m in modes)
        body.append(f"<tr><th>{esc(title)}</th>{cells}</tr>")
    files = "".join(f"<tr><th>{esc(m)} logs</th><td colspan=\"{len(modes)}\"><code>"
                    f"{esc(str(raw[m].get('output')))}</code></td></tr>" for m in modes)
    return f"<table>{head}{''.join(body)}{files}</table>"


def _software(raw: dict[str, Any], meta: dict[str, Any]) -> str:
    esc = _html.escape
    report: dict[str, Any] = next(iter(raw.values()), {})
    versions = {k: v for k, v in (report.get("versions") or {}).items() if k != "runtime"}
    rows = [("Python (solution venv)", report.get("python"))] + sorted(versions.items())
    parts = ["<h3>in the solution venv</h3>", _kv(rows), "<h3>prepared components</h3>",
             "<table><tr><th>component</th><th>version</th><th>cache key</th></tr>"]
    for node in (meta.get("lock") or {}).get("nodes") or []:
        version = node.get("version") or "(unversioned)"
        parts.append(f"<tr><td>{esc(str(node.get('kind')))}:{esc(str(node.get('name')))}"
                     f"</td><td>{esc(str(version))}</td>"
                     f"<td><code>{esc(str(node.get('key') or '-'))}</code></td></tr>")
    parts.append("</table>")
    return "".join(parts)


def _results_table(rows: list[dict[str, Any]], config: Sequence[str]) -> str:
    """This run (first row) beside the references: config columns, metrics, platform."""
    esc = _html.escape
    names = rows[0]["columns"] if rows else []
    titles = rows[0]["titles"] if rows else {}
    head = "".join(f"<th>{esc(h)}</th>" for h in ["", *config, *(titles[n] for n in names),
                                                   "platform"])
    body = []
    for i, r in enumerate(rows):
        cls = ' class="this"' if i == 0 else ""
        cells = [f"<td>{esc(str(r['source']))}</td>"]
        cells += [f"<td>{esc(_fmt(r.get(k)))}</td>" for k in config]
        cells += [f"<td class=\"num\">{esc(_fmt(r['metrics'].get(n)))}</td>" for n in names]
        where = str(r.get("platform") or "") + (f", {r['measured']}" if r.get("measured")
                                                else "")
        cells.append(f"<td>{esc(where)}</td>")
        body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    return f"<table id=\"results\"><tr>{head}</tr>{''.join(body)}</table>"


def _status(summary: dict[str, Any]) -> str:
    if summary["valid"]:
        return '<span class="ok">VALID</span>'
    return ('<span class="bad">INVALID</span><ul>'
            + "".join(f"<li>{_html.escape(p)}</li>" for p in summary["problems"]) + "</ul>")


def _inputs(summary: dict[str, Any]) -> str:
    return " ".join(f"--{k}={v}" for k, v in (summary.get("inputs") or {}).items()
                    if v is not None)


def _system(meta: dict[str, Any], *extra: tuple[str, Any]) -> str:
    platform = meta.get("platform") or {}
    cpu = platform.get("cpu") or {}
    memory = platform.get("memory") or {}
    return _kv([("CPU", f"{cpu.get('model')} ({cpu.get('logical_cores')} logical cores)"),
                ("memory (GiB)", memory.get("total_gib")),
                ("OS", (platform.get("distro") or {}).get("pretty_name") or platform.get("os")),
                ("kernel", platform.get("kernel")), ("architecture", platform.get("arch")),
                ("platform fingerprint", platform.get("fingerprint")), *extra])


def _environment(meta: dict[str, Any]) -> str:
    env_text = "\n".join(f"{k}={v}" for k, v in (meta.get("env") or {}).items())
    return f"<pre>{_html.escape(env_text) or '(none recorded)'}</pre>"


def _page(label: str, experiment: str, sections: list[str]) -> str:
    esc = _html.escape
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{esc(label)}: {esc(experiment)}</title><style>{_STYLE}</style></head>"
            "<body>" + "\n".join(sections) + "</body></html>\n")


def html(label: str, manifest: Manifest, rows: list[dict[str, Any]], experiment: str,
         meta: dict[str, Any], summary: dict[str, Any],
         raw: dict[str, Any] | None = None) -> str:
    """The run's page: the result beside the references, LoadGen's verdicts, the software
    and system that ran it, and the environment."""
    esc = _html.escape
    raw = raw or {}
    sections = [
        f"<h1>{esc(label)}</h1><p>{esc(manifest.title)}</p>",
        f"<p>run: {_status(summary)}</p>",
        _kv([("inputs", _inputs(summary)), ("recorded as", f"experiment:{experiment}"),
             ("created", meta.get("created")), ("run folder", summary.get("run_folder")),
             ("results layout", summary.get("results"))]),
        "<h2>result beside the references</h2>", _results_table(rows, CONFIG),
        "<p>Offline latencies are LoadGen's, from the issue of the one query to each "
        "sample's completion; Offline is judged by its QPS, SingleStream by its p90 "
        "latency.</p>",
        "<h2>LoadGen</h2>", _loadgen(raw),
        "<h2>software</h2>", _software(raw, meta),
        "<h2>system</h2>", _system(meta, ("energy", meta.get("energy"))),
        f"<p>Statistics over repeated runs: <code>ck report experiment:{esc(experiment)}"
        "</code> of each, or <code>ck compare experiment</code>.</p>",
        "<h2>environment</h2>", _environment(meta),
    ]
    return _page(label, experiment, sections)


def generic_html(label: str, manifest: Manifest, rows: list[dict[str, Any]], experiment: str,
                 meta: dict[str, Any], summary: dict[str, Any],
                 runs: list[dict[str, Any]]) -> str:
    """The page of a command or workflow run: the result beside the references with each
    metric's spread, the validation rules, every repetition, the software and system."""
    esc = _html.escape
    config = rows[0].get("config_columns") or [] if rows else []
    stats = summary.get("statistics") or {}
    stat_rows = "".join(
        f"<tr><td>{esc(n)}</td><td class=\"num\">{esc(_fmt(s.get('n')))}</td>"
        f"<td class=\"num\">{esc(_fmt(s.get('mean')))}</td>"
        f"<td class=\"num\">{esc(_fmt(s.get('ci95_half')))}</td>"
        f"<td class=\"num\">{esc(_fmt(s.get('min')))}</td>"
        f"<td class=\"num\">{esc(_fmt(s.get('max')))}</td>"
        f"<td>{'NOISY' if s.get('noisy') else ''}</td></tr>" for n, s in stats.items())
    rules = "".join(f"<li>{esc(v['rule'])}: {'ok' if v['ok'] else 'FAILED'}</li>"
                    for v in summary.get("rules") or []) or "<li>(none)</li>"
    rep_rows = "".join(f"<tr><td>{i + 1}</td><td class=\"num\">{esc(_fmt(r['seconds']))}</td>"
                       f"<td><code>{esc(r['command'])}</code></td>"
                       f"<td><code>{esc(r['folder'])}</code></td></tr>"
                       for i, r in enumerate(runs))
    sections = [
        f"<h1>{esc(label)}</h1><p>{esc(manifest.title)}</p>", f"<p>run: {_status(summary)}</p>",
        _kv([("inputs", _inputs(summary)), ("harness", summary.get("harness")),
             ("recorded as", f"experiment:{experiment}"), ("created", meta.get("created")),
             ("run folder", summary.get("run_folder"))]),
        "<h2>result beside the references</h2>", _results_table(rows, config),
        "<h2>statistics</h2><table><tr><th>metric</th><th>n</th><th>mean</th>"
        f"<th>95% CI ±</th><th>min</th><th>max</th><th></th></tr>{stat_rows}</table>",
        f"<h2>validation rules</h2><ul>{rules}</ul>",
        "<h2>repetitions</h2><table><tr><th>#</th><th>seconds</th><th>command</th>"
        f"<th>folder</th></tr>{rep_rows}</table>",
        "<h2>software</h2>", _software({}, meta),
        "<h2>system</h2>", _system(meta),
        "<h2>environment</h2>", _environment(meta),
    ]
    return _page(label, experiment, sections)
