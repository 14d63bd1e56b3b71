"""Crowd-tuning: learning from the results other machines sent to a hub scoreboard.

:func:`fetch` reads every result of a scoreboard (pages of 500) and, per platform
fingerprint, the platform facts one of its submissions carries. :func:`distance` compares
two platforms on those facts:

    arch differs +4 · OS differs +2 · CPU model differs +1
    + |log2(cores ratio)| + 0.5·|log2(memory ratio)| + |log2(CPU MHz ratio)| (where both know it)

so the same CPU with another core count is nearer than another architecture. The
``k`` nearest platforms (this machine's own results, distance 0, included) are the ones used.

Results of different machines differ in scale (a faster CPU is faster everywhere), so each
metric is normalised per platform by that platform's median over the configurations it
measured; a configuration's prediction here is the distance-weighted mean (weight
``1 / (1 + d)``) of its normalised values on the neighbours, times this machine's own
median where it has results, else the neighbours' weighted median. :func:`advise` proposes
the configuration whose prediction is best (feasible under the constraints, the first
objective deciding); :func:`warm_start` feeds the neighbours' results into a strategy's model
and queues their predicted Pareto-best configurations first.
"""

from __future__ import annotations

import math
import statistics
from urllib.parse import quote

from ..errors import InvalidInput, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ..kernel.kernel import Kernel
    from ..solutions.manifest import Manifest
    from .space import Objective, Space

PAGE = 500
MAX_RESULTS = 20_000


def here_facts() -> dict[str, Any]:
    from ..detect.platform import platform_facts
    from ..solutions.generic import platform_summary

    facts = platform_facts()
    return {"fingerprint": facts.get("fingerprint"), **platform_summary(facts)}


def fetch(home: str, scoreboard: str, hub: str | None) -> dict[str, Any]:
    """Every result of ``scoreboard`` and the facts of each platform that sent one."""
    from ..client.config import settings
    from ..client.http import HubClient

    rows: list[dict[str, Any]] = []
    facts: dict[str, dict[str, Any]] = {}
    board = quote(scoreboard, safe="")
    with HubClient(settings(home, hub)) as client:
        url = client.url
        while len(rows) < MAX_RESULTS:
            page = client.get_json(f"/scoreboards/{board}/results",
                                   params={"sort": "id", "order": "asc", "limit": PAGE,
                                           "offset": len(rows)})
            items = page.get("items") or []
            rows += items
            if len(items) < PAGE:
                break
        first: dict[str, int] = {}
        for row in rows:
            first.setdefault(str(row.get("platform_fingerprint")), int(row["id"]))
        for fp, rid in first.items():
            body = client.get_json(f"/results/{rid}")
            facts[fp] = dict((body.get("platform") or {}).get("facts") or {})
    return {"hub": url, "rows": rows, "facts": facts}


def _log_ratio(a: Any, b: Any) -> float:
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return 0.0
    if x <= 0 or y <= 0:
        return 0.0
    return abs(math.log2(x / y))


