"""Statistics of repeated measurements, honest about noise.

:func:`summarize` gives mean, median, sample standard deviation, min, max, the 95%
confidence interval of the mean (Student's t; never below zero for samples that are
all non-negative, such as times), the coefficient of variation, the outliers
(outside Tukey's fences, 1.5 IQR beyond the quartiles) and a ``noisy`` flag: a sample whose
coefficient of variation exceeds ``NOISY_CV`` (5%) is marked noisy. One value has no
spread: its interval is ``None`` and it is never called significant.

:func:`compare` tells whether two samples differ beyond their noise (Welch's t-test at
95%).
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

NOISY_CV = 0.05

def t95(df: float) -> float:
    """The two-sided 95% critical value of Student's t for ``df`` degrees of freedom (any
    ``df > 0``: Welch's df is fractional); ``inf`` for ``df <= 0``."""
    return t_quantile(0.975, df)


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` (possibly fractional) degrees of
    freedom: scipy's when it is installed, else the inverse of the exact CDF (the
    regularized incomplete beta function), found by bisection to full double precision."""
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), not {p}")
    if not df > 0:
        return math.inf if p > 0.5 else -math.inf
    if math.isinf(df):
        return _normal_quantile(p)
    try:
        import importlib

        student_t = importlib.import_module("scipy.stats").t  # optional, untyped
    except ImportError:
        pass
    else:
        return float(student_t.ppf(p, df))
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
        if hi > 1e300:
            return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df > 0`` degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (Lentz's continued fraction)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only
        return 1 - _betainc(b, a, 1 - x)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))):
            d = 1 + num * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(log_front) * h / a


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    pos = (len(sorted_values) - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(samples: Sequence[float], noisy_cv: float = NOISY_CV) -> dict[str, Any]:
    values = [float(v) for v in samples]
    n = len(values)
    if n == 0:
        raise ValueError("no samples")
    ordered = sorted(values)
    mean = sum(values) / n
    median = _quantile(ordered, 0.5)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    half = t95(n - 1) * std / math.sqrt(n) if n > 1 else None
    cv = std / abs(mean) if n > 1 and mean != 0 else (0.0 if n > 1 else None)
    outliers: list[int] = []
    if n >= 4:
        q1, q3 = _quantile(ordered, 0.25), _quantile(ordered, 0.75)
        fence = 1.5 * (q3 - q1)
        outliers = [i for i, v in enumerate(values) if v < q1 - fence or v > q3 + fence]
    return {
        "n": n, "mean": mean, "median": median, "std": std, "min": ordered[0],
        "max": ordered[-1],
        # a quantity that cannot be negative (a time, a size) has no interval below zero
        "ci95": ([max(mean - half, 0.0) if ordered[0] >= 0 else mean - half, mean + half]
                 if half is not None else None),
        "ci95_half": half, "cv": cv, "outliers": outliers,
        "noisy": bool(cv is not None and cv > noisy_cv),
    }


def compare(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """``b`` against ``a``: difference of means, relative difference, Welch's t and whether
    the difference is significant at 95% (never with fewer than two values on a side)."""
    sa, sb = summarize(a), summarize(b)
    diff = sb["mean"] - sa["mean"]
    rel = diff / abs(sa["mean"]) if sa["mean"] else None
    out: dict[str, Any] = {"a": sa, "b": sb, "diff": diff, "rel_diff": rel, "t": None,
                           "df": None, "significant": False}
    if sa["n"] < 2 or sb["n"] < 2:
        return out
    va, vb = sa["std"] ** 2 / sa["n"], sb["std"] ** 2 / sb["n"]
    if va + vb == 0:
        out["significant"] = diff != 0
        return out
    t = diff / math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va ** 2) / (sa["n"] - 1) + (vb ** 2) / (sb["n"] - 1)) \
        if va or vb else float(sa["n"] + sb["n"] - 2)
    out.update(t=t, df=df, significant=abs(t) > t95(df))
    return out
