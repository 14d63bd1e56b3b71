"""Exact Student-t quantiles (fractional Welch df too) and intervals that stay >= 0."""

from __future__ import annotations

import math

import pytest

from cknowledge.experiments import stats
from cknowledge.experiments.stats import compare, summarize, t95, t_cdf, t_quantile

# scipy.stats.t.ppf(0.975, df), to 10 significant digits
REFERENCE = {1: 12.70620474, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 7: 2.364624252,
             10: 2.228138852, 30: 2.042272456, 40: 2.021075390, 120: 1.979930405}


@pytest.mark.parametrize("df,expected", sorted(REFERENCE.items()))
def test_integer_df_matches_the_tables(df, expected) -> None:
    assert t95(df) == pytest.approx(expected, rel=1e-8)


def _pdf(x: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                    - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(x * x / df))


@pytest.mark.parametrize("df", [1.3, 2.5, 4.7, 9.99, 33.3])
def test_fractional_df_is_exact_by_integrating_the_density(df) -> None:
    q = t95(df)
    n = 20000  # Simpson's rule over [0, q]: the mass there is 0.475
    h = q / n
    total = _pdf(0, df) + _pdf(q, df) + sum((4 if i % 2 else 2) * _pdf(i * h, df)
                                            for i in range(1, n))
    assert total * h / 3 == pytest.approx(0.475, abs=1e-9)
    lower, upper = t95(math.ceil(df)), t95(math.floor(df))
    assert lower < q < upper  # strictly between its integer neighbours, not a linear guess


def test_quantile_and_cdf_are_inverse_and_symmetric() -> None:
    for p in (0.6, 0.9, 0.975, 0.999):
        for df in (0.7, 3.2, 50.0):
            assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)
            assert t_quantile(1 - p, df) == pytest.approx(-t_quantile(p, df))
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959963985)
    assert t95(0) == math.inf


def test_scipy_agrees_when_installed() -> None:
    scipy_t = pytest.importorskip("scipy.stats").t
    for df in (1.5, 6.25, 17.8):
        assert t95(df) == pytest.approx(scipy_t.ppf(0.975, df), rel=1e-9)


def test_the_pure_python_path_without_scipy(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy.stats → ImportError
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    assert stats.t95(7) == pytest.approx(REFERENCE[7], rel=1e-8)
    assert stats.t95(2.5) == pytest.approx(3.5746548, rel=1e-7)  # checked by integration above


def test_welch_uses_the_fractional_df() -> None:
    a = [1.0, 1.1, 0.9, 1.05]
    b = [1.2, 1.6, 0.9, 1.5, 1.1, 1.4]
    r = compare(a, b)
    assert r["df"] != int(r["df"])
    assert r["significant"] == (abs(r["t"]) > t_quantile(0.975, r["df"]))


def test_time_intervals_never_go_below_zero() -> None:
    s = summarize([0.001, 0.002, 0.5])  # wide spread around a small mean
    assert s["mean"] - s["ci95_half"] < 0
    assert s["ci95"][0] == 0.0 and s["ci95"][1] == pytest.approx(s["mean"] + s["ci95_half"])
    signed = summarize([-1.0, 0.5, 2.0])  # a quantity that can be negative keeps its interval
    assert signed["ci95"][0] == pytest.approx(signed["mean"] - signed["ci95_half"])
