"""The flagship end to end: `ck init` and `ck benchmark` of solution:mlperf-object-detection
with the real managed venv (TensorFlow CPU, ONNX Runtime, LoadGen, pycocotools), the real
model from its PyPI wheel and the photo dataset, then a submission to a real hub."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_ck

pytestmark = [pytest.mark.slow, pytest.mark.builtin]
SOLUTION = "solution:mlperf-object-detection"


@pytest.fixture(scope="module")
def flagship_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One home for the module: `ck init` installs the venv once (a minute or two)."""
    home = tmp_path_factory.mktemp("flagship") / "ckhome"
    builtin = os.environ.pop("CK_BUILTIN_REPO", None)
    try:
        rc, out, err = run_ck(home, "init", SOLUTION, "--json", timeout=1800)
        assert rc == 0, err[-3000:]
        yield home
    finally:
        if builtin is not None:
            os.environ["CK_BUILTIN_REPO"] = builtin


def bench(home: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    rc, out, err = run_ck(home, "benchmark", SOLUTION, *args, "--json", timeout=1200)
    try:
        data = json.loads(out) if out.strip() else {}
    except ValueError:
        data = {"raw": out}
    return rc, data, err


def run_cb(home: Path, *args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    from tests.conftest import SRC

    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC)
    env.pop("CK_BUILTIN_REPO", None)
    proc = subprocess.run([sys.executable, "-c", "import sys; from cknowledge.cli.main import "
                           "cb_main; sys.exit(cb_main(sys.argv[1:]))", *args], env=env,
                          capture_output=True, text=True, timeout=1200,
                          stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout, proc.stderr


def test_init_again_is_all_cached(flagship_home: Path) -> None:
    rc, out, err = run_ck(flagship_home, "init", SOLUTION, "--json", timeout=600)
    assert rc == 0, err[-2000:]
    steps = json.loads(out)["steps"]
    assert [s["step"] for s in steps] == ["runtime", "model-tensorflow", "model-onnxruntime",
                                          "dataset"]
    assert all(s["cached"] for s in steps)


def test_tensorflow_offline_run_is_valid_recorded_and_laid_out(flagship_home: Path) -> None:
    rc, got, err = bench(flagship_home, "--backend=tensorflow", "--scenario=Offline",
                         "--count=5", "--duration_ms=1000")
    assert rc == 0, err[-3000:]
    assert got["valid"] is True and got["problems"] == []
    m = got["metrics"]
    assert m["qps"] > 0 and m["latency_p90_ms"] >= m["latency_p50_ms"] > 0
    assert 0 <= m["map"] <= 100
    results = Path(got["results"])
    scen = results / "results" / got["system"] / "ssdlite-mobilenet-v2-person" / "Offline"
    for rel in ("performance/run_1/mlperf_log_summary.txt",
                "performance/run_1/mlperf_log_detail.txt", "accuracy/mlperf_log_accuracy.json",
                "accuracy/accuracy.txt"):
        assert (scen / rel).is_file(), rel
    assert "Result is : VALID" in (scen / "performance/run_1/mlperf_log_summary.txt").read_text()
    system = json.loads((results / "systems" / f"{got['system']}.json").read_text())
    assert system["system_name"] == got["system"] and "tensorflow" in system["framework"]
    summary = json.loads(Path(got["result_file"]).read_text())
    assert summary["metrics"] == m and summary["inputs"]["count"] == 5
    page = Path(got["report"]).read_text()
    assert "result beside the references" in page and "this run" in page
    # the experiment entry holds the lock of every prepare step and the platform
    rc, out, err = run_ck(flagship_home, "load", f"experiment:{got['experiment']['name']}",
                          "--json")
    exp = json.loads(out)["meta"]
    assert exp["kind"] == "solution-benchmark"
    assert {n["name"] for n in exp["lock"]["nodes"]} >= {
        "python-venv-mlperf-object-detection", "ml-model-ssdlite-mobilenet-v2-person",
        "get-dataset-coco-person-mini"}
    assert exp["metrics"]["qps"]["samples"] == [m["qps"]]
    assert exp["platform"]["fingerprint"] == got["platform"]
    # the text form ends with the table and the report's path
    rc, out, err = run_cb(flagship_home, "benchmark", "mlperf-object-detection", "--count=2",
                          "--duration_ms=200")
    assert rc == 0, err[-2000:]
    assert "VALID run" in out and "QPS" in out and "HTML report:" in out
    assert "reference tensorflow Offline" in out      # the reference rows beside the run
    assert "submitted" not in out                     # no hub login: nothing is sent


def test_onnxruntime_singlestream_submits_to_a_hub(flagship_home: Path, tmp_path: Path
                                                   ) -> None:
    from tests.hub.test_client import start_hub

    hub = start_hub(tmp_path / "hub")
    try:
        token = hub.user("carol")
        rc, out, err = run_ck(flagship_home, "login", "hub", f"--hub={hub.url}",
                              f"--token={token}", "--json")
        assert rc == 0, err
        # `cb benchmark` submits by itself once a hub login exists
        rc, out, err = run_cb(flagship_home, "benchmark", "mlperf-object-detection",
                              "--backend=onnxruntime", "--scenario=SingleStream", "--count=3",
                              "--duration_ms=500", "--json")
        assert rc == 0, err[-3000:]
        got = json.loads(out)
        assert got["valid"] and got["submitted"]["duplicate"] is False
        import httpx

        rows = httpx.get(f"{hub.url}/api/v1/scoreboards/mlperf-object-detection/results"
                         ).json()
        assert rows["total"] == 1
        row = rows["items"][0]
        assert row["config"]["backend"] == "onnxruntime"
        assert row["metrics"]["qps"] == pytest.approx(got["metrics"]["qps"])
        full = httpx.get(f"{hub.url}/api/v1/results/{row['id']}").json()
        assert full["platform"]["fingerprint"] == got["platform"]
        assert any(c["component"].endswith("ml-model-ssdlite-mobilenet-v2-person")
                   for c in full["components"])
    finally:
        hub.stop()


def test_bad_inputs_stop_before_anything_runs(flagship_home: Path) -> None:
    rc, out, err = run_ck(flagship_home, "benchmark", SOLUTION, "--backend=pytorch")
    assert rc == 2 and "--backend=pytorch is not one of tensorflow, onnxruntime" in err
    rc, out, err = run_ck(flagship_home, "benchmark", SOLUTION, "--output=/proc/x/y")
    assert rc == 2 and "cannot create the run folder" in err
