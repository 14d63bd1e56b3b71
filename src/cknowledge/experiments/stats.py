"""Statistics of repeated measurements, honest about noise.

:func:`summarize` gives mean, median, sample standard deviation, min, max, the 95%
confidence interval of the mean (Student's t), the coefficient of variation, the outliers
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

# two-sided 95% critical values of Student's t by degrees of freedom (1..30), then normal
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df: float) -> float:
    """The two-sided 95% critical value of Student's t for ``df`` degrees of freedom."""
    if df < 1:
        return math.inf
    if df <= 30:
        lo = int(math.floor(df))
        hi = min(30, lo + 1)
        frac = df - lo
        return _T95[lo - 1] + (_T95[hi - 1] - _T95[lo - 1]) * frac
    return 1.960 + 2.4 / df  # close to the t quantile beyond 30 (2.021 at 40, 1.984 at 120)


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
        "ci95": [mean - half, mean + half] if half is not None else None,
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
