"""DATASET/images + DATASET/annotations/instances.json from COCO val2017, every category.

All val2017 images in id order (or the first CK_DATASET_COUNT), each image's annotations of
all 80 categories as COCO states them (crowd regions included), the category list whole:
what MLPerf's ssd-mobilenet accuracy script scores against. Images are hard-linked from the
downloaded package where the file system allows, else copied.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from cknowledge.errors import CommandFailed, InvalidInput

KEYS = ("id", "image_id", "category_id", "bbox", "area", "iscrowd")


def _count(raw: str) -> int | None:
    if not raw.strip():
        return None
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InvalidInput(f"--count must be a positive number of images, not {raw!r}")
    return int(raw)


def preprocess(ctx: Any) -> dict[str, Any]:
    source = ctx.env.get("CK_COCO_VAL2017_IMAGES_DIR", "")
    instances = ctx.env.get("CK_COCO_VAL2017_INSTANCES", "")
    if not os.path.isfile(instances):
        raise CommandFailed(f"COCO annotations {instances or '(CK_COCO_VAL2017_INSTANCES unset)'}"
                            " are missing; reinstall the package with tags "
                            "dataset-files,coco,coco-2017,annotations")
    count = _count(ctx.env.get("CK_DATASET_COUNT", ""))
    with open(instances, encoding="utf-8") as fh:
        doc = json.load(fh)
    images = sorted(doc["images"], key=lambda im: im["id"])[:count]
    keep = {im["id"] for im in images}
    out = os.path.join(ctx.work_dir, "dataset")
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "annotations"), exist_ok=True)
    for im in images:
        src, dst = os.path.join(source, im["file_name"]), os.path.join(out, "images",
                                                                        im["file_name"])
        if not os.path.isfile(src):
            raise CommandFailed(f"COCO val2017 image {im['file_name']} is missing from "
                                f"{source}; reinstall the package with tags "
                                "dataset-files,coco,coco-2017,val2017")
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
    annotations = [{k: a[k] for k in KEYS} for a in doc["annotations"]
                   if a["image_id"] in keep]
    path = os.path.join(out, "annotations", "instances.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"info": doc.get("info", {}), "licenses": doc.get("licenses", []),
                   "images": [{k: im[k] for k in ("id", "file_name", "width", "height")}
                              for im in images],
                   "annotations": annotations, "categories": doc["categories"]}, fh)
    ctx.new_env.update(CK_DATASET_PATH=out, CK_DATASET_NAME="coco-2017-val",
                       CK_DATASET_ANNOTATIONS=path,
                       CK_DATASET_IMAGES_DIR=os.path.join(out, "images"),
                       CK_DATASET_IMAGES=str(len(images)),
                       CK_DATASET_CATEGORIES=str(len(doc["categories"])))
    return {"skip_run": True}
