"""The LoadGen harness end to end: the real detector, real photos, both runtimes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cknowledge.errors import CommandFailed, InvalidInput, NotFound
from cknowledge.mlperf import layout
from cknowledge.mlperf.harness import RUNNER, run_harness

from .conftest import write_coco


def test_inputs_are_checked_before_anything_runs(tmp_path: Path) -> None:
    args = dict(python=sys.executable, backend="tensorflow", model=__file__,
                dataset=str(tmp_path), scenario="Offline", mode="performance", count=2,
                threads=1, output=str(tmp_path / "out"))
    for key, value, error, text in (
            ("backend", "tvm", InvalidInput, "unknown MLPerf backend 'tvm'"),
            ("scenario", "Server", InvalidInput, "the harness runs SingleStream, Offline"),
            ("mode", "find-peak", InvalidInput, "unknown MLPerf mode"),
            ("count", 0, InvalidInput, "at least 1"),
            ("model", str(tmp_path / "m.pb"), NotFound, "model .* does not exist"),
            ("python", str(tmp_path / "py"), NotFound, "venv python .* does not exist")):
        with pytest.raises(error, match=text):
            run_harness(**{**args, key: value})  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_a_venv_without_the_runtime_is_named(tmp_path: Path, model_pb: str,
                                             photo_dataset: Path) -> None:
    # cknowledge's own venv has numpy and Pillow but no TensorFlow
    with pytest.raises(CommandFailed, match="the Python module 'tensorflow' .* is missing "
                       "from the solution venv: install the package 'tensorflow-cpu'"):
        run_harness(sys.executable, "tensorflow", model_pb, str(photo_dataset), "Offline",
                    "performance", 2, 1, str(tmp_path / "out"))


def test_runner_errors_are_one_line(mlperf_python: str, model_pb: str, tmp_path: Path,
                                    photo_dataset: Path) -> None:
    broken = write_coco(tmp_path / "ds", [{"id": 1, "file_name": "gone.png", "width": 8,
                                           "height": 8}], {})
    proc = subprocess.run([mlperf_python, "-I", RUNNER, "--backend", "tensorflow",
                           "--model", model_pb, "--dataset", str(broken), "--scenario",
                           "Offline", "--mode", "performance", "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().endswith("does not exist: restore it or rebuild the dataset")
    with pytest.raises(CommandFailed, match=r"failed: .*model\.onnx is not a TensorFlow "
                       "frozen graph"):
        (tmp_path / "model.onnx").write_bytes(b"\x08\x07garbage")
        run_harness(mlperf_python, "tensorflow", str(tmp_path / "model.onnx"),
                    str(photo_dataset), "Offline", "performance", 2, 1, str(tmp_path / "o"))


def test_a_failure_inside_loadgen_ends_the_run_with_its_reason(
        mlperf_python: str, model_pb: str, photo_dataset: Path, tmp_path: Path) -> None:
    # sample 1 cannot be decoded: LoadGen loads it in its own thread, after the warm-up
    ds = tmp_path / "ds"
    shutil.copytree(photo_dataset, ds)
    (ds / "images" / "camera.png").write_bytes(b"not a png")
    with pytest.raises(CommandFailed, match=r"failed: cannot decode image .*camera\.png.*"
                       r"LoadGen's logs in .* are not valid"):
        run_harness(mlperf_python, "tensorflow", model_pb, str(ds), "Offline", "performance",
                    2, 1, str(tmp_path / "out"), min_duration_ms=0)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["SingleStream", "Offline"])
def test_performance_runs_are_valid(mlperf_python: str, model_pb: str, photo_dataset: Path,
                                    tmp_path: Path, scenario: str) -> None:
    out = tmp_path / scenario
    report = run_harness(mlperf_python, "tensorflow", model_pb, str(photo_dataset), scenario,
                         "performance", 4, 2, str(out), min_duration_ms=1000, max_batch=2)
    summary = report["loadgen_results"]
    assert summary["result"] == "VALID", summary
    assert (summary["scenario"], summary["mode"]) == (scenario, "PerformanceOnly")
    # mlperf.conf (built into LoadGen) sets yolo's performance sample count; LoadGen loads
    # at most the QSL's 4 samples. user.conf holds what the harness chose.
    assert summary["parameters"]["performance_sample_count"] == 64
    assert summary["parameters"]["min_duration_ms"] == 1000
    effective = report["effective_settings"]
    assert effective["min_duration_ms"] == 1000 and effective["scenario"] == scenario
    assert effective["qsl_rng_seed"] == 2085463073848966840  # mlperf.conf's, not a default
    conf = (out / "user.conf").read_text().splitlines()
    assert f"yolo.{scenario}.min_duration = 1000" in conf
    key = "target_latency" if scenario == "SingleStream" else "target_qps"
    assert any(line.startswith(f"yolo.{scenario}.{key} = ") for line in conf)
    assert report["loadgen"]["user_conf"] == str(out / "user.conf")
    assert report["count"] == 4 and report["versions"]["mlcommons-loadgen"] == "6.0.17"
    assert report["loadgen"]["samples"] >= (64 if scenario == "SingleStream" else 4)
    assert summary["metric_value"] > 0
    if scenario == "SingleStream":
        assert summary["parameters"]["min_query_count"] == 64
        assert 1e6 < summary["latency_ns"]["p50"] < 5e9  # between 1 ms and 5 s per image
    else:
        assert report["max_batch"] == 2
    assert json.loads((out / "mlperf_log_accuracy.json").read_text() or "[]") == []


@pytest.mark.slow
def test_accuracy_tensorflow_and_onnx_agree(mlperf_python: str, model_pb: str,
                                            model_onnx: str, photo_dataset: Path,
                                            tmp_path: Path) -> None:
    tf = run_harness(mlperf_python, "tensorflow", model_pb, str(photo_dataset),
                     "SingleStream", "accuracy", None, 2, str(tmp_path / "tf"))
    onnx = run_harness(mlperf_python, "onnxruntime", model_onnx, str(photo_dataset),
                       "Offline", "accuracy", None, 2, str(tmp_path / "onnx"), max_batch=4)
    for report in (tf, onnx):
        assert report["loadgen_results"]["mode"] == "AccuracyOnly"
        assert report["accuracy"]["images"] == 4 and report["accuracy"]["no_results"] == 0
        # both people are found: the boxes are rough, so AP stays below 100 at high IoU
        assert 50.0 < report["mAP_percent"] <= 100.0
        assert report["mAP_percent"] == report["accuracy"]["mAP_percent"]
    assert abs(tf["mAP_percent"] - onnx["mAP_percent"]) < 1.0
    assert onnx["versions"]["runtime"].startswith("onnxruntime ")

    # the two runs make a results tree that passes the check (performance from a short run)
    perf = run_harness(mlperf_python, "onnxruntime", model_onnx, str(photo_dataset),
                       "Offline", "performance", None, 2, str(tmp_path / "perf"),
                       min_duration_ms=500, max_batch=4)
    root = tmp_path / "results"
    layout.write_results(str(root), "testbox", "ssdlite-mobilenet-v2", "Offline",
                         performance=str(tmp_path / "perf"), accuracy=str(tmp_path / "onnx"),
                         system_desc=layout.system_description(
                             "testbox", framework=perf["versions"]["runtime"]))
    [row] = layout.check(str(root))["results"]
    assert row["mAP_percent"] == onnx["mAP_percent"] and row["result"] == "VALID"
