"""Regressions of the harness found by using the flagship as a new user would: a count
larger than the data set, a LoadGen run that ends INVALID, the venv package check, and the
operating system's name in the system description."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cknowledge.errors import InvalidInput, NotFound
from cknowledge.mlperf import layout, results
from cknowledge.mlperf.harness import RUNNER, missing_packages, run_harness


def test_a_count_larger_than_the_dataset_is_refused(mlperf_python: str, model_pb: str,
                                                    photo_dataset: Path,
                                                    tmp_path: Path) -> None:
    # it used to run the 4 images silently while the summary said 100
    proc = subprocess.run([mlperf_python, "-I", RUNNER, "--backend", "tensorflow",
                           "--model", model_pb, "--dataset", str(photo_dataset),
                           "--scenario", "Offline", "--mode", "performance", "--count", "100",
                           "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("mlperf harness: error: --count=100 is more than the 4 "
                                "images of ")
    assert lines[-1].endswith("use --count=4 or less, or leave it out for all")


def test_a_max_duration_below_the_min_duration_ends_invalid_with_logs(
        mlperf_python: str, model_pb: str, photo_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "perf"
    report = run_harness(mlperf_python, "tensorflow", model_pb, str(photo_dataset),
                         "SingleStream", "performance", 2, 1, str(out),
                         min_duration_ms=2000, max_duration_ms=200)
    got = report["loadgen_results"]
    assert got["result"] == "INVALID" and got["valid"] is False
    assert "min_duration_satisfied" in got["failed_checks"]
    assert got["parameters"]["max_duration_ms"] == 200
    for name in (results.SUMMARY, results.DETAIL):
        assert (out / name).is_file()
    # the results layout of that run fails its check, naming the summary and what to do
    root = tmp_path / "layout"
    layout.write_results(str(root), "sys1", "m", "SingleStream", performance=str(out))
    (root / "results" / "sys1" / "m" / "SingleStream" / "accuracy").mkdir()
    with pytest.raises((InvalidInput, NotFound)) as info:
        layout.check(str(root))
    assert info.value.details["problems"]


def test_missing_packages_are_found_without_importing(mlperf_python: str) -> None:
    assert missing_packages(mlperf_python, ["tensorflow", "onnxruntime"]) == []
    # cknowledge's own venv has numpy and Pillow, but neither runtime nor LoadGen
    missing = missing_packages(sys.executable, ["tensorflow"])
    assert "tensorflow-cpu" in missing and "mlcommons-loadgen" in missing
    assert "numpy" not in missing and "pillow" not in missing
    with pytest.raises(NotFound, match="venv python .* does not exist"):
        missing_packages("/nonexistent/bin/python", ["onnxruntime"])


def test_the_operating_system_is_named_by_the_distribution() -> None:
    from cknowledge.detect.platform import platform_facts

    facts = platform_facts()
    desc = layout.system_description("sys1", "tensorflow-cpu 2.21.0")
    distro = facts.get("distro") or {}
    if distro.get("pretty_name"):  # "Linux 12" was all it said before
        assert desc["operating_system"].startswith(str(distro["pretty_name"]))
    assert layout.os_text({"os": "Linux", "distro": {"id": "debian", "version_id": "12"}}) \
        == "debian 12"
    assert layout.os_text({"os": "Darwin", "distro": {}}) == "Darwin"
