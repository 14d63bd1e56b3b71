"""From a workflow's result to a verdict per claim.

``extract`` reads a claim's number(s) from the result dict by its path; ``judge`` compares
them with the claimed value under the claim's tolerance:

- ``abs``: |measured - claimed| <= abs;
- ``rel``: |measured - claimed| <= rel * |claimed|;
- ``noise``: the measured mean lies in the noise band of the recorded runs, the 95%
  prediction interval of one more run: mean ± t(n-1) · s · sqrt(1 + 1/n), widened by the
  measured value's own 95% half-width when it has one.

When several are given the widest applies. A claim marked ``hardware: same`` is
``not_comparable`` on a machine outside the paper's hardware class (its value is still
measured and shown). Verdicts: ``reproduced``, ``not_reproduced``, ``not_comparable``,
``failed`` (the workflow did not finish, or its result lacks the claimed value).
"""

from __future__ import annotations

import fnmatch
import math
import re
from typing import Any

from ..errors import InvalidInput
from .schema import Claim, Hardware

VERDICTS = ("reproduced", "not_reproduced", "not_comparable", "failed")
_STEP = re.compile(r"([A-Za-z0-9_-]+)|\[([^\]\[]+)\]")


class Measured:
    """A measured number: its mean, its 95% half-width (None: one value) and the samples."""

    def __init__(self, mean: float, half: float | None = None,
                 samples: list[float] | None = None) -> None:
        self.mean = mean
        self.half = half
        self.samples = samples

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mean": self.mean}
        if self.half is not None:
            out["ci95_half"] = self.half
        if self.samples:
            out["n"] = len(self.samples)
        return out


def _steps(path: str) -> list[str]:
    return [m.group(1) if m.group(1) is not None else "[" + m.group(2) + "]"
            for m in _STEP.finditer(path)]


def lookup(result: Any, path: str) -> Any:
    """The value at ``path`` (``front[describe=-Os].objectives.size``); InvalidInput naming
    the step that is missing."""
    value = result
    done = ""
    for step in _steps(path):
        if step.startswith("["):
            inner = step[1:-1]
            if not isinstance(value, list):
                raise InvalidInput(f"{done or 'the result'} is not a list (at {step})")
            if inner.lstrip("-").isdigit():
                index = int(inner)
                if not -len(value) <= index < len(value):
                    raise InvalidInput(f"{done}{step}: the list has {len(value)} items")
                value = value[index]
            else:
                key, sep, want = inner.partition("=")
                if not sep:
                    raise InvalidInput(f"{step}: write [INDEX] or [KEY=VALUE]")
                found = [v for v in value if isinstance(v, dict)
                         and str(lookup_or_none(v, key)) == want]
                if not found:
                    raise InvalidInput(f"{done}{step}: no item has {key} = {want!r}")
                value = found[0]
        else:
            if not isinstance(value, dict) or step not in value:
                raise InvalidInput(f"the result has no {(done + '.' if done else '') + step}")
            value = value[step]
        done = f"{done}{step}" if step.startswith("[") or not done else f"{done}.{step}"
    return value


def lookup_or_none(value: Any, path: str) -> Any:
    try:
        return lookup(value, path)
    except InvalidInput:
        return None


def measured(value: Any, where: str) -> Measured:
    """A number, a list of samples, or a statistics dict (``mean`` with ``ci95_half`` or
    ``ci95``) as a :class:`Measured`."""
    from ..experiments.stats import summarize

    if isinstance(value, bool):
        raise InvalidInput(f"{where} is a boolean, not a number")
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            raise InvalidInput(f"{where} is {value}, not a finite number")
        return Measured(float(value))
    if isinstance(value, list) and value and all(isinstance(v, (int, float))
                                                 and not isinstance(v, bool) for v in value):
        stats = summarize(value)
        return Measured(stats["mean"], stats["ci95_half"], [float(v) for v in value])
    if isinstance(value, dict) and isinstance(value.get("mean"), (int, float)):
        half = value.get("ci95_half")
        ci = value.get("ci95")
        if not isinstance(half, (int, float)) and isinstance(ci, list) and len(ci) == 2 \
                and all(isinstance(c, (int, float)) for c in ci):
            half = (ci[1] - ci[0]) / 2
        if not isinstance(half, (int, float)) and isinstance(ci, (int, float)):
            half = ci
        samples = value.get("samples") if isinstance(value.get("samples"), list) else None
        return Measured(float(value["mean"]),
                        float(half) if isinstance(half, (int, float)) else None, samples)
    raise InvalidInput(f"{where} is not a number (it is {type(value).__name__})")


