"""End to end: `ck init` and `ck benchmark` of the shipped solution record a run, and `ck
submission` builds a tree from it that the (stand-in) checker accepts: the run record that
the solution writes is the one the submission reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_ck

from .test_submission import SYSTEM, stand_in_package

pytestmark = [pytest.mark.slow, pytest.mark.builtin]
SOLUTION = "solution:mlperf-object-detection"


def test_a_recorded_benchmark_becomes_a_checked_submission(tmp_path: Path) -> None:
    home = tmp_path / "ckhome"
    builtin = os.environ.pop("CK_BUILTIN_REPO", None)
    try:
        rc, out, err = run_ck(home, "init", SOLUTION, "--backend=tensorflow", timeout=1800)
        assert rc == 0, err[-3000:]
        rc, out, err = run_ck(home, "benchmark", SOLUTION, "--backend=tensorflow",
                              "--scenario=Offline", "--count=4", "--duration_ms=500",
                              "--json", timeout=900)
        assert rc == 0, err[-3000:]
        summary = json.loads(out)
        experiment = summary["experiment"]["name"]
        settings = summary["loadgen_settings"]["performance"]  # mlperf.conf + user.conf
        assert settings["min_duration_ms"] == 500 and settings["scenario"] == "Offline"
        assert settings["performance_sample_count"] == 64  # yolo's, from mlperf.conf
        sub = tmp_path / "sub"
        rc, out, err = run_ck(home, "submission", SOLUTION, "--submitter=acme",
                              f"--output={sub}", "--scenarios=Offline", *SYSTEM, timeout=120)
        assert rc == 16 and "ran 500 ms, under MLPerf's minimum of 600000 ms" in err
        rc, out, err = run_ck(home, "submission", SOLUTION, "--submitter=acme",
                              f"--output={sub}", "--scenarios=Offline", "--draft", *SYSTEM,
                              "--json", timeout=120)
        assert rc == 0, err
        [row] = json.loads(out)["results"]
        assert row["experiment"] == experiment and row["result"] == "VALID"
        assert row["mAP_percent"] > 0
        [user_conf] = list(sub.rglob("Offline/user.conf"))
        assert "yolo.Offline.min_duration = 500" in user_conf.read_text()
        source = tmp_path / "inference"
        stand_in_package(home, tmp_path)  # a checkout with the stand-in checker
        rc, out, err = run_ck(home, "check", "submission", str(sub), f"--source={source}",
                              timeout=300)
        assert rc == 0 and "submission looks OK" in out, err
    finally:
        if builtin is not None:
            os.environ["CK_BUILTIN_REPO"] = builtin
