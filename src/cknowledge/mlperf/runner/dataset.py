"""A COCO-format detection dataset and the MLPerf ssd-mobilenet preprocessing.

Folder layout: ``DATASET/images/<file_name>`` and ``DATASET/annotations/instances.json``
(COCO: ``images``, ``annotations``, ``categories``). Sample ``i`` is the ``i``-th entry of
``images`` in the file's order, as in the MLPerf reference (its accuracy log's ``qsl_idx``).

Preprocessing follows the reference's ``pre_process_coco_mobilenet``: decode to RGB, resize
to 300x300 with bilinear interpolation at pixel centres (what ``cv2.resize`` with
``INTER_LINEAR`` computes, here in numpy), keep uint8, NHWC.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .common import HarnessError
else:
    from common import HarnessError

ANNOTATIONS = os.path.join("annotations", "instances.json")
IMAGES = "images"
INPUT_SIZE = (300, 300)  # height, width of ssd-mobilenet's input

UInt8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Image:
    index: int
    image_id: int
    file_name: str
    path: str
    width: int
    height: int


class Dataset:
    """The images of ``root`` (the first ``count`` when given) and the path of its GT file."""

    def __init__(self, root: str, count: int | None = None) -> None:
        self.root = os.path.abspath(root)
        self.annotations = os.path.join(self.root, ANNOTATIONS)
        if not os.path.isdir(self.root):
            raise HarnessError(f"dataset folder {self.root} does not exist: pass the folder "
                               "that holds images/ and annotations/instances.json")
        if not os.path.isfile(self.annotations):
            raise HarnessError(f"dataset {self.root} has no {ANNOTATIONS}: the COCO folder "
                               "layout needs DATASET/annotations/instances.json")
        try:
            with open(self.annotations, encoding="utf-8") as fh:
                coco = json.load(fh)
        except (OSError, ValueError) as exc:
            raise HarnessError(f"cannot read {self.annotations} as JSON: {exc}") from None
        entries = coco.get("images") if isinstance(coco, dict) else None
        if not isinstance(entries, list) or not entries:
            raise HarnessError(f"{self.annotations} lists no images: a COCO file needs a "
                               "non-empty `images` list")
        if count is not None:
            if count < 1:
                raise HarnessError(f"--count must be at least 1, not {count}")
            if count > len(entries):
                raise HarnessError(f"--count={count} is more than the {len(entries)} images "
                                   f"of {self.annotations}: use --count={len(entries)} or "
                                   "less, or leave it out for all")
            entries = entries[:count]
        self.images: list[Image] = []
        for index, entry in enumerate(entries):
            self.images.append(self._image(index, entry))

    def _image(self, index: int, entry: Any) -> Image:
        try:
            file_name = str(entry["file_name"])
            image = Image(index, int(entry["id"]), file_name,
                          os.path.join(self.root, IMAGES, file_name),
                          int(entry["width"]), int(entry["height"]))
        except (KeyError, TypeError, ValueError):
            raise HarnessError(f"{self.annotations}: images[{index}] needs id, file_name, "
                               f"width and height, not {entry!r}") from None
        if not os.path.isfile(image.path):
            raise HarnessError(f"image {image.path} (images[{index}] of {self.annotations}) "
                               "does not exist: restore it or rebuild the dataset")
        return image

    def __len__(self) -> int:
        return len(self.images)

    def load(self, index: int) -> UInt8Array:
        """Sample ``index`` preprocessed: uint8 [300, 300, 3], RGB."""
        return preprocess(self.images[index].path)


def preprocess(path: str, size: tuple[int, int] = INPUT_SIZE) -> UInt8Array:
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot decode image {path}: {exc}; restore the image or "
                           "rebuild the dataset") from None
    return resize_bilinear(rgb, size)


def resize_bilinear(img: UInt8Array, size: tuple[int, int]) -> UInt8Array:
    """Bilinear resize of an HWC uint8 image to ``size`` (height, width), sampling at pixel
    centres and clamping at the border (OpenCV's INTER_LINEAR)."""
    out_h, out_w = size
    in_h, in_w = img.shape[0], img.shape[1]
    if (in_h, in_w) == (out_h, out_w):
        return img.copy()

    def axis(n_out: int, n_in: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp],
                                                npt.NDArray[np.float32]]:
        pos = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        pos = np.clip(pos, 0, n_in - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, fy = axis(out_h, in_h)
    x0, x1, fx = axis(out_w, in_w)
    src = img.astype(np.float32)
    top = src[y0][:, x0] * (1 - fx)[None, :, None] + src[y0][:, x1] * fx[None, :, None]
    bottom = src[y1][:, x0] * (1 - fx)[None, :, None] + src[y1][:, x1] * fx[None, :, None]
    out = top * (1 - fy)[:, None, None] + bottom * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