def noise_band(samples: list[float]) -> tuple[float, float]:
    """(mean, half-width) of the 95% prediction interval of one more run."""
    from ..experiments.stats import summarize, t95

    stats = summarize(samples)
    n = stats["n"]
    return stats["mean"], t95(n - 1) * stats["std"] * math.sqrt(1 + 1 / n)


def allowed(claim: Claim, claimed: float, got: Measured) -> float:
    """The largest difference the claim's tolerance admits for this value."""
    room = 0.0
    tol = claim.tolerance
    if tol.abs is not None:
        room = max(room, tol.abs)
    if tol.rel is not None:
        room = max(room, tol.rel * abs(claimed))
    if tol.noise and claim.samples:
        room = max(room, noise_band(claim.samples)[1] + (got.half or 0.0))
    return room


def compare_one(claim: Claim, claimed: float, got: Measured) -> dict[str, Any]:
    """``{claimed, measured, diff, rel_diff, allowed, within}`` for one number."""
    base = noise_band(claim.samples)[0] if claim.tolerance.noise and claim.samples and \
        claim.tolerance.abs is None and claim.tolerance.rel is None else claimed
    diff = got.mean - base
    room = allowed(claim, claimed, got)
    return {"claimed": claimed, "measured": got.as_dict(), "diff": diff,
            "rel_diff": diff / abs(base) if base else None, "allowed": room,
            "within": abs(diff) <= room + 1e-12 * max(1.0, abs(base))}


def judge(claim: Claim, result: dict[str, Any], comparable: bool) -> dict[str, Any]:
    """The verdict of one claim against a workflow's result."""
    try:
        if claim.series is None:
            assert claim.metric is not None and not isinstance(claim.value, dict)
            got = measured(lookup(result, claim.metric), claim.metric)
            points = {"": compare_one(claim, float(claim.value), got)}
        else:
            items = lookup(result, claim.series.path)
            if not isinstance(items, list):
                raise InvalidInput(f"{claim.series.path} is not a list")
            by_label = {str(lookup_or_none(i, claim.series.label)): i for i in items}
            assert isinstance(claim.value, dict)
            points = {}
            for label, want in claim.value.items():
                if label not in by_label:
                    points[label] = {"claimed": want, "measured": None, "within": False,
                                     "missing": True}
                    continue
                got = measured(lookup(by_label[label], claim.series.value),
                               f"{claim.series.path}[{label}].{claim.series.value}")
                points[label] = compare_one(claim, float(want), got)
    except InvalidInput as exc:
        return {"verdict": "failed", "reason": f"the workflow's result lacks the claimed "
                                                f"value: {exc.message}"}
    within = all(p["within"] for p in points.values())
    verdict = "not_comparable" if not comparable else \
        ("reproduced" if within else "not_reproduced")
    out: dict[str, Any] = {"verdict": verdict, "within_tolerance": within}
    if claim.series is None:
        out.update(points[""])
    else:
        out["points"] = points
    if not comparable:
        out["reason"] = "measured on another hardware class than the paper's"
    return out


def hardware_class(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts a hardware class compares: arch, CPU model, logical cores, GPU names."""
    cpu_fact, gpu_fact = facts.get("cpu"), facts.get("gpus")
    cpu: dict[str, Any] = cpu_fact if isinstance(cpu_fact, dict) else {}
    gpus: list[Any] = gpu_fact if isinstance(gpu_fact, list) else []
    return {"arch": facts.get("arch"), "cpu_model": cpu.get("model"),
            "logical_cores": cpu.get("logical_cores"),
            "gpus": [str(g.get("name", g)) if isinstance(g, dict) else str(g) for g in gpus]}


def same_class(paper: Hardware, here: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether this machine (``hardware_class`` facts) is in the paper's class, and the
    differences when it is not."""
    out = []
    for key in ("arch", "cpu_model"):
        want = getattr(paper, key)
        have = str(here.get(key) or "")
        if want is not None and not fnmatch.fnmatchcase(have, want):
            out.append(f"{key}: {want} → {have or '(unknown)'}")
    if paper.logical_cores is not None and here.get("logical_cores") != paper.logical_cores:
        out.append(f"logical_cores: {paper.logical_cores} → {here.get('logical_cores')}")
    if paper.gpus is not None:
        have_gpus = list(here.get("gpus") or [])
        if len(have_gpus) != len(paper.gpus) or not all(
                fnmatch.fnmatchcase(h, w) for h, w in zip(sorted(have_gpus),
                                                          sorted(paper.gpus))):
            out.append(f"gpus: {paper.gpus or 'none'} → {have_gpus or 'none'}")
    return not out, out
