"""Downloads through a file:// mirror with stand-ins, bad checksums, changed or missing images."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from .conftest import copy_builtin, jpeg_header, make_wheel, make_zip, png, read_json, sha

MODEL_URL_NAME = "ssd_mobilenet_v1_coco_2018_01_28.tar.gz"


def _retarget(entry: Path, digest: str) -> None:
    """Give a test copy of a package entry the sha256 of its stand-in file."""
    meta = yaml.safe_load((entry / "meta.yaml").read_text())
    meta["install"]["sha256"] = digest
    (entry / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


def _stand_in_model(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in (("frozen_inference_graph.pb", b"stand-in graph"),
                           ("pipeline.config", b"model {}")):
            info = tarfile.TarInfo(f"ssd_mobilenet_v1_coco_2018_01_28/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    (folder / MODEL_URL_NAME).write_bytes(buf.getvalue())
    return buf.getvalue()


def test_mlperf_tf_model_through_a_mirror(home, ckj, ck, tmp_path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = _stand_in_model(mirror)
    env = {"CK_DOWNLOAD_MIRROR": mirror.as_uri()}
    entry = copy_builtin(home / "repos" / "local", "package", "ml-model-ssd-mobilenet-v1-coco-tf")
    real = yaml.safe_load((entry / "meta.yaml").read_text())["install"]["sha256"]
    # the real entry refuses the stand-in: its published sha256 is enforced
    rc, out, err = ck("install", "package", "--tags=ml-model,ssd-mobilenet-v1,mlperf,tensorflow",
                      env=env)
    assert rc == 17 and real in err and sha(data) in err and MODEL_URL_NAME in err
    _retarget(entry, sha(data))
    rc, out, err = ck("install", "package", "--tags=ml-model,ssd-mobilenet-v1,mlperf,tensorflow",
                      "--json", env=env)
    assert rc == 0, err
    new_env = json.loads(out)["new_env"]
    assert Path(new_env["CK_ML_MODEL_FILE"]).read_bytes() == b"stand-in graph"
    assert new_env["CK_ML_MODEL_FORMAT"] == "tf-frozen-graph"


def _coco_stand_ins(mirror: Path) -> tuple[bytes, bytes]:
    images = {"val2017/000000000139.jpg": jpeg_header(640, 426),
              "val2017/000000000285.jpg": jpeg_header(586, 640),
              "val2017/000000000632.jpg": jpeg_header(640, 483)}
    instances = {
        "info": {"description": "stand-in"}, "licenses": [],
        "images": [{"id": 632, "file_name": "000000000632.jpg", "width": 640, "height": 483},
                   {"id": 139, "file_name": "000000000139.jpg", "width": 640, "height": 426},
                   {"id": 285, "file_name": "000000000285.jpg", "width": 586, "height": 640}],
        "annotations": [
            {"id": 1, "image_id": 139, "category_id": 1, "bbox": [412.8, 157.6, 53.1, 138.0],
             "area": 5000.0, "iscrowd": 0, "segmentation": []},
            {"id": 2, "image_id": 139, "category_id": 64, "bbox": [1, 2, 3, 4], "area": 12.0,
             "iscrowd": 0, "segmentation": []},
            {"id": 3, "image_id": 285, "category_id": 23, "bbox": [0, 50, 586, 590],
             "area": 345740.0, "iscrowd": 0, "segmentation": []},
            {"id": 4, "image_id": 632, "category_id": 1, "bbox": [10, 10, 100, 200],
             "area": 20000.0, "iscrowd": 1, "segmentation": {}}],
        "categories": [{"id": 1, "name": "person", "supercategory": "person"},
                       {"id": 23, "name": "bear", "supercategory": "animal"},
                       {"id": 64, "name": "potted plant", "supercategory": "furniture"}]}
    zimg = make_zip(mirror / "val2017.zip", images)
    zann = make_zip(mirror / "annotations_trainval2017.zip",
                    {"annotations/instances_val2017.json": json.dumps(instances).encode()})
    return zimg, zann


@pytest.fixture
def coco(home, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    zimg, zann = _coco_stand_ins(mirror)
    root = home / "repos" / "local"
    _retarget(copy_builtin(root, "package", "dataset-coco-2017-val-images"), sha(zimg))
    _retarget(copy_builtin(root, "package", "dataset-coco-2017-annotations"), sha(zann))
    copy_builtin(root, "script", "get-dataset-coco-2017-val-person")
    return {"CK_DOWNLOAD_MIRROR": str(mirror)}


def test_coco_val2017_from_a_mirror_keeps_person_annotations(coco, ck) -> None:
    rc, out, err = ck("run", "script", "--tags=dataset,coco-format,val2017,person", "--json",
                      env=coco)
    assert rc == 0, err
    env = json.loads(out)["new_env"]
    doc = read_json(env["CK_DATASET_ANNOTATIONS"])
    assert [im["id"] for im in doc["images"]] == [139, 285, 632]  # all images, by id
    assert env["CK_DATASET_IMAGES"] == "3"
    assert [(a["id"], a["category_id"], a["iscrowd"]) for a in doc["annotations"]] == \
        [(1, 1, 0), (4, 1, 1)]
    assert doc["categories"] == [{"id": 1, "name": "person", "supercategory": "person"}]
    for im in doc["images"]:
        assert (Path(env["CK_DATASET_IMAGES_DIR"]) / im["file_name"]).is_file()
    rc, out, err = ck("run", "script", "--tags=dataset,coco-format,val2017,person", "--count=1",
                      "--json", env=coco)
    assert rc == 0, err
    doc = read_json(json.loads(out)["new_env"]["CK_DATASET_ANNOTATIONS"])
    assert [im["id"] for im in doc["images"]] == [139] and len(doc["annotations"]) == 1


def test_coco_zip_with_another_checksum_is_refused(coco, ck, tmp_path) -> None:
    (tmp_path / "mirror" / "val2017.zip").write_bytes(b"not the zip the entry pins")
    rc, out, err = ck("run", "script", "--tags=dataset,coco-format,val2017,person", env=coco)
    assert rc == 17 and "val2017.zip" in err and "expected" in err


@pytest.fixture
def mini(home, tmp_path):
    """The mini dataset's script and entry, with stand-in wheels of the two packages."""
    links = tmp_path / "links"
    links.mkdir()
    pics = {"astronaut.png": png(8, 6), "camera.png": png(5, 5, 3)}
    w1 = make_wheel(links, "sk-stand-in", "1.0", {f"skimage/data/{k}": v for k, v in pics.items()})
    w2 = make_wheel(links, "mpl-stand-in", "1.0",
                    {"matplotlib/mpl-data/sample_data/grace_hopper.jpg": jpeg_header(7, 9)})
    root = home / "repos" / "local"
    for entry, wheel, req in (("pypi-data-scikit-image", w1, "sk-stand-in==1.0"),
                              ("pypi-data-matplotlib", w2, "mpl-stand-in==1.0")):
        folder = copy_builtin(root, "package", entry)
        meta = yaml.safe_load((folder / "meta.yaml").read_text())
        spec = meta["install"]
        for key in ("platform", "python_version", "implementation", "abi"):
            spec.pop(key)
        spec.update(package=req, sha256=sha(wheel.read_bytes()), no_index=True,
                    find_links=[str(links)])
        (folder / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    ds = copy_builtin(root, "dataset", "coco-person-mini")
    doc = read_json(ds / "annotations.json")
    sizes = {"astronaut.png": (8, 6), "camera.png": (5, 5), "grace_hopper.jpg": (7, 9)}
    data = {**pics, "grace_hopper.jpg": jpeg_header(7, 9)}
    doc["images"] = [dict(im, sha256=sha(data[im["file_name"]]),
                          width=sizes[im["file_name"]][0], height=sizes[im["file_name"]][1],
                          persons=[[1, 1, 3, 3]] if im["file_name"] != "camera.png" else [])
                     for im in doc["images"] if im["file_name"] in sizes]
    script = copy_builtin(root, "script", "get-dataset-coco-person-mini")

    def write(document: dict, pin: bool = True) -> None:
        text = json.dumps(document, indent=1) + "\n"
        (ds / "annotations.json").write_text(text)
        if pin:
            meta = yaml.safe_load((script / "meta.yaml").read_text())
            meta["env"]["CK_DATASET_SOURCE_SHA256"] = sha(text.encode())
            (script / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))

    write(doc)
    return {"doc": doc, "write": write}


