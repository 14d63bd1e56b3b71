"""Comparing experiments and replaying one: per metric, is the difference beyond the noise?

For each metric both sides measured, :func:`cknowledge.experiments.stats.compare` gives
the difference of the means and Welch's t-test at 95%:

- two or more repetitions on each side: *agrees within noise* unless the test says the
  difference is significant, then *differs: +x% (significant)*;
- one value on a side (a binary's size): no noise can be estimated; equal values agree, a
  changed value *differs* (a deterministic quantity that changed has changed).

A replay (:func:`replay`) runs the recorded inputs again with the recorded lock pinned
(``--from-lock``): when the lock cannot be reproduced, it says so and runs on what is here
now. ``agree`` is true when no metric differs; ``drift`` lists every difference of the
environment (:func:`cknowledge.experiments.drift.diff`).
"""

from __future__ import annotations

from ..errors import InvalidInput, Unsatisfiable, suggest
from .record import fmt
from .stats import compare

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel
    from .energy import EnergyMeter


def select(metrics_a: dict[str, Any], metrics_b: dict[str, Any] | None,
           metric: Any = None) -> list[str]:
    """The metric names to show: all (both sides' in order), or those asked for; an unknown
    name is an error listing the valid ones."""
    names = list(metrics_a) + [m for m in (metrics_b or {}) if m not in metrics_a]
    if metric in (None, "", []):
        return names
    wanted = [str(m).strip() for m in (metric if isinstance(metric, list)
                                       else str(metric).split(",")) if str(m).strip()]
    for name in wanted:
        if name not in names:
            raise InvalidInput(f"no metric {name!r}; the valid metrics are: "
                               f"{', '.join(names) or '(none)'}{suggest(name, names)}")
    return wanted


def compare_metric(a: list[float], b: list[float]) -> dict[str, Any]:
    result = compare(a, b)
    sa, sb = result["a"], result["b"]
    rel = result["rel_diff"]
    change = f"{rel:+.1%}" if rel is not None else f"{result['diff']:+.4g}"
    noisy = " (noisy)" if sa["noisy"] or sb["noisy"] else ""
    if sa["n"] < 2 or sb["n"] < 2:
        agree = result["diff"] == 0
        verdict = ("agrees (one value: no noise estimate)" if agree else
                   f"differs: {change} (one value: no noise estimate)")
    elif result["significant"]:
        agree = False
        verdict = f"differs: {change} (significant, t={fmt(result['t'])})"
    else:
        agree = True
        verdict = f"agrees within noise ({change}, t={fmt(result['t'])})"
    result.update(agree=agree, verdict=verdict + noisy)
    return result


def compare_metrics(metrics_a: dict[str, Any], metrics_b: dict[str, Any],
                    names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        a, b = metrics_a.get(name), metrics_b.get(name)
        if a is None or b is None:
            side = "the first" if b is None else "the second"
            out[name] = {"agree": None, "verdict": f"measured only in {side}",
                         "a": None, "b": None}
            continue
        out[name] = compare_metric(a["samples"], b["samples"])
        out[name]["unit"] = a.get("unit") or b.get("unit") or ""
    return out


def render_metrics(result: dict[str, Any], left: str = "A", right: str = "B") -> str:
    from .record import _table

    header = ["metric", f"mean {left}", f"n {left}", f"mean {right}", f"n {right}", "diff",
              "rel diff", "t", "significant", "verdict"]
    rows = []
    for name, r in result.items():
        if r.get("a") is None or r.get("b") is None:
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", "-", r["verdict"]])
            continue
        unit = f" {r['unit']}" if r.get("unit") else ""
        rel = f"{r['rel_diff']:+.1%}" if r["rel_diff"] is not None else "-"
        sig = "yes" if r["significant"] else ("no" if r["t"] is not None else "n/a")
        rows.append([name + unit, fmt(r["a"]["mean"]), str(r["a"]["n"]), fmt(r["b"]["mean"]),
                     str(r["b"]["n"]), fmt(r["diff"]), rel, fmt(r["t"]), sig, r["verdict"]])
    return "\n".join(_table(header, rows))


# -- replay ------------------------------------------------------------------------------------
def _rerun(kernel: Kernel, meta: dict[str, Any], locked: list[dict[str, Any]] | None,
           meter: EnergyMeter | None) -> dict[str, Any]:
    from . import bench

    comp = meta.get("component") or {}
    inputs = meta.get("inputs") or {}
    artifact = inputs.get("artifact") or (f"{comp['repo']}:{comp['name']}"
                                          if comp.get("repo") else comp.get("name"))
    if comp.get("automation") == "program":
        return bench.program(kernel, str(artifact), opt=inputs.get("opt"),
                             flags=inputs.get("flags"), dataset=inputs.get("dataset"),
                             repetitions=int(inputs.get("repetitions") or 5),
                             warmup=int(inputs.get("warmup") or 0),
                             timeout=inputs.get("timeout"),
                             validate=bool(inputs.get("validate", True)), locked=locked,
                             meter=meter)
    if comp.get("automation") == "script":
        return bench.script(kernel, inputs.get("artifact"), inputs.get("tags"),
                            inputs.get("version"), dict(inputs.get("inputs") or {}),
                            dict(inputs.get("env") or {}),
                            int(inputs.get("repetitions") or 5), int(inputs.get("warmup") or 0),
                            locked=locked, meter=meter)
    if comp.get("automation") == "solution":
        from ..solutions import replay_run

        return replay_run(kernel, str(artifact), dict(inputs), locked)
    raise InvalidInput(f"cannot replay an experiment of {comp.get('automation')!r}: only "
                       "program, script and solution benchmarks are replayed")


def replay(kernel: Kernel, meta: dict[str, Any], meter: EnergyMeter | None = None
           ) -> dict[str, Any]:
    """Run the experiment again; compare the samples and the environments."""
    from .drift import diff
    from .record import experiment_meta

    if meta.get("kind") not in ("benchmark", "solution-benchmark") or \
            not isinstance(meta.get("metrics"), dict):
        raise InvalidInput("this experiment was not recorded by 'ck benchmark': nothing to replay")
    nodes = (meta.get("lock") or {}).get("nodes")
    lock_status = "reproduced" if nodes else "no lock recorded"
    try:
        measured = _rerun(kernel, meta, nodes or None, meter)
    except Unsatisfiable as exc:
        lock_status = (f"not reproducible ({exc.message}); the replay ran on what is "
                       "installed here now")
        measured = _rerun(kernel, meta, None, meter)
    now = experiment_meta(measured)
    metrics = compare_metrics(meta["metrics"], now["metrics"],
                              select(meta["metrics"], now["metrics"]))
    agree = all(m["agree"] is not False for m in metrics.values())
    out = {"agree": agree, "metrics": metrics, "drift": diff(meta, now), "lock": lock_status,
           "now": now, "warnings": measured.get("warnings") or []}
    if measured.get("replay_experiment"):  # a solution run records itself
        out["run"] = measured["replay_experiment"]
    return out
