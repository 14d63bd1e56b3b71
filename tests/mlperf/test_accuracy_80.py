"""mAP over all 80 COCO categories: the harness's accuracy script on a COCO-format stand-in
(30 images, boxes of every category, a seeded accuracy log of near and far detections of
several classes) against COCOeval run directly on the same detections, and against MLCommons'
own accuracy-coco.py where CK_TEST_MLPERF_INFERENCE_SRC names the inference sources."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from .test_accuracy import rows, score

# COCO's 80 category ids (1..90 with the ten unused ones left out)
COCO80 = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def stand_in(root: Path) -> tuple[Path, list[dict[str, object]]]:
    """A COCO-format dataset with the 80 categories and an accuracy log for it."""
    rng = random.Random(80)
    images, annotations, log = [], [], []
    for idx in range(30):
        width, height = rng.choice([(640, 480), (480, 640), (500, 375)])
        image_id = 1000 + 7 * idx
        images.append({"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": width,
                       "height": height})
        found = []
        for _ in range(rng.randint(0 if idx % 10 == 0 else 1, 4)):
            cat = COCO80[(idx * 3 + len(annotations)) % 80]
            w, h = rng.uniform(20, width / 2), rng.uniform(20, height / 2)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": cat, "bbox": [x, y, w, h], "area": w * h,
                                "iscrowd": 0})
            if rng.random() < 0.8:  # found, a little off, or with the wrong class
                jitter = [rng.uniform(-0.08, 0.08) for _ in range(4)]
                label = cat if rng.random() < 0.85 else rng.choice(COCO80)
                found.append([idx, (y + jitter[0] * h) / height, (x + jitter[1] * w) / width,
                              (y + h + jitter[2] * h) / height, (x + w + jitter[3] * w) / width,
                              rng.uniform(0.3, 0.99), label])
        for _ in range(rng.randint(0, 2)):  # false positives
            found.append([idx, 0.1, 0.1, 0.3, 0.4, rng.uniform(0.05, 0.6), rng.choice(COCO80)])
        log.append({"seq_id": idx, "qsl_idx": idx, "data": rows(*found) if found else ""})
    ann = root / "annotations"
    ann.mkdir(parents=True)
    doc = {"images": images, "annotations": annotations,
           "categories": [{"id": c, "name": f"class-{c}"} for c in COCO80]}
    (ann / "instances.json").write_text(json.dumps(doc))
    (ann / "instances_val2017.json").write_text(json.dumps(doc))  # the official script's name
    return root, log


def direct_coco_eval(python: str, dataset: Path, detections: Path) -> float:
    script = ("import json, sys\nfrom pycocotools.coco import COCO\n"
              "from pycocotools.cocoeval import COCOeval\n"
              "gt = COCO(sys.argv[1]); dt = gt.loadRes(sys.argv[2])\n"
              "e = COCOeval(gt, dt, iouType='bbox')\n"
              "e.params.imgIds = sorted({d['image_id'] for d in json.load(open(sys.argv[2]))}"
              " | {im['id'] for im in gt.dataset['images']})\n"
              "e.evaluate(); e.accumulate(); e.summarize()\nprint('AP=%r' % float(e.stats[0]))\n")
    out = subprocess.run([python, "-I", "-c", script, str(dataset / "annotations" /
                                                            "instances.json"), str(detections)],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert out.returncode == 0, out.stderr
    return float(out.stdout.strip().splitlines()[-1].split("=")[1])


def test_map_over_80_classes_matches_cocoeval_and_the_official_script(
        mlperf_python: str, tmp_path: Path) -> None:
    dataset, log = stand_in(tmp_path / "coco80")
    out = tmp_path / "ours"
    done = score(mlperf_python, log, dataset, out)
    assert done.returncode == 0, done.stderr
    ours = json.loads((out / "accuracy.json").read_text())
    assert len(ours["categories"]) == 80 and ours["images"] == 30
    labels = {d["category_id"] for d in json.loads((out / "detections.json").read_text())}
    assert len(labels) > 20  # many classes were scored, not one
    direct = direct_coco_eval(mlperf_python, dataset, out / "detections.json")
    assert 0.2 < direct < 0.9
    assert ours["mAP"] == pytest.approx(direct, abs=1e-12)
    official_src = os.environ.get("CK_TEST_MLPERF_INFERENCE_SRC")
    if official_src:
        script = Path(official_src) / "vision" / "classification_and_detection" / "tools" / \
            "accuracy-coco.py"
        official = subprocess.run(
            [mlperf_python, str(script), "--mlperf-accuracy-file",
             str(out / "mlperf_log_accuracy.json"), "--coco-dir", str(dataset),
             "--output-file", str(tmp_path / "official.json")],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        assert official.returncode == 0, official.stderr
        line = [x for x in official.stdout.splitlines() if x.startswith("mAP=")][-1]
        assert line == f"mAP={ours['mAP_percent']:.3f}%"