TAGS = "--tags=dataset,coco-format,person,package-photos"


def test_mini_dataset_from_stand_in_wheels(mini, ck) -> None:
    rc, out, err = ck("run", "script", TAGS, "--json")
    assert rc == 0, err
    env = json.loads(out)["new_env"]
    doc = read_json(env["CK_DATASET_ANNOTATIONS"])
    assert [(im["file_name"], im["width"], im["height"]) for im in doc["images"]] == \
        [("astronaut.png", 8, 6), ("camera.png", 5, 5), ("grace_hopper.jpg", 7, 9)]
    assert [a["bbox"] for a in doc["annotations"]] == [[1, 1, 3, 3], [1, 1, 3, 3]]
    assert env["CK_DATASET_ANNOTATION_COUNT"] == "2"


def test_a_changed_package_image_is_named(mini, ck) -> None:
    doc = mini["doc"]
    doc["images"][1]["sha256"] = "f" * 64
    mini["write"](doc)
    rc, out, err = ck("run", "script", TAGS)
    assert rc == 14 and "camera.png" in err and "f" * 64 in err


def test_a_missing_image_is_named(mini, ck) -> None:
    doc = mini["doc"]
    doc["images"].append(dict(doc["images"][0], file_name="nobody.png"))
    mini["write"](doc)
    rc, out, err = ck("run", "script", TAGS)
    assert rc == 14 and "nobody.png" in err and "missing" in err


def test_a_box_outside_the_image_or_unpinned_edit_is_refused(mini, ck) -> None:
    doc = mini["doc"]
    doc["images"][0]["persons"] = [[5, 1, 4, 3]]
    mini["write"](doc)
    rc, out, err = ck("run", "script", TAGS)
    assert rc == 14 and "astronaut.png" in err and "outside" in err
    mini["write"](mini["doc"], pin=False)  # edited boxes, old pin
    doc["images"][0]["persons"] = [[1, 1, 2, 2]]
    mini["write"](doc, pin=False)
    rc, out, err = ck("run", "script", TAGS)
    assert rc == 14 and "CK_DATASET_SOURCE_SHA256" in err
