"""Build the COCO folder format from dataset/<CK_DATASET_SOURCE_ENTRY>/annotations.json.

Standard library only: image sizes are read from the PNG / JPEG headers. The dataset
entry is looked up in the repo that holds this script.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from typing import Any

from cknowledge.errors import CommandFailed


def image_size(path: str) -> tuple[int, int]:
    """(width, height) of a PNG or JPEG file, from its header."""
    with open(path, "rb") as fh:
        head = fh.read(26)
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            width, height = struct.unpack(">II", head[16:24])
            return int(width), int(height)
        if head[:2] == b"\xff\xd8":
            fh.seek(2)
            while True:
                byte = fh.read(1)
                while byte and byte != b"\xff":
                    byte = fh.read(1)
                while byte == b"\xff":
                    byte = fh.read(1)
                if not byte:
                    break
                marker = byte[0]
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                    continue
                (length,) = struct.unpack(">H", fh.read(2))
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    height, width = struct.unpack(">xHH", fh.read(5))
                    return int(width), int(height)
                fh.seek(length - 2, os.SEEK_CUR)
    raise CommandFailed(f"{path} is not a PNG or JPEG file (or its header is damaged)")


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def preprocess(ctx: Any) -> dict[str, Any]:
    name = ctx.env["CK_DATASET_SOURCE_ENTRY"]
    repo = os.path.dirname(os.path.dirname(ctx.script_dir))
    source = os.path.join(repo, "dataset", name, "annotations.json")
    if not os.path.isfile(source):
        raise CommandFailed(f"dataset:{name} (its annotations.json) is not in the repo {repo}, "
                       "beside this script; copy the dataset entry along with the script")
    pinned = ctx.env.get("CK_DATASET_SOURCE_SHA256", "")
    actual = sha256_of(source)
    if actual != pinned:
        raise CommandFailed(f"{source} has sha256 {actual}, but the script pins {pinned}: "
                            "after changing the boxes, put the new sha256 into "
                            "CK_DATASET_SOURCE_SHA256 in the script's meta")
    with open(source, encoding="utf-8") as fh:
        doc = json.load(fh)
    out = os.path.join(ctx.work_dir, "dataset")
    images_dir = os.path.join(out, "images")
    os.makedirs(images_dir, exist_ok=True)
    os.makedirs(os.path.join(out, "annotations"), exist_ok=True)
    category = doc["category"]
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, item in enumerate(doc["images"], 1):
        src = doc["sources"][item["source"]]
        folder = ctx.env.get(src["env"], "")
        path = os.path.join(folder, item["file_name"])
        if not folder or not os.path.isfile(path):
            raise CommandFailed(f"dataset:{name}: image {item['file_name']} is missing from "
                           f"{src['package']} ({src['env']}={folder or 'unset'}); the package "
                           "may have dropped or moved it")
        digest = sha256_of(path)
        if digest != item["sha256"]:
            raise CommandFailed(f"dataset:{name}: image {item['file_name']} from "
                                f"{src['package']} has sha256 {digest}, expected "
                                f"{item['sha256']}: the package ships another picture under "
                                "this name, so the boxes may not fit; check it and redraw them")
        width, height = image_size(path)
        if (width, height) != (item["width"], item["height"]):
            raise CommandFailed(f"dataset:{name}: image {item['file_name']} is {width}x{height}, "
                                f"the annotations say {item['width']}x{item['height']}")
        shutil.copyfile(path, os.path.join(images_dir, item["file_name"]))
        images.append({"id": image_id, "file_name": item["file_name"], "width": width,
                       "height": height})
        for box in item["persons"]:
            x, y, w, h = (int(v) for v in box)
            if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
                raise CommandFailed(f"dataset:{name}: box {box} of {item['file_name']} lies "
                                    f"outside the {width}x{height} image")
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": category["id"], "bbox": [x, y, w, h],
                                "area": w * h, "iscrowd": 0})
    instances = {"info": {"description": f"{name}: person boxes on photos from PyPI packages",
                          "version": ctx.spec.version or ""},
                 "images": images, "annotations": annotations,
                 "categories": [{"id": category["id"], "name": category["name"],
                                 "supercategory": category.get("supercategory",
                                                               category["name"])}]}
    ann_path = os.path.join(out, "annotations", "instances.json")
    with open(ann_path, "w", encoding="utf-8") as fh:
        json.dump(instances, fh, indent=1)
    ctx.new_env.update(CK_DATASET_PATH=out, CK_DATASET_NAME=name,
                       CK_DATASET_ANNOTATIONS=ann_path, CK_DATASET_IMAGES_DIR=images_dir,
                       CK_DATASET_IMAGES=str(len(images)),
                       CK_DATASET_ANNOTATION_COUNT=str(len(annotations)),
                       CK_DATASET_PERSON_CATEGORY=str(category["id"]))
    return {"skip_run": True}
