"""The Pareto front as a text table, a PNG (matplotlib, Agg) and an offline HTML (plotly).

Both plots show every successful trial (grey) and the front (red) with the 95% confidence
intervals as error bars, on the first two objectives (with one objective: value by trial
number). The HTML embeds plotly's JavaScript, so it opens without a network.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from .space import Objective

UNITS = {"time": "s", "size": "B"}


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e12:
        return str(int(value))
    return f"{value:.4g}"


def _label(obj: Objective) -> str:
    unit = UNITS.get(obj.metric)
    return f"{obj.metric} ({unit + ', ' if unit else ''}{obj.direction})"


def front_table(objectives: Sequence[Objective], front: Sequence[dict[str, Any]],
                counts: dict[str, Any], hypervolume: float | None) -> str:
    head = (f"Pareto front: {len(front)} of {counts.get('ok', 0)} successful trials"
            f" ({counts.get('failed', 0)} failed"
            + (f", {counts['infeasible']} infeasible" if counts.get("infeasible") else "")
            + ")")
    if hypervolume is not None:
        head += f"; hypervolume {hypervolume:.6g}"
    columns = ["#"] + [_label(o) for o in objectives] + ["configuration"]
    rows = []
    for point in front:
        cells = [str(point["number"])]
        for obj in objectives:
            stat = point["objectives"][obj.metric]
            cell = _num(stat["mean"])
            if stat.get("ci95_half"):
                cell += f" ± {_num(stat['ci95_half'])}"
            cells.append(cell)
        cells.append(point.get("describe") or "")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns) - 1)]
    lines = [head]
    for r in [columns, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return "\n".join(line.rstrip() for line in lines)


def _series(objectives: Sequence[Objective], points: Sequence[dict[str, Any]], k: int
            ) -> tuple[list[float], list[float]]:
    metric = objectives[k].metric
    means = [float(p["objectives"][metric]["mean"]) for p in points]
    halfs = [float(p["objectives"][metric].get("ci95_half") or 0.0) for p in points]
    return means, halfs


def write_png(path: str, objectives: Sequence[Objective], trials: Sequence[dict[str, Any]],
              front: Sequence[dict[str, Any]], title: str) -> str:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.5), dpi=110)
    try:
        if len(objectives) >= 2:
            x_all, _ = _series(objectives, trials, 0)
            y_all, _ = _series(objectives, trials, 1)
            ax.scatter(x_all, y_all, s=14, color="0.7", label="trials")
            order = sorted(front, key=lambda p: float(p["objectives"][objectives[0].metric]["mean"]))
            fx, fxe = _series(objectives, order, 0)
            fy, fye = _series(objectives, order, 1)
            ax.errorbar(fx, fy, xerr=fxe, yerr=fye, fmt="o", color="tab:red", ecolor="tab:red",
                        capsize=3, label="Pareto front")
            ax.plot(fx, fy, color="tab:red", alpha=0.4, drawstyle="steps-post"
                    if objectives[1].direction == "min" else "default")
            for p, x, y in zip(order, fx, fy):
                ax.annotate(str(p["number"]), (x, y), textcoords="offset points", xytext=(4, 4),
                            fontsize=7)
            ax.set_xlabel(_label(objectives[0]))
            ax.set_ylabel(_label(objectives[1]))
        else:
            y_all, _ = _series(objectives, trials, 0)
            ax.scatter([t["number"] for t in trials], y_all, s=14, color="0.7", label="trials")
            fy, fye = _series(objectives, front, 0)
            ax.errorbar([p["number"] for p in front], fy, yerr=fye, fmt="o", color="tab:red",
                        capsize=3, label="best (within noise)")
            ax.set_xlabel("trial")
            ax.set_ylabel(_label(objectives[0]))
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path


def write_html(path: str, objectives: Sequence[Objective], trials: Sequence[dict[str, Any]],
               front: Sequence[dict[str, Any]], title: str) -> str:
    import importlib

    go: Any = importlib.import_module("plotly.graph_objects")  # untyped: no stubs

    def hover(points: Sequence[dict[str, Any]]) -> list[str]:
        out = []
        for p in points:
            vals = "<br>".join(
                f"{o.metric}: {_num(p['objectives'][o.metric]['mean'])}"
                + (f" ± {_num(p['objectives'][o.metric].get('ci95_half'))}"
                   if p["objectives"][o.metric].get("ci95_half") else "")
                for o in objectives)
            out.append(f"trial {p['number']}<br>{vals}<br>{p.get('describe') or ''}")
        return out

    fig = go.Figure()
    if len(objectives) >= 2:
        x_all, _ = _series(objectives, trials, 0)
        y_all, _ = _series(objectives, trials, 1)
        order = sorted(front, key=lambda p: float(p["objectives"][objectives[0].metric]["mean"]))
        fx, fxe = _series(objectives, order, 0)
        fy, fye = _series(objectives, order, 1)
        fig.add_trace(go.Scatter(x=x_all, y=y_all, mode="markers", name="trials",
                                 marker={"color": "lightgrey", "size": 7},
                                 hovertext=hover(trials), hoverinfo="text"))
        fig.add_trace(go.Scatter(x=fx, y=fy, mode="markers+lines", name="Pareto front",
                                 marker={"color": "crimson", "size": 9},
                                 line={"shape": "hv", "width": 1},
                                 error_x={"type": "data", "array": fxe, "visible": True},
                                 error_y={"type": "data", "array": fye, "visible": True},
                                 hovertext=hover(order), hoverinfo="text"))
        fig.update_layout(xaxis_title=_label(objectives[0]), yaxis_title=_label(objectives[1]))
    else:
        y_all, _ = _series(objectives, trials, 0)
        fy, fye = _series(objectives, front, 0)
        fig.add_trace(go.Scatter(x=[t["number"] for t in trials], y=y_all, mode="markers",
                                 name="trials", marker={"color": "lightgrey"},
                                 hovertext=hover(trials), hoverinfo="text"))
        fig.add_trace(go.Scatter(x=[p["number"] for p in front], y=fy, mode="markers",
                                 name="best (within noise)", marker={"color": "crimson", "size": 9},
                                 error_y={"type": "data", "array": fye, "visible": True},
                                 hovertext=hover(front), hoverinfo="text"))
        fig.update_layout(xaxis_title="trial", yaxis_title=_label(objectives[0]))
    fig.update_layout(title=title, template="plotly_white")
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path
