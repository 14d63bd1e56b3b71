"""Noise-aware Pareto fronts and hypervolumes.

Every point is a vector of objective values to **minimise** (a maximised objective is
negated before it comes here) with, per objective, the half-width of its 95% confidence
interval (0 or ``None`` where the objective has no noise, like a binary's size).

``a`` dominates ``b`` when ``a`` is better or equal in every objective and better by more
than the sum of both points' half-widths in at least one (an objective without noise:
any strict improvement counts). A difference smaller than the noise never pushes a point
off the front, and equal points never dominate each other: ties all stay on the front.

The front is found with numpy in O(n² m) comparisons done in blocks (a few thousand points
take milliseconds). The dominance is not transitive (the margins differ from point to
point), so every point is checked against every other, dominated or not.

Hypervolume (:func:`hypervolume`): the volume dominated by the points and bounded by a
reference point, exact: a sweep for 2 objectives, slicing along the last objective for more
(fine for fronts of a few hundred points). :func:`reference_point` gives the default
reference: per objective, the worst value plus 10% of its magnitude (the worst value times
1.1 for positive values), or plus 10% of the range where that is larger.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

_CELLS = 1_000_000


def dominates(a: Sequence[float], b: Sequence[float], ha: Sequence[float | None] | None = None,
              hb: Sequence[float | None] | None = None) -> bool:
    """Whether ``a`` dominates ``b`` (minimisation, noise-aware; see the module)."""
    strictly = False
    for k, (x, y) in enumerate(zip(a, b)):
        if x > y:
            return False
        margin = (_h(ha, k)) + (_h(hb, k))
        if y - x > margin:
            strictly = True
    return strictly


def _h(halfs: Sequence[float | None] | None, k: int) -> float:
    if halfs is None:
        return 0.0
    value = halfs[k]
    return 0.0 if value is None or not math.isfinite(value) else float(value)


def pareto_front(means: Sequence[Sequence[float]],
                 halfs: Sequence[Sequence[float | None]] | None = None) -> list[int]:
    """Indices of the points no other point dominates, in input order."""
    from . import TUNE_NEEDS, require

    np = require("numpy", TUNE_NEEDS["numpy"])

    n = len(means)
    if n == 0:
        return []
    m_arr = np.asarray(means, dtype=float)
    if m_arr.ndim != 2:
        raise ValueError("means must be a list of equally long vectors")
    if halfs is None:
        h_arr = np.zeros_like(m_arr)
    else:
        h_arr = np.array([[_h(row, k) for k in range(m_arr.shape[1])] for row in halfs],
                         dtype=float)
        if h_arr.shape != m_arr.shape:
            raise ValueError("halfs must have the shape of means")
    dominated = np.zeros(n, dtype=bool)
    block = max(1, _CELLS // (n * m_arr.shape[1]))  # keeps the temporaries to a few MB
    for start in range(0, n, block):
        b = m_arr[start:start + block]                  # (B, m): the points judged
        hb = h_arr[start:start + block]
        le = (m_arr[None, :, :] <= b[:, None, :]).all(axis=2)          # a <= b everywhere
        gap = b[:, None, :] - m_arr[None, :, :]                        # how much a is better
        margin = hb[:, None, :] + h_arr[None, :, :]
        better = (gap > margin).any(axis=2)
        dominated[start:start + block] = (le & better).any(axis=1)
    return [i for i in range(n) if not dominated[i]]


def reference_point(points: Sequence[Sequence[float]]) -> list[float]:
    """The default reference (minimisation): worst value plus 10% of its magnitude or of
    the range, whichever is larger (1 when both are 0)."""
    if not points:
        raise ValueError("no points")
    ref = []
    for k in range(len(points[0])):
        column = [p[k] for p in points]
        worst, best = max(column), min(column)
        pad = 0.1 * max(abs(worst), worst - best)
        ref.append(worst + (pad if pad > 0 else 1.0))
    return ref


def hypervolume(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Volume dominated by ``points`` (minimisation) inside the box up to ``reference``;
    points not strictly better than the reference in every objective add nothing."""
    ref = [float(r) for r in reference]
    pts = [tuple(float(v) for v in p) for p in points
           if len(p) == len(ref) and all(v < r for v, r in zip(p, ref))]
    return _hv(pts, ref)


def _hv(pts: list[tuple[float, ...]], ref: list[float]) -> float:
    if not pts:
        return 0.0
    m = len(ref)
    if m == 1:
        return ref[0] - min(p[0] for p in pts)
    if m == 2:
        total, best_y = 0.0, ref[1]
        for x, y in sorted(pts):
            if y < best_y:
                total += (ref[0] - x) * (best_y - y)
                best_y = y
        return total
    pts = _nondominated(pts)
    pts.sort(key=lambda p: p[-1])
    total = 0.0
    for i, p in enumerate(pts):
        top = pts[i + 1][-1] if i + 1 < len(pts) else ref[-1]
        depth = top - p[-1]
        if depth > 0:
            total += depth * _hv([q[:-1] for q in pts[:i + 1]], ref[:-1])
    return total


def _nondominated(pts: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    unique = sorted(set(pts))
    out: list[tuple[float, ...]] = []
    for p in unique:  # lexicographic order: a dominator always comes before
        if not any(all(x <= y for x, y in zip(q, p)) for q in out):
            out.append(p)
    return out
