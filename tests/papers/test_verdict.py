"""Verdicts: within or outside each kind of tolerance, series, missing values, hardware
classes; badge rules."""

from __future__ import annotations

from typing import Any

import pytest

from cknowledge.papers import badges
from cknowledge.papers.schema import Hardware, check_paper
from cknowledge.papers.verdict import hardware_class, judge, lookup, noise_band, same_class

WF = {"action": "benchmark", "automation": "solution", "artifact": "s"}


def claim(**kw: Any) -> Any:
    base = {"id": "c", "figure": "T1", "workflow": WF, "metric": "metrics.qps",
            "value": 100.0, "tolerance": {"rel": 0.1}}
    base.update(kw)
    return check_paper({"title": "t", "authors": ["a"], "claims": [base]}).claims[0]


@pytest.mark.parametrize("got, verdict", [(109.9, "reproduced"), (90.1, "reproduced"),
                                          (111.0, "not_reproduced"), (80, "not_reproduced")])
def test_relative_tolerance(got: float, verdict: str) -> None:
    out = judge(claim(), {"metrics": {"qps": got}}, comparable=True)
    assert out["verdict"] == verdict
    assert out["allowed"] == pytest.approx(10.0)


def test_absolute_tolerance_and_the_widest_applies() -> None:
    c = claim(tolerance={"abs": 0.5, "rel": 0.001}, value=86.733, metric="metrics.map")
    assert judge(c, {"metrics": {"map": 87.2}}, True)["verdict"] == "reproduced"
    assert judge(c, {"metrics": {"map": 87.3}}, True)["verdict"] == "not_reproduced"


def test_noise_band_of_the_recorded_runs() -> None:
    samples = [10.0, 11.0, 9.0, 10.5, 9.5]
    mean, half = noise_band(samples)
    assert mean == pytest.approx(10.0) and 2.0 < half < 3.0   # t(4)*s*sqrt(1+1/5)
    c = claim(value=10.0, samples=samples, tolerance={"noise": True})
    assert judge(c, {"metrics": {"qps": 10.0 + half * 0.9}}, True)["verdict"] == "reproduced"
    assert judge(c, {"metrics": {"qps": 10.0 + half * 1.1}}, True)["verdict"] == \
        "not_reproduced"
    # a measured value with its own interval widens the band by its half-width
    wide = {"metrics": {"qps": {"mean": 10.0 + half * 1.1, "ci95_half": half * 0.2}}}
    assert judge(c, wide, True)["verdict"] == "reproduced"
    # raw repetitions are summarized first
    assert judge(c, {"metrics": {"qps": [9.8, 10.1, 10.2]}}, True)["measured"]["n"] == 3


def test_incomparable_hardware_keeps_the_measurement() -> None:
    out = judge(claim(hardware="same"), {"metrics": {"qps": 100.0}}, comparable=False)
    assert out["verdict"] == "not_comparable" and out["within_tolerance"] is True
    assert out["measured"]["mean"] == 100.0 and "hardware class" in out["reason"]


def test_a_missing_value_is_failed_naming_the_path() -> None:
    out = judge(claim(), {"metrics": {"map": 1}}, True)
    assert out["verdict"] == "failed" and "metrics.qps" in out["reason"]
    out = judge(claim(), {"metrics": {"qps": "fast"}}, True)
    assert out["verdict"] == "failed" and "not a number" in out["reason"]


def test_series_by_label_and_a_label_off_the_front() -> None:
    c = claim(metric=None, series={"path": "front", "label": "describe",
                                   "value": "objectives.size"},
              value={"-Os": 3130, "-O3": 4083}, tolerance={"rel": 0.05})
    front = [{"describe": "-O3", "objectives": {"size": {"mean": 4100.0}}},
             {"describe": "-Os", "objectives": {"size": {"mean": 3100.0}}}]
    out = judge(c, {"front": front}, True)
    assert out["verdict"] == "reproduced" and set(out["points"]) == {"-Os", "-O3"}
    out = judge(c, {"front": front[:1]}, True)
    assert out["verdict"] == "not_reproduced" and out["points"]["-Os"]["missing"]


def test_paths_with_selectors_and_indexes() -> None:
    data = {"front": [{"d": "-O3", "t": {"mean": 1.5}}, {"d": "-Os", "t": 2}]}
    assert lookup(data, "front[d=-Os].t") == 2
    assert lookup(data, "front[0].t.mean") == 1.5
    assert lookup(data, "front[-1].d") == "-Os"
    for bad in ("front[d=-O9].t", "front[5]", "nothing", "front[0].t.median"):
        with pytest.raises(Exception):
            lookup(data, bad)


def test_hardware_class_matching() -> None:
    facts = {"arch": "x86_64", "cpu": {"model": "AMD EPYC 7B13", "logical_cores": 2},
             "gpus": []}
    here = hardware_class(facts)
    assert same_class(Hardware(arch="x86_64", cpu_model="AMD EPYC*", logical_cores=2,
                               gpus=[]), here) == (True, [])
    ok, why = same_class(Hardware(cpu_model="Intel*", logical_cores=8), here)
    assert not ok and any("cpu_model" in w for w in why) and any("logical" in w for w in why)
    ok, why = same_class(Hardware(gpus=["NVIDIA H100*"]), here)
    assert not ok and "gpus" in why[0]
    assert same_class(Hardware(), here)[0]   # no class given: every machine is in it


def test_badge_rules() -> None:
    assert badges.available(True, {"solution:s": True})["earned"]
    assert not badges.available(True, {"solution:s": False})["earned"]
    assert not badges.available(False, {})["earned"]
    assert not badges.available(True, {}, private=True)["earned"]
    assert badges.functional(["a", "b"], {"a": "reproduced", "b": "not_comparable"})["earned"]
    assert not badges.functional(["a", "b"], {"a": "reproduced"})["earned"]
    assert not badges.functional(["a"], {"a": "failed"})["earned"]
    assert badges.functional_any(["a"], [{"a": "failed"}, {"a": "not_reproduced"}])["earned"]
    assert not badges.functional_any(["a"], [])["earned"]
    assert badges.reproduced(["a", "b"], {"a": 1, "b": 2})["earned"]
    r = badges.reproduced(["a", "b"], {"a": 3})
    assert not r["earned"] and "b" in r["evidence"]
