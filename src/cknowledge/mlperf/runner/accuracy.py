"""mAP from LoadGen's accuracy log, as the MLPerf reference's ``accuracy-coco.py`` does it.

Each entry of mlperf_log_accuracy.json carries ``qsl_idx`` and ``data``: the hex of float32
rows [image_idx, ymin, xmin, ymax, xmax, score, class] (normalized box). A sample logged
twice counts once; a sample without rows still counts as an evaluated image. Boxes become
COCO detections in pixels ([x, y, w, h] of the image's width and height) and pycocotools'
COCOeval (bbox) gives mAP@[.5:.95] over the ground truth's categories and the logged images.

Run alone: ``python accuracy.py --log mlperf_log_accuracy.json --dataset DIR --output DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from typing import Any

import numpy as np

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .common import HarnessError, require
else:  # run as a script; `python -I` (3.11+) leaves the script's folder off sys.path
    sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE; keep the package clean
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import HarnessError, require

ANNOTATIONS = os.path.join("annotations", "instances.json")
STAT_NAMES = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
              "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large")


def decode(log_path: str, images: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                   list[int], int]:
    """COCO detections, the evaluated image ids and the count of samples with no rows."""
    try:
        with open(log_path, encoding="utf-8") as fh:
            entries = json.load(fh)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read the accuracy log {log_path}: {exc}; run the harness "
                           "with --mode accuracy first") from None
    if not isinstance(entries, list):
        raise HarnessError(f"{log_path} is not a LoadGen accuracy log (a JSON list)")
    detections: list[dict[str, Any]] = []
    image_ids: list[int] = []
    seen: set[int] = set()
    no_results = 0
    for entry in entries:
        idx = int(entry["qsl_idx"])
        if idx in seen:
            continue
        seen.add(idx)
        if not 0 <= idx < len(images):
            raise HarnessError(f"{log_path}: qsl_idx {idx} is outside the dataset's "
                               f"{len(images)} images: evaluate with the dataset that was run")
        image = images[idx]
        image_ids.append(int(image["id"]))
        data = np.frombuffer(bytes.fromhex(entry["data"]), np.float32)
        if len(data) < 7:
            no_results += 1
            continue
        if len(data) % 7:
            raise HarnessError(f"{log_path}: sample {idx} holds {len(data)} floats, not rows "
                               "of 7 (image_idx, ymin, xmin, ymax, xmax, score, class)")
        height, width = float(image["height"]), float(image["width"])
        for row in data.reshape(-1, 7):
            image_idx, ymin, xmin, ymax, xmax, score, label = (float(v) for v in row)
            if int(image_idx) != idx:
                raise HarnessError(f"{log_path}: LoadGen ({idx}) and the payload "
                                   f"({int(image_idx)}) disagree on the image index")
            ymin, ymax = ymin * height, ymax * height
            xmin, xmax = xmin * width, xmax * width
            detections.append({"image_id": int(image["id"]), "category_id": int(label),
                               "bbox": [xmin, ymin, xmax - xmin, ymax - ymin],
                               "score": score})
    return detections, image_ids, no_results


def evaluate(log_path: str, dataset: str, output: str) -> dict[str, Any]:
    """Decode ``log_path``, score it against DATASET's GT; write accuracy.txt and .json."""
    annotations = os.path.join(dataset, ANNOTATIONS)
    coco_mod = require("pycocotools.coco", "the accuracy check")
    eval_mod = require("pycocotools.cocoeval", "the accuracy check")
    try:
        with open(annotations, encoding="utf-8") as fh:
            gt_data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot read the ground truth {annotations}: {exc}") from None
    images = gt_data.get("images") or []
    detections, image_ids, no_results = decode(log_path, images)
    os.makedirs(output, exist_ok=True)
    with open(os.path.join(output, "detections.json"), "w", encoding="utf-8") as fh:
        json.dump(detections, fh)
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        gt = coco_mod.COCO()
        gt.dataset = gt_data
        gt.createIndex()
        categories = sorted(gt.getCatIds())
        stats = [0.0] * len(STAT_NAMES)
        if detections and image_ids:
            dt = gt.loadRes(detections)
            coco_eval = eval_mod.COCOeval(gt, dt, iouType="bbox")
            coco_eval.params.imgIds = sorted(set(image_ids))
            coco_eval.params.catIds = categories
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
            stats = [float(v) for v in coco_eval.stats]
        else:
            print("no detections: every AP is 0")
    m_ap = max(stats[0], 0.0)  # pycocotools says -1 when no image has ground truth
    result: dict[str, Any] = {
        "mAP": m_ap, "mAP_percent": round(100.0 * m_ap, 3),
        "stats": dict(zip(STAT_NAMES, stats)), "images": len(image_ids),
        "detections": len(detections), "no_results": no_results,
        "categories": categories, "log": os.path.abspath(log_path),
        "annotations": os.path.abspath(annotations)}
    text = (f"mAP={100.0 * m_ap:.3f}%\n"
            f"images={len(image_ids)} detections={len(detections)} "
            f"no_results={no_results} categories={','.join(map(str, categories))}\n"
            + "".join(line + "\n" for line in report.getvalue().splitlines()
                      if line.startswith((" Average", "no detections"))))
    with open(os.path.join(output, "accuracy.txt"), "w", encoding="utf-8") as fh:
        fh.write(text)
    with open(os.path.join(output, "accuracy.json"), "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mAP of an MLPerf object-detection "
                                     "accuracy log")
    parser.add_argument("--log", required=True, help="mlperf_log_accuracy.json")
    parser.add_argument("--dataset", required=True, help="the COCO dataset folder")
    parser.add_argument("--output", required=True, help="where accuracy.txt/.json go")
    args = parser.parse_args(argv)
    try:
        result = evaluate(args.log, args.dataset, args.output)
    except HarnessError as exc:
        print(f"mlperf accuracy: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
