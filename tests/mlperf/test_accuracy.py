"""Decoding LoadGen's accuracy log and scoring it, against a case computed by hand."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest

from cknowledge.mlperf.harness import RUNNER_DIR
from cknowledge.mlperf.layout import parse_accuracy_txt

from .conftest import write_coco

ACCURACY = str(Path(RUNNER_DIR) / "accuracy.py")


def rows(*detections: list[float]) -> str:
    """The hex LoadGen logs for a response of float32 rows."""
    return b"".join(struct.pack("<7f", *d) for d in detections).hex().upper()


def score(python: str, log: list[dict[str, object]], dataset: Path, out: Path
          ) -> subprocess.CompletedProcess[str]:
    (out / "mlperf_log_accuracy.json").parent.mkdir(parents=True, exist_ok=True)
    (out / "mlperf_log_accuracy.json").write_text(json.dumps(log))
    return subprocess.run([python, "-I", ACCURACY, "--log", str(out / "mlperf_log_accuracy.json"),
                           "--dataset", str(dataset), "--output", str(out)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


@pytest.fixture
def two_images(tmp_path: Path) -> Path:
    # image A is 200 wide and 100 high, so swapped x/y or width/height would move the boxes
    images = [{"id": 10, "file_name": "a.png", "width": 200, "height": 100},
              {"id": 20, "file_name": "b.png", "width": 50, "height": 50}]
    return write_coco(tmp_path / "ds", images,
                      {10: [[10.0, 10.0, 60.0, 30.0], [100.0, 50.0, 40.0, 40.0]]})


def test_map_of_a_hand_computed_case(mlperf_python: str, two_images: Path,
                                     tmp_path: Path) -> None:
    # image A: an exact hit on GT1 (0.9), a false positive (0.8), and GT2 found 9 px to the
    # right (0.7; IoU 31*40 / (2*1600 - 31*40) = 0.633). Image B: no rows. qsl_idx 0 is
    # logged twice; the second copy (a confident false positive) must be ignored.
    #   IoU thresholds .50 .55 .60: TP FP TP -> precision 1 up to recall .5, 2/3 up to 1:
    #     AP = (51 * 1 + 50 * 2/3) / 101
    #   thresholds .65 ... .95 (7): TP FP FP -> AP = 51 / 101
    #   mAP = (3 * (51 + 100/3) + 7 * 51) / 1010 = 610 / 1010 = 60.396 %
    log = [{"seq_id": 0, "qsl_idx": 0, "data": rows(
                [0, 0.1, 0.05, 0.4, 0.35, 0.9, 1],      # GT1 exactly
                [0, 0.0, 0.75, 0.2, 0.95, 0.8, 1],      # nothing there
                [0, 0.5, 0.545, 0.9, 0.745, 0.7, 1])},  # GT2 shifted by 9 px
           {"seq_id": 1, "qsl_idx": 1, "data": ""},
           {"seq_id": 2, "qsl_idx": 0, "data": rows([0, 0.6, 0.0, 0.7, 0.1, 0.99, 1])}]
    out = tmp_path / "out"
    proc = score(mlperf_python, log, two_images, out)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["mAP"] == pytest.approx(610 / 1010, abs=1e-6)
    assert result["stats"]["AP50"] == pytest.approx((51 + 100 / 3) / 101, abs=1e-6)
    assert result["stats"]["AP75"] == pytest.approx(51 / 101, abs=1e-6)
    assert (result["images"], result["detections"], result["no_results"]) == (2, 3, 1)
    text = (out / "accuracy.txt").read_text()
    assert text.startswith("mAP=60.396%\n")
    assert parse_accuracy_txt(str(out / "accuracy.txt")) == pytest.approx(60.396)
    assert json.loads((out / "accuracy.json").read_text())["mAP_percent"] == 60.396
    # detections are in pixels, [x, y, w, h] of the 200 x 100 image
    dets = json.loads((out / "detections.json").read_text())
    assert dets[0]["image_id"] == 10
    assert dets[0]["bbox"] == pytest.approx([10.0, 10.0, 60.0, 30.0], abs=1e-4)


def test_no_detections_scores_zero(mlperf_python: str, two_images: Path,
                                   tmp_path: Path) -> None:
    log = [{"seq_id": 0, "qsl_idx": 0, "data": ""}, {"seq_id": 1, "qsl_idx": 1, "data": ""}]
    proc = score(mlperf_python, log, two_images, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "accuracy.txt").read_text().startswith("mAP=0.000%")


@pytest.mark.parametrize("log, message", [
    ([{"qsl_idx": 5, "data": ""}], "qsl_idx 5 is outside the dataset's 2 images"),
    ([{"qsl_idx": 0, "data": rows([1, 0.1, 0.1, 0.2, 0.2, 0.5, 1])}],
     "LoadGen (0) and the payload (1) disagree"),
    ([{"qsl_idx": 0, "data": "00000000"}], None),  # one float: a sample with no rows
])
def test_bad_logs_are_named(mlperf_python: str, two_images: Path, tmp_path: Path,
                            log: list[dict[str, object]], message: str | None) -> None:
    proc = score(mlperf_python, log, two_images, tmp_path / "out")
    if message is None:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2
    assert message in proc.stderr and "mlperf accuracy: error:" in proc.stderr
