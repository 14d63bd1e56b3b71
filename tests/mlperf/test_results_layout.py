"""LoadGen log parsing and the MLPerf results layout, on real LoadGen output.

The runs come from LoadGen around an instant SUT (loadgen_stub_sut.py): real summary,
detail and accuracy logs in a fraction of a second, VALID or INVALID on purpose.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from cknowledge.errors import InvalidInput, NotFound, UnsafeName
from cknowledge.mlperf import layout, results
from cknowledge.mlperf.harness import RUNNER_DIR

from .conftest import write_coco

STUB = str(Path(__file__).with_name("loadgen_stub_sut.py"))


def loadgen(python: str, out: Path, scenario: str, mode: str, min_duration_ms: int,
            min_queries: int, count: int = 4) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([python, "-I", STUB, str(out), scenario, mode, str(min_duration_ms),
                    str(min_queries), str(count)], check=True, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=120)
    return out


@pytest.fixture(scope="module")
def runs(mlperf_python: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("loadgen")
    out = {
        "valid": loadgen(mlperf_python, base / "valid", "Offline", "PerformanceOnly", 0, 10),
        # instant answers finish 2000+ scheduled queries long before 200 ms
        "short": loadgen(mlperf_python, base / "short", "SingleStream", "PerformanceOnly",
                         200, 10),
        # 5 queries are too few for LoadGen's early stopping (64)
        "few": loadgen(mlperf_python, base / "few", "SingleStream", "PerformanceOnly", 0, 5),
        "accuracy": loadgen(mlperf_python, base / "accuracy", "Offline", "AccuracyOnly", 0, 1),
    }
    # GT: the stub's box [ymin .1, xmin .2, ymax .5, xmax .6] on 100 x 100 images
    images = [{"id": i + 1, "file_name": f"{i}.png", "width": 100, "height": 100}
              for i in range(4)]
    dataset = write_coco(base / "ds", images, {1: [[20.0, 10.0, 40.0, 40.0]]})
    subprocess.run([mlperf_python, "-I", str(Path(RUNNER_DIR) / "accuracy.py"), "--log",
                    str(out["accuracy"] / results.ACCURACY_LOG), "--dataset", str(dataset),
                    "--output", str(out["accuracy"])], check=True, capture_output=True,
                   timeout=120)
    return out


def test_summary_of_a_valid_offline_run(runs: dict[str, Path]) -> None:
    s = results.parse_run(str(runs["valid"]))
    assert (s["scenario"], s["mode"], s["result"], s["valid"]) == \
        ("Offline", "PerformanceOnly", "VALID", True)
    assert s["min_duration_satisfied"] and s["min_queries_satisfied"]
    assert s["failed_checks"] == []
    assert s["metric"] == "samples_per_second" and s["metric_value"] > 1000
    assert s["samples_per_second"] == s["metric_value"]
    lat = s["latency_ns"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert s["parameters"]["samples_per_query"] >= 10
    assert s["parameters"]["min_duration_ms"] == 0
    assert s["parameters"]["performance_sample_count"] == 4
    assert s["warnings"] is False and s["errors"] is False
    assert s["detail_errors"] == []


def test_summary_of_invalid_runs_names_the_failed_check(runs: dict[str, Path]) -> None:
    short = results.parse_summary(str(runs["short"]))
    assert short["result"] == "INVALID" and short["valid"] is False
    assert short["failed_checks"] == ["min_duration_satisfied"]
    assert short["metric"] == "p90_latency_ns"
    assert short["metric_value"] == short["percentile_latency_ns"] == \
        short["latency_ns"]["p90"]
    assert short["qps_with_loadgen_overhead"] > 0
    few = results.parse_summary(str(runs["few"]))
    assert few["failed_checks"] == ["early_stopping_satisfied"]
    assert any("64 queries" in r for r in few["recommendations"])


def test_accuracy_run_takes_scenario_and_mode_from_the_detail_log(
        runs: dict[str, Path]) -> None:
    s = results.parse_run(str(runs["accuracy"]))
    assert s["valid"] is None
    assert (s["scenario"], s["mode"]) == ("Offline", "AccuracyOnly")
    detail = results.parse_detail(str(runs["accuracy"]))
    assert detail["values"]["effective_test_mode"] == "AccuracyOnly"
    assert detail["values"]["qsl_reported_total_count"] == 4
    log = json.loads((runs["accuracy"] / results.ACCURACY_LOG).read_text())
    assert sorted(e["qsl_idx"] for e in log) == [0, 1, 2, 3]


def test_detail_errors_and_bad_files(runs: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(runs["valid"], folder)
    detail = folder / results.DETAIL
    record = {"key": "error_invalid_config", "value": "bad setting", "time_ms": 1.0,
              "namespace": "mlperf::logging", "event_type": "POINT_IN_TIME",
              "metadata": {"is_error": True, "is_warning": False}}
    detail.write_text(detail.read_text() + ":::MLLOG " + json.dumps(record) + "\n")
    assert results.parse_detail(str(folder))["errors"] == ["error_invalid_config: bad setting"]
    detail.write_text("not a log\n")
    with pytest.raises(InvalidInput, match="no :::MLLOG records"):
        results.parse_detail(str(detail))
    with pytest.raises(NotFound, match="run the MLPerf harness"):
        results.parse_summary(str(tmp_path / "nowhere"))


def write_tree(root: Path, runs: dict[str, Path], perf: str = "valid") -> dict[str, object]:
    desc = layout.system_description("testbox", framework="onnxruntime 1.32.0")
    return layout.write_results(str(root), "testbox", "ssdlite-mobilenet-v2", "Offline",
                                performance=str(runs[perf]), accuracy=str(runs["accuracy"]),
                                system_desc=desc)


def test_layout_written_and_checked(runs: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "submission"
    written = write_tree(root, runs)
    base = root / "results" / "testbox" / "ssdlite-mobilenet-v2" / "Offline"
    for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt"):
        assert (base / "performance" / "run_1" / name).is_file()
    for name in ("mlperf_log_accuracy.json", "accuracy.txt", "mlperf_log_summary.txt",
                 "mlperf_log_detail.txt"):
        assert (base / "accuracy" / name).is_file()
    system = json.loads((root / "systems" / "testbox.json").read_text())
    assert written["system"] == str(root / "systems" / "testbox.json")
    for field in layout.SYSTEM_FIELDS:
        assert field in system
    assert system["system_name"] == "testbox" and system["number_of_nodes"] == 1
    assert system["host_processor_core_count"] >= 1
    assert system["accelerators_per_node"] == 0
    report = layout.check(str(root))
    assert report["ok"] is True
    [row] = report["results"]
    assert row["mAP_percent"] == 100.0
    assert row["result"] == "VALID" and row["metric"] == "samples_per_second"


def test_check_names_a_missing_file(runs: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "submission"
    write_tree(root, runs)
    acc = root / "results" / "testbox" / "ssdlite-mobilenet-v2" / "Offline" / "accuracy"
    (acc / "mlperf_log_accuracy.json").unlink()
    with pytest.raises(NotFound, match=r"accuracy lacks mlperf_log_accuracy\.json: rerun"):
        layout.check(str(root))
    (root / "systems" / "testbox.json").unlink()
    with pytest.raises(NotFound, match=r"testbox\.json does not exist") as info:
        layout.check(str(root))
    assert len(info.value.details["problems"]) == 2


@pytest.mark.parametrize("perf, failed", [("short", "min_duration_satisfied"),
                                          ("few", "early_stopping_satisfied")])
def test_check_rejects_an_invalid_run(runs: dict[str, Path], tmp_path: Path, perf: str,
                                      failed: str) -> None:
    root = tmp_path / "submission"
    # the SingleStream runs filed under Offline: the check reports INVALID first
    write_tree(root, runs, perf=perf)
    with pytest.raises(InvalidInput, match=f"performance run is INVALID \\({failed}\\)"):
        layout.check(str(root))


def test_check_rejects_bad_accuracy_and_system(runs: dict[str, Path], tmp_path: Path) -> None:
    root = tmp_path / "submission"
    write_tree(root, runs)
    acc = root / "results" / "testbox" / "ssdlite-mobilenet-v2" / "Offline" / "accuracy"
    (acc / "accuracy.txt").write_text("no score here\n")
    with pytest.raises(InvalidInput, match=r"accuracy\.txt states no mAP=NN\.NNN%"):
        layout.check(str(root))
    write_tree(root, runs)
    system = root / "systems" / "testbox.json"
    system.write_text(json.dumps({"system_name": "testbox"}))
    with pytest.raises(InvalidInput, match="lacks division, submitter"):
        layout.check(str(root))


def test_layout_inputs_are_checked(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UnsafeName):
        layout.write_results(str(tmp_path), "../x", "m", "Offline", system_desc={})
    with pytest.raises(InvalidInput, match="unknown MLPerf scenario"):
        layout.write_results(str(tmp_path), "s", "m", "Batch", system_desc={})
    with pytest.raises(NotFound, match="has no mlperf_log_summary.txt"):
        layout.write_results(str(tmp_path), "s", "m", "Offline", performance=str(tmp_path),
                             system_desc={})
    with pytest.raises(NotFound, match="has no results/ folder"):
        layout.check(str(tmp_path / "empty"))
