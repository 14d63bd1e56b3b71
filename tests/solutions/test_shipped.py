"""The solutions shipped besides the MLPerf flagship, run as the docs show: cbench (the
program workflow with the detected gcc) and sklearn-classification (a real `ck init` that
installs scikit-learn into a managed venv, then a benchmark and a small autotune); and an
autotune of the MLPerf solution with the real harness and a small budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cknowledge.tuning.record import read_trials
from tests.solutions.test_review import assets, mine  # noqa: F401 - fixtures

pytestmark = pytest.mark.builtin


def test_the_shipped_manifests_are_valid() -> None:
    import yaml

    from cknowledge.solutions.manifest import load_manifest

    root = Path(__file__).resolve().parents[2] / "src/cknowledge/builtin/solution"
    for name in ("cbench", "sklearn-classification"):
        meta = yaml.safe_load((root / name / "meta.yaml").read_text())
        manifest = load_manifest({"name": name, "meta": meta})
        assert manifest.reference and manifest.tune and manifest.run.harness != "mlperf-loadgen"


def test_cbench_time_and_size(home: Path, ck: Any, ckj: Any) -> None:
    got = ckj("benchmark", "solution:cbench", "--program=crc32", "--opt=-O2",
              "--dataset=cbench-n-small", "--repetitions=3")
    assert got["valid"] and got["harness"] == "workflow"
    assert got["statistics"]["time"]["n"] == 3 and got["metrics"]["size"] > 100
    assert got["inputs"]["program"] == "crc32"
    small = ckj("benchmark", "solution:cbench", "--program=crc32", "--opt=-Os",
                "--dataset=cbench-n-small", "--repetitions=2")
    assert small["metrics"]["size"] <= got["metrics"]["size"]    # -Os makes no larger code
    rc, out, err = ck("benchmark", "solution:cbench", "--program=crc32", "--opt=-O4")
    assert rc == 2 and "--opt=-O4 is not one of -O0, -O1, -O2, -O3, -Os" in err
    rc, out, err = ck("benchmark", "solution:cbench", "--program=crc32",
                      "--flags=-fno-such-flag", "--dataset=cbench-n-small", "--quiet")
    assert rc == 14 and err.count("\n") == 1, err
    assert "solution:cbench: the workflow step (program:cbench-crc32) failed" in err


@pytest.mark.slow
def test_sklearn_classification_init_benchmark_autotune(home: Path, ck: Any, ckj: Any
                                                        ) -> None:
    rc, out, err = ck("init", "solution:sklearn-classification", timeout=1200)
    assert rc == 0, err
    assert "runtime" in out and "installed" in out
    got = ckj("benchmark", "solution:sklearn-classification", "--dataset=iris", "--model=knn")
    assert got["valid"] and got["metrics"]["accuracy"] > 85
    assert got["statistics"]["accuracy"]["n"] == 3
    page = Path(got["report"]).read_text()
    assert "reference svm digits" in page and "accuracy &gt;= 80: ok" in page
    tuned = ckj("autotune", "solution:sklearn-classification", "--dataset=iris",
                "--space=model", "--strategy=grid", "--budget=2", "--quiet")
    assert tuned["trials"]["ok"] == 2 and tuned["front"]
    assert {t["config"]["model"] for t in read_trials(tuned["experiment"]["trials"])} == \
        {"svm", "logreg"}


@pytest.mark.slow
def test_autotune_the_mlperf_solution_with_a_small_budget(home: Path, ck: Any,
                                                          mine: str) -> None:  # noqa: F811
    space = {"choices": {"scenario": {"values": ["SingleStream", "Offline"]},
                         "threads": {"values": [1, 2]}}}
    rc, out, err = ck("autotune", mine, f"--space={json.dumps(space)}", "--strategy=grid",
                      "--budget=2", "--objectives=qps:max,latency_p90_ms:min",
                      "--constraint=map>=0", "--count=2", "--duration_ms=300", "--json",
                      "--quiet", timeout=900)
    assert rc == 0, err
    got = json.loads(out)
    trials = read_trials(got["experiment"]["trials"])
    assert [t["config"] for t in trials] == [{"scenario": "SingleStream", "threads": 1},
                                            {"scenario": "SingleStream", "threads": 2}]
    assert all(t["status"] == "ok" and t["stats"]["map"]["mean"] >= 0 for t in trials), trials
    assert got["front"] and got["constraints"] == ["map>=0"]


@pytest.mark.slow
def test_an_mlperf_run_submits_with_its_platform_facts_an_invalid_one_not(
        home: Path, ck: Any, mine: str, tmp_path: Path) -> None:  # noqa: F811
    import httpx

    from tests.hub.test_client import start_hub

    hub = start_hub(tmp_path / "hub")
    try:
        env = {"CK_HUB_TOKEN": hub.user("dave")}
        rc, out, err = ck("benchmark", mine, "--count=2", "--duration_ms=300",
                          "--scenario=SingleStream", "--max_duration_ms=100", "--submit",
                          f"--hub={hub.url}", "--quiet", env=env, timeout=600)
        assert rc == 14 and err.strip().endswith("marked invalid; not submitted)"), err
        rc, out, err = ck("benchmark", mine, "--count=2", "--duration_ms=300", "--submit",
                          f"--hub={hub.url}", "--json", "--quiet", env=env, timeout=600)
        assert rc == 0, err
        got = json.loads(out)
        row = httpx.get(f"{hub.url}/api/v1/results/{got['submitted']['id']}").json()
        assert row["platform"]["facts"]["memory_gib"] > 0 and row["platform"]["facts"]["cores"]
        assert row["experiment"]["uid"] == got["experiment"]["uid"]
        board = httpx.get(f"{hub.url}/api/v1/scoreboards/mlperf-object-detection").json()
        assert board["count"] == 1                        # the invalid run is not there
    finally:
        hub.stop()
