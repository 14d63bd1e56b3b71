"""Build DATASET/images + DATASET/annotations/instances.json from COCO val2017.

Every val2017 image is kept (those without people are the negatives, as in MLPerf's 5000
images), or the first CK_DATASET_COUNT by image id; annotations are filtered to category
1 (person), iscrowd regions kept as COCO marks them. Images are hard-linked from the
downloaded package when the file system allows, else copied.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from cknowledge.errors import CommandFailed, InvalidInput

PERSON = 1


def _place(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def preprocess(ctx: Any) -> dict[str, Any]:
    images_src = ctx.env.get("CK_COCO_VAL2017_IMAGES_DIR", "")
    instances_src = ctx.env.get("CK_COCO_VAL2017_INSTANCES", "")
    if not os.path.isfile(instances_src):
        raise CommandFailed(f"COCO annotations file {instances_src or '(CK_COCO_VAL2017_INSTANCES unset)'} "
                       "is missing; reinstall the package with tags "
                       "dataset-files,coco,coco-2017,annotations")
    raw = ctx.env.get("CK_DATASET_COUNT", "").strip()
    try:
        count = int(raw) if raw else None
    except ValueError:
        count = None
    if raw and (count is None or count < 1):
        raise InvalidInput(f"--count must be a positive number of images, not {raw!r}")
    with open(instances_src, encoding="utf-8") as fh:
        doc = json.load(fh)
    images = sorted(doc["images"], key=lambda im: im["id"])
    if count is not None:
        images = images[:count]
    keep = {im["id"] for im in images}
    out = os.path.join(ctx.work_dir, "dataset")
    images_dir = os.path.join(out, "images")
    os.makedirs(images_dir, exist_ok=True)
    os.makedirs(os.path.join(out, "annotations"), exist_ok=True)
    for im in images:
        src = os.path.join(images_src, im["file_name"])
        if not os.path.isfile(src):
            raise CommandFailed(f"COCO val2017 image {im['file_name']} is missing from {images_src}; "
                           "reinstall the package with tags dataset-files,coco,coco-2017,val2017")
        _place(src, os.path.join(images_dir, im["file_name"]))
    annotations = [a for a in doc["annotations"]
                   if a["category_id"] == PERSON and a["image_id"] in keep]
    categories = [c for c in doc["categories"] if c["id"] == PERSON]
    if not categories:
        raise CommandFailed(f"{instances_src} has no category {PERSON} (person)")
    instances = {"info": doc.get("info", {}), "licenses": doc.get("licenses", []),
                 "images": [{k: im[k] for k in ("id", "file_name", "width", "height")}
                            for im in images],
                 "annotations": [{k: a[k] for k in ("id", "image_id", "category_id", "bbox",
                                                    "area", "iscrowd")} for a in annotations],
                 "categories": categories}
    ann_path = os.path.join(out, "annotations", "instances.json")
    with open(ann_path, "w", encoding="utf-8") as fh:
        json.dump(instances, fh)
    ctx.new_env.update(CK_DATASET_PATH=out, CK_DATASET_NAME="coco-2017-val-person",
                       CK_DATASET_ANNOTATIONS=ann_path, CK_DATASET_IMAGES_DIR=images_dir,
                       CK_DATASET_IMAGES=str(len(images)),
                       CK_DATASET_ANNOTATION_COUNT=str(len(annotations)),
                       CK_DATASET_PERSON_CATEGORY=str(PERSON))
    return {"skip_run": True}
