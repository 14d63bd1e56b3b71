"""What a solution run shows: its row beside the manifest's reference rows (text and HTML)."""

from __future__ import annotations

import html as _html

from .manifest import Manifest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONFIG = ("scenario", "backend", "count")


def table(manifest: Manifest, inputs: dict[str, Any], metrics: dict[str, float | None],
          valid: bool) -> list[dict[str, Any]]:
    """This run first, then the reference rows of the same scenario, then the others."""
    rows = [{"source": "this run" + ("" if valid else " (INVALID)"),
             **{k: inputs.get(k) for k in CONFIG}, "metrics": metrics, "platform": "here"}]
    refs = sorted(manifest.reference,
                  key=lambda r: (r.config.get("scenario") != inputs.get("scenario"),
                                 r.config.get("backend") != inputs.get("backend")))
    for ref in refs:
        rows.append({"source": ref.label, **{k: ref.config.get(k) for k in CONFIG},
                     "metrics": dict(ref.metrics), "platform": ref.platform,
                     "measured": ref.measured})
    names = [m.name for m in manifest.metrics]
    for row in rows:
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
    header = ["", *CONFIG, *(titles[n] for n in names)]
    body = [[r["source"], *(_fmt(r.get(k)) for k in CONFIG),
             *(_fmt(r["metrics"].get(n)) for n in names)] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
           for line in [header, *body]]
    refs = [r for r in rows[1:] if r.get("platform")]
    if refs:
        out.append("")
        out += [f"{r['source']}: {r['platform']}" + (f", {r['measured']}" if r.get("measured")
                                                     else "") for r in refs]
    return "\n".join(out)


def html(label: str, manifest: Manifest, rows: list[dict[str, Any]], experiment: str,
         meta: dict[str, Any], summary: dict[str, Any]) -> str:
    """The run's page: the result beside the references, then the experiment's own report
    (provenance, statistics, environment)."""
    from ..experiments.report import html_report

    esc = _html.escape
    names = rows[0]["columns"] if rows else []
    titles = rows[0]["titles"] if rows else {}
    head = "".join(f"<th>{esc(h)}</th>" for h in ["", *CONFIG, *(titles[n] for n in names),
                                                   "platform"])
    body = []
    for i, r in enumerate(rows):
        cls = ' class="this"' if i == 0 else ""
        cells = [r["source"], *(_fmt(r.get(k)) for k in CONFIG),
                 *(_fmt(r["metrics"].get(n)) for n in names), r.get("platform") or ""]
        body.append(f"<tr{cls}>" + "".join(f"<td>{esc(str(c))}</td>" for c in cells) + "</tr>")
    status = "VALID" if summary["valid"] else "INVALID: " + "; ".join(summary["problems"])
    section = (f"<h1>{esc(label)}</h1><p>{esc(manifest.title)}</p>"
               f"<p>run: <b>{esc(status)}</b>; results layout: <code>{esc(summary['results'])}"
               f"</code></p><h2>result beside the references</h2>"
               f"<table id=\"results\"><tr>{head}</tr>{''.join(body)}</table>")
    page = html_report(experiment, meta)
    marker = "<body>"
    at = page.find(marker)
    if at < 0:  # pragma: no cover - html_report always writes a body
        return page
    style = "<style>tr.this td{font-weight:bold;background:#eef6ff}</style>"
    page = page.replace("</head>", style + "</head>", 1)
    at = page.find(marker)
    return page[:at + len(marker)] + section + page[at + len(marker):]