def distance(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How unlike two platforms are, from their facts (0: alike; see the module)."""
    d = 0.0
    for key, weight in (("arch", 4.0), ("os", 2.0), ("cpu", 1.0)):
        if a.get(key) and b.get(key) and str(a[key]) != str(b[key]):
            d += weight
    d += _log_ratio(a.get("cores"), b.get("cores"))
    d += 0.5 * _log_ratio(a.get("memory_gib"), b.get("memory_gib"))
    d += _log_ratio(a.get("cpu_mhz"), b.get("cpu_mhz"))
    return round(d, 6)


def check_neighbours(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInput(f"--neighbours must be a whole number of platforms, at least 1, "
                           f"not {k!r}")


def neighbours(here: dict[str, Any], facts: dict[str, dict[str, Any]], k: int
               ) -> list[dict[str, Any]]:
    """The ``k`` nearest platforms: ``{fingerprint, distance, weight, facts}``, nearest first
    (this machine itself, when it has results, at distance 0)."""
    out = []
    for fp, f in facts.items():
        d = 0.0 if fp == here.get("fingerprint") else distance(here, f)
        out.append({"fingerprint": fp, "distance": d, "weight": 1.0 / (1.0 + d), "facts": f})
    out.sort(key=lambda p: (p["distance"], p["fingerprint"]))
    return out[:max(1, k)]


def _key(config: dict[str, Any]) -> str:
    import json

    return json.dumps(config, sort_keys=True, default=str)


def predict(rows: list[dict[str, Any]], near: list[dict[str, Any]], keys: Sequence[str],
            metrics: Sequence[str], here_fp: str | None) -> list[dict[str, Any]]:
    """Per configuration (restricted to ``keys``) seen on the neighbours: the predicted
    value of each metric here and the results it came from."""
    weight = {p["fingerprint"]: p["weight"] for p in near}
    dist = {p["fingerprint"]: p["distance"] for p in near}
    mine = [r for r in rows if str(r.get("platform_fingerprint")) in weight
            and not r.get("reference")]
    medians: dict[tuple[str, str], float] = {}
    for fp in weight:
        for m in metrics:
            vals = [float(r["metrics"][m]) for r in mine
                    if str(r["platform_fingerprint"]) == fp and m in (r.get("metrics") or {})]
            if vals and statistics.median(vals) != 0:
                medians[(fp, m)] = statistics.median(vals)
    scale: dict[str, float] = {}
    for m in metrics:
        if here_fp and (here_fp, m) in medians:
            scale[m] = medians[(here_fp, m)]
        else:
            pairs = [(medians[(fp, m)], w) for fp, w in weight.items() if (fp, m) in medians]
            if pairs:
                scale[m] = sum(v * w for v, w in pairs) / sum(w for _, w in pairs)
    groups: dict[str, dict[str, Any]] = {}
    for r in mine:
        config = {k: r["config"][k] for k in keys if k in (r.get("config") or {})}
        if len(config) != len(keys):
            continue
        g = groups.setdefault(_key(config), {"config": config, "sums": {}, "used": [],
                                             "distance": math.inf})
        fp = str(r["platform_fingerprint"])
        g["distance"] = min(g["distance"], dist[fp])
        for m in metrics:
            if m in (r.get("metrics") or {}) and (fp, m) in medians:
                s = g["sums"].setdefault(m, [0.0, 0.0])
                s[0] += weight[fp] * float(r["metrics"][m]) / medians[(fp, m)]
                s[1] += weight[fp]
        g["used"].append(int(r["id"]))
    out = []
    for g in groups.values():
        values = {m: (s[0] / s[1]) * scale[m] for m, s in g["sums"].items()
                  if s[1] > 0 and m in scale}
        if len(values) == len(metrics):
            out.append({"config": g["config"], "predicted": values, "results": g["used"],
                        "distance": g["distance"]})
    return out


def _front(points: list[dict[str, Any]], objectives: Sequence[Objective]) -> list[int]:
    from .pareto import pareto_front

    signed = [[o.sign * p["predicted"][o.metric] for o in objectives] for p in points]
    return pareto_front(signed) if signed else []


def _ok(point: dict[str, Any], constraints: Sequence[Any]) -> bool:
    stats = {m: {"mean": v} for m, v in point["predicted"].items()}
    return all(c.broken(stats) is None for c in constraints)


def _used_text(near: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    summary: dict[str, str] = {}
    for r in rows:
        fp = str(r.get("platform_fingerprint"))
        counts[fp] = counts.get(fp, 0) + 1
        summary.setdefault(fp, str(r.get("platform_summary") or ""))
    return [{"fingerprint": p["fingerprint"], "distance": p["distance"],
             "weight": round(p["weight"], 4), "results": counts.get(p["fingerprint"], 0),
             "platform": summary.get(p["fingerprint"], "")} for p in near]


def warm_start(kernel: Kernel, manifest: Manifest, entry: dict[str, Any], space: Space,
               objectives: list[Objective], fixed: dict[str, Any], hub: str | None, k: int,
               budget: int) -> dict[str, Any]:
    """Points for a strategy's model (the neighbours' results, predicted here) and the
    configurations to try first (their predicted Pareto front, at most a quarter of the
    budget)."""
    from ..home import home_dir

    got = fetch(home_dir(kernel.home), manifest.scoreboard, hub)
    rows = [r for r in got["rows"] if _fits(r, fixed)]
    here = here_facts()
    near = neighbours(here, got["facts"], k)
    metrics = [o.metric for o in objectives]
    points = predict(rows, near, list(space.choices), metrics, here.get("fingerprint"))
    points = [p for p in points if _in_space(space, p["config"])]
    first = first_configs(points, objectives, budget)
    used = _used_text(near, rows)
    text = (f"warm start from {got['hub']}: {len(points)} configurations measured on "
            f"{len(near)} nearest platform(s) "
            + ", ".join(f"{u['fingerprint']} (distance {u['distance']:g})" for u in used)
            + f"; trying {len(first)} of their best first")
    return {"hub": got["hub"], "platforms": used, "configurations": len(points),
            "first": first, "text": text,
            "points": [(p["config"], [p["predicted"][m] for m in metrics]) for p in points]}


def first_configs(points: list[dict[str, Any]], objectives: Sequence[Objective], budget: int
                  ) -> list[dict[str, Any]]:
    """The configurations a warm start tries first: the predicted Pareto front, those
    measured on the nearest platform first, at most a third of the budget."""
    front = sorted(_front(points, objectives), key=lambda i: (
        points[i]["distance"], objectives[0].sign * points[i]["predicted"][objectives[0].metric]))
    return [points[i]["config"] for i in front][:max(1, budget // 3)]


def _fits(row: dict[str, Any], fixed: dict[str, Any]) -> bool:
    config = row.get("config") or {}
    return all(str(config.get(k)) == str(v) for k, v in fixed.items())


def _in_space(space: Space, config: dict[str, Any]) -> bool:
    try:
        space.check_config(dict(config))
    except InvalidInput:
        return False
    return True


def advise(kernel: Kernel, entry: dict[str, Any], objectives: Any = None,
           constraint: Any = None, hub: str | None = None, k: int = 3,
           fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """``ck advise solution:X``: the configuration predicted best for this machine."""
    from ..home import home_dir
    from ..solutions.manifest import bind_inputs, load_manifest
    from .runner import parse_constraints
    from .space import parse_objectives

    manifest = load_manifest(entry)
    label = f"solution:{entry['name']}"
    check_neighbours(k)
    fixed = dict(fixed or {})
    bind_inputs(manifest, fixed, label)
    metrics = [m.name for m in manifest.metrics]
    if objectives is None:
        first = manifest.metrics[0]
        objectives = (manifest.tune.objectives if manifest.tune else None) or \
            f"{first.name}:{'max' if first.better == 'higher' else 'min'}"
    objs = parse_objectives(objectives, metrics)
    given = list(manifest.tune.constraints) if manifest.tune else []
    if isinstance(constraint, (list, tuple)):
        given += [str(c) for c in constraint]
    elif constraint not in (None, ""):
        given.append(str(constraint))
    constraints = parse_constraints([c for g in given for c in str(g).split(",") if c.strip()],
                                    metrics)
    got = fetch(home_dir(kernel.home), manifest.scoreboard, hub)
    rows = [r for r in got["rows"] if _fits(r, fixed)]
    if not rows:
        raise NotFound(f"{label}: the scoreboard {manifest.scoreboard!r} at {got['hub']} has "
                       "no results" + (f" with {fixed}" if fixed else "")
                       + " to learn from; run `ck benchmark ... --submit` or `ck autotune "
                       "... --submit` on some machines first")
    here = here_facts()
    near = neighbours(here, {fp: f for fp, f in got["facts"].items()
                             if any(str(r["platform_fingerprint"]) == fp for r in rows)}, k)
    keys = sorted({key for r in rows for key in (r.get("config") or {})
                   if key in manifest.inputs and key not in fixed})
    wanted = list(dict.fromkeys([o.metric for o in objs] + [c.metric for c in constraints]))
    points = predict(rows, near, keys, wanted, here.get("fingerprint"))
    feasible = [p for p in points if _ok(p, constraints)]
    if not feasible:
        raise NotFound(f"{label}: no configuration measured on the nearest platforms is "
                       f"predicted to meet {', '.join(str(c) for c in constraints)}"
                       if points and constraints else
                       f"{label}: the nearest platforms' results name no configuration with "
                       f"all of {', '.join(o.metric for o in objs)}")
    front = [feasible[i] for i in _front(feasible, objs)]
    front.sort(key=lambda p: objs[0].sign * p["predicted"][objs[0].metric])
    best = front[0]
    used = _used_text(near, rows)
    lines = [f"{label}: proposed for this machine ({here.get('cpu')}, {here.get('cores')} "
             f"cores): " + " ".join(f"--{k}={v}" for k, v in {**fixed, **best['config']}.items()),
             "predicted: " + ", ".join(f"{m} {v:.4g}" for m, v in best["predicted"].items()),
             f"from results {', '.join(map(str, best['results'][:10]))}"
             + (" ..." if len(best["results"]) > 10 else "")
             + f" on the {len(near)} nearest platform(s) of {got['hub']}:"]
    lines += [f"  {u['fingerprint']}  distance {u['distance']:g}  weight {u['weight']:g}  "
              f"{u['results']} results  {u['platform']}" for u in used]
    if len(front) > 1:
        lines.append(f"{len(front)} configurations are on the predicted Pareto front of "
                     f"{', '.join(str(o) for o in objs)}; the first objective decides")
    return {"solution": entry["name"], "config": {**fixed, **best["config"]},
            "predicted": best["predicted"], "results": best["results"], "platforms": used,
            "front": front, "objectives": [str(o) for o in objs],
            "constraints": [str(c) for c in constraints], "hub": got["hub"],
            "text": "\n".join(lines)}
