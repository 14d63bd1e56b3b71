"""Statistics of synthetic samples, the verdicts built on them, and the drift diff."""

from __future__ import annotations

import math

import pytest

from cknowledge.experiments.analysis import compare_metric, select
from cknowledge.experiments.drift import diff, relevant_env
from cknowledge.experiments.record import metrics_table
from cknowledge.experiments.stats import NOISY_CV, compare, summarize
from cknowledge.errors import InvalidInput


def test_summary_matches_hand_computed_values() -> None:
    s = summarize([2, 4, 4, 4, 5, 5, 7, 9])
    assert s["n"] == 8 and s["mean"] == 5.0 and s["median"] == 4.5
    assert s["min"] == 2 and s["max"] == 9
    std = math.sqrt(32 / 7)                       # sum of squares 32, n-1 = 7
    assert s["std"] == pytest.approx(std)
    half = 2.3646243 * std / math.sqrt(8)          # t(0.975, 7) = 2.3646243
    assert s["ci95_half"] == pytest.approx(half)
    assert s["ci95"] == pytest.approx([5 - half, 5 + half])
    assert s["cv"] == pytest.approx(std / 5)
    # quartiles 4 and 5.5 (linear interpolation): fences 1.75 and 7.75, so 9 is an outlier
    assert s["noisy"] is True and s["outliers"] == [7]


def test_the_noisy_flag_follows_the_documented_threshold() -> None:
    assert NOISY_CV == 0.05
    quiet = summarize([100, 101, 99, 100, 100])   # cv ≈ 0.7%
    assert quiet["noisy"] is False and quiet["cv"] < NOISY_CV
    loud = summarize([100, 112, 90, 100, 105])    # cv ≈ 8%
    assert loud["noisy"] is True and loud["cv"] > NOISY_CV
    assert "NOISY" in metrics_table({"t": {"unit": "s", "samples": [100, 112, 90, 100, 105]}})
    assert "NOISY" not in metrics_table({"t": {"unit": "s", "samples": [100, 101, 99, 100]}})


def test_outliers_are_flagged_by_index() -> None:
    s = summarize([10.0, 10.1, 9.9, 10.0, 10.05, 25.0, 10.02])
    assert s["outliers"] == [5]
    assert "#6" in metrics_table({"t": {"unit": "s",
                                        "samples": [10.0, 10.1, 9.9, 10.0, 10.05, 25.0, 10.02]}})


def test_one_value_has_no_interval_and_is_never_significant() -> None:
    s = summarize([3.0])
    assert s["ci95"] is None and s["cv"] is None and s["noisy"] is False
    c = compare([3.0], [300.0])
    assert c["significant"] is False and c["t"] is None
    # but a changed deterministic value (a binary's size) does not "agree"
    assert compare_metric([100.0], [120.0])["agree"] is False
    assert compare_metric([100.0], [100.0])["agree"] is True
    row = metrics_table({"size": {"unit": "bytes", "samples": [16312.0]}}).splitlines()[1]
    assert row.split()[:4] == ["size", "bytes", "1", "16312"] and "[" not in row


def test_compare_tells_significant_from_noise() -> None:
    a = [10.0, 10.1, 9.9, 10.0, 10.0]
    far = compare_metric(a, [12.0, 12.1, 11.9, 12.0, 12.0])
    assert far["significant"] is True and far["agree"] is False
    assert far["rel_diff"] == pytest.approx(0.2) and far["verdict"].startswith("differs: +20.0%")
    near = compare_metric(a, [10.02, 9.95, 10.08, 9.97, 10.03])
    assert near["significant"] is False and near["agree"] is True
    assert near["verdict"].startswith("agrees within noise")


def test_a_misspelled_metric_lists_the_valid_ones() -> None:
    metrics = {"time": {}, "size": {}}
    assert select(metrics, None, "time") == ["time"]
    with pytest.raises(InvalidInput) as err:
        select(metrics, None, "tiem")
    assert "time, size" in str(err.value) and "did you mean: time" in str(err.value)


def test_diff_reports_env_lock_platform_and_input_changes() -> None:
    lock = {"nodes": [{"ident": "compiler,gcc", "kind": "soft", "name": "compiler-gcc",
                       "version": "11.4.0", "path": "/usr/bin/gcc", "parts": {"env": "a" * 64}}]}
    new_lock = {"nodes": [dict(lock["nodes"][0], version="12.2.0")]}
    old = {"inputs": {"opt": "-O2"}, "env": {"CK_X": "1", "PATH": "/bin"}, "lock": lock,
           "platform": {"kernel": "6.1", "cpu": {"model": "A", "flags": list("abcdefgh")}}}
    new = {"inputs": {"opt": "-O3"}, "env": {"PATH": "/bin"}, "lock": new_lock,
           "platform": {"kernel": "6.2", "cpu": {"model": "A", "flags": list("abcdefgz")}}}
    found = {d["what"]: (d["recorded"], d["now"]) for d in diff(old, new)}
    assert found == {"inputs.opt": ("-O2", "-O3"), "env.CK_X": ("1", None),
                     "lock.soft:compiler-gcc.version": ("11.4.0", "12.2.0"),
                     "platform.kernel": ("6.1", "6.2"), "platform.cpu.flags": (["h"], ["z"])}
    assert diff(old, old) == []


def test_relevant_env_keeps_ck_and_listed_names_but_no_secrets() -> None:
    env = relevant_env(["MY_KNOB"], {"CK_A": "1", "PATH": "/bin", "HOME": "/root",
                                     "MY_KNOB": "x", "CK_API_TOKEN": "s3cret"})
    assert env == {"CK_A": "1", "MY_KNOB": "x", "PATH": "/bin"}
