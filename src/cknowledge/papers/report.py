"""The reproduction report: ``report.json`` (what ``--submit`` sends) and ``report.html``
(self-contained: the verdict table, the figures re-drawn from the new data beside the
original values as inline SVG, the drift per workflow, the platform and the badges)."""

from __future__ import annotations

import html
import json
import os
from typing import Any

from ..store.metaio import atomic_write_text
from .schema import Paper

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
text-align:left;vertical-align:top}.reproduced{background:#dfd}.not_reproduced{background:#fdd}
.not_comparable{background:#eee}.failed{background:#fc9}svg text{font-size:12px}
figure{margin:1em 0}figcaption{font-weight:bold}"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _rows(verdict: dict[str, Any]) -> list[tuple[str, float, float | None, float]]:
    """(label, claimed, measured, allowed) per plotted point of one claim."""
    points = verdict.get("points") or {"": verdict}
    out = []
    for label, p in points.items():
        m = p.get("measured")
        claimed = p.get("claimed")
        if not isinstance(claimed, (int, float)):
            continue
        out.append((label, float(claimed),
                    float(m["mean"]) if isinstance(m, dict) else None,
                    float(p.get("allowed") or 0.0)))
    return out


def svg_figure(rows: list[tuple[str, float, float | None, float]], unit: str) -> str:
    """Paired horizontal bars, original (grey, with the tolerance band) and reproduced
    (blue), one pair per row; values on a shared linear scale."""
    if not rows:
        return ""
    top = max(max(c + a, m or 0.0) for _, c, m, a in rows) or 1.0
    width, left, bar, gap = 640, 190, 14, 12
    scale = (width - left - 80) / top
    height = len(rows) * (2 * bar + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img">']
    y = 10
    for label, claimed, got, allowed in rows:
        parts.append(f'<text x="4" y="{y + bar + 4}">{_e(label or "value")}</text>')
        lo, hi = max(claimed - allowed, 0.0), claimed + allowed
        parts.append(f'<rect x="{left + lo * scale:.1f}" y="{y - 2}" '
                     f'width="{max((hi - lo) * scale, 1):.1f}" height="{2 * bar + 4}" '
                     'fill="#fe9" opacity="0.6"><title>tolerance</title></rect>')
        parts.append(f'<rect class="original" x="{left}" y="{y}" '
                     f'width="{claimed * scale:.1f}" height="{bar}" fill="#999"/>')
        parts.append(f'<text x="{left + claimed * scale + 4:.1f}" y="{y + bar - 3}">'
                     f'{claimed:.4g} original</text>')
        if got is not None:
            parts.append(f'<rect class="reproduced" x="{left}" y="{y + bar}" '
                         f'width="{max(got, 0) * scale:.1f}" height="{bar}" fill="#36c"/>')
            parts.append(f'<text x="{left + max(got, 0) * scale + 4:.1f}" '
                         f'y="{y + 2 * bar - 3}">{got:.4g} reproduced</text>')
        y += 2 * bar + gap
    parts.append(f'<text x="{left}" y="{height - 4}">{_e(unit)}</text></svg>')
    return "".join(parts)


def html_report(paper: Paper, report: dict[str, Any]) -> str:
    claims = report["claims"]
    head = [f"<h1>{_e(paper.title)}</h1>",
            f"<p>{_e(', '.join(paper.authors))}"
            + (f" · {_e(paper.venue)}" if paper.venue else "")
            + (f" · doi:{_e(paper.doi)}" if paper.doi else "")
            + (f" · arXiv:{_e(paper.arxiv)}" if paper.arxiv else "") + "</p>",
            f"<p>reproduced {_e(report['reproduced_at'])} on "
            f"{_e(report['platform']['facts'].get('cpu'))}, "
            f"{_e(report['platform']['facts'].get('logical_cores'))} cores "
            f"(fingerprint {_e(report['platform']['fingerprint'])}); "
            + ("inside" if report["in_paper_class"] else "outside")
            + f" the paper's hardware class {_e(paper.hardware.description)}"
            + (f" ({_e('; '.join(report['class_differences']))})"
               if report["class_differences"] else "") + "</p>"]
    table = ["<table id='verdicts'><tr><th>claim</th><th>figure</th><th>verdict</th>"
             "<th>claimed</th><th>measured</th><th>tolerance</th><th>why</th></tr>"]
    for cid, v in claims.items():
        rows = _rows(v)
        claimed = "; ".join(f"{lab + ': ' if lab else ''}{c:.4g}" for lab, c, _, _ in rows)
        got = "; ".join(f"{lab + ': ' if lab else ''}{'-' if m is None else f'{m:.4g}'}"
                        for lab, _, m, _ in rows)
        table.append(f"<tr class='{_e(v['verdict'])}'><td>{_e(cid)}</td>"
                     f"<td>{_e(v['figure'])}</td><td>{_e(v['verdict'].replace('_', ' '))}"
                     f"</td><td>{_e(claimed)} {_e(v.get('unit'))}</td><td>{_e(got)}</td>"
                     f"<td>{_e(json.dumps(v.get('tolerance')))}</td>"
                     f"<td>{_e(v.get('reason', ''))}</td></tr>")
    table.append("</table>")
    figures: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for cid, v in claims.items():
        figures.setdefault(v["figure"], []).append((cid, v))
    figs = ["<h2>Figures, re-drawn from this reproduction</h2>"]
    for name, items in figures.items():
        rows = [(f"{cid}{' ' + lab if lab else ''}", c, m, a)
                for cid, v in items for lab, c, m, a in _rows(v)]
        unit = ", ".join(sorted({str(v.get('unit')) for _, v in items if v.get("unit")}))
        figs.append(f"<figure><figcaption>{_e(name)}</figcaption>{svg_figure(rows, unit)}"
                    "</figure>")
    drift = ["<h2>Environment drift (paper's recorded environment → here)</h2>"]
    seen: set[str] = set()
    for cid, v in claims.items():
        lines = [f"{d['what']}: {d['recorded']} → {d['now']}" for d in v.get("drift") or []]
        text = "\n".join(lines)
        if text and text not in seen:
            seen.add(text)
            drift.append(f"<h3>{_e(cid)}</h3><pre>{_e(text)}</pre>")
    if len(drift) == 1:
        drift.append("<p>no recorded environment to compare, or no difference</p>")
    badge_rows = "".join(f"<li>{_e(b['badge'])}: {'earned' if b['earned'] else 'not earned'}"
                         f" — {_e(b['evidence'])}</li>" for b in report["badges"])
    body = head + ["<h2>Verdicts</h2>"] + table + figs + drift + [
        "<h2>Badges</h2>", f"<ul>{badge_rows}</ul>",
        "<p>available and reproduced are computed by the hub from published versions "
        "and reproductions by other users.</p>",
        f"<h2>Platform</h2><pre>{_e(json.dumps(report['platform'], indent=2))}</pre>"]
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
            f"<title>reproduction of {_e(paper.title)}</title><style>{_STYLE}</style>"
            "</head><body>" + "\n".join(body) + "</body></html>\n")


def write_reports(folder: str, paper: Paper, report: dict[str, Any]) -> dict[str, str]:
    paths = {"json": os.path.join(folder, "report.json"),
             "html": os.path.join(folder, "report.html")}
    atomic_write_text(paths["json"], json.dumps(report, indent=2, sort_keys=True,
                                                default=str) + "\n")
    atomic_write_text(paths["html"], html_report(paper, report))
    return paths
