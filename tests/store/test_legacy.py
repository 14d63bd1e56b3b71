"""Legacy layouts: CK 1.x/2.x (.cm/), CM (_cm.yaml, cmr.yaml) and MLC (meta.yaml)."""

from __future__ import annotations

import json
import os

from cknowledge.store.legacy import derived_uid, normalize_tags, read_entry
from cknowledge.store.repos import read_repo_meta
from tests.conftest import backdate_tree, names, ok

CK_UID = "9a3280b14a4285c9"
CK_UID2 = "b0ac08fe1d3c2615"
CK_REPO_UID = "1234567890abcdef"


def make_ck_repo(root) -> str:
    root = str(root)
    os.makedirs(root)
    with open(os.path.join(root, ".ckr.json"), "w") as fh:
        json.dump({"data_alias": "ck-legacy", "data_uid": CK_REPO_UID, "data_name": "legacy",
                   "dict": {"repo_deps": []}}, fh)
    # entry with info.json
    e1 = os.path.join(root, "soft", "compiler.gcc", ".cm")
    os.makedirs(e1)
    json.dump({"tags": ["compiler", "gcc", "lang-c"], "soft_name": "GCC"},
              open(os.path.join(e1, "meta.json"), "w"))
    json.dump({"backup_data_uid": CK_UID, "data_name": "GCC"},
              open(os.path.join(e1, "info.json"), "w"))
    # entry known only through the module's alias file
    e2 = os.path.join(root, "soft", "compiler.llvm", ".cm")
    os.makedirs(e2)
    json.dump({"tags": "compiler,llvm"}, open(os.path.join(e2, "meta.json"), "w"))
    mod_cm = os.path.join(root, "soft", ".cm")
    os.makedirs(mod_cm)
    with open(os.path.join(mod_cm, "alias-a-compiler.llvm"), "w") as fh:
        fh.write(CK_UID2 + "\n")
    with open(os.path.join(mod_cm, f"alias-u-{CK_UID2}"), "w") as fh:
        fh.write("compiler.llvm\n")
    # a non-builtin CK module name
    e3 = os.path.join(root, "env", "gcc-env", ".cm")
    os.makedirs(e3)
    json.dump({"tags": ["env", "compiler"]}, open(os.path.join(e3, "meta.json"), "w"))
    return root


def test_ck_legacy_repo(home, tmp_path) -> None:
    root = make_ck_repo(tmp_path / "ck-repo")
    r = ok(action="pull", automation="repo", source=root)
    assert r["name"] == "ck-legacy" and r["uid"] == CK_REPO_UID
    found = ok(action="find", automation="soft", tags="compiler", repo="ck-legacy")
    assert names(found) == ["compiler.gcc", "compiler.llvm"]
    assert all(e["repo"] == "ck-legacy" for e in found["list"])
    assert names(ok(action="find", automation="soft", tags="gcc,lang-c")) == ["compiler.gcc"]
    gcc = ok(action="load", automation="soft", artifact="compiler.gcc")
    assert gcc["uid"] == CK_UID
    assert gcc["meta"]["soft_name"] == "GCC"
    llvm = ok(action="load", automation="soft", artifact="compiler.llvm")
    assert llvm["uid"] == CK_UID2
    assert ok(action="load", automation="soft", artifact=CK_UID2)["name"] == "compiler.llvm"
    # a CK module that is no cknowledge automation still gets the core read actions
    env = ok(action="find", automation="env", tags="env")
    assert names(env) == ["gcc-env"]
    assert len(env["list"][0]["uid"]) == 16


def test_ck_legacy_update_keeps_layout(home, tmp_path) -> None:
    root = make_ck_repo(tmp_path / "ck-repo")
    ok(action="pull", automation="repo", source=root)
    ok(action="update", automation="soft", artifact="compiler.gcc", meta={"extra": 1})
    on_disk = json.load(open(os.path.join(root, "soft", "compiler.gcc", ".cm", "meta.json")))
    assert on_disk["extra"] == 1 and on_disk["soft_name"] == "GCC"
    assert not os.path.exists(os.path.join(root, "soft", "compiler.gcc", "meta.yaml"))
    assert ok(action="load", automation="soft", artifact="compiler.gcc")["uid"] == CK_UID


def test_cm_legacy_repo(home, tmp_path) -> None:
    root = tmp_path / "cm-repo"
    (root / "script" / "app-image-classification").mkdir(parents=True)
    (root / "script" / "get-python").mkdir(parents=True)
    (root / "cmr.yaml").write_text("alias: mlcommons@cm4mlops\nuid: 9e97bb72b0474657\n"
                                   "git: true\n")
    (root / "script" / "app-image-classification" / "_cm.yaml").write_text(
        "alias: app-image-classification\nuid: 3d5e908e472b417e\nautomation_alias: script\n"
        "tags:\n- app\n- image-classification\n- python\n")
    (root / "script" / "get-python" / "_cm.json").write_text(json.dumps(
        {"alias": "get-python", "uid": "d0b5dd74373f4a62", "tags": "get,python,python3"}))
    r = ok(action="pull", automation="repo", source=str(root))
    assert r["name"] == "mlcommons@cm4mlops" and r["uid"] == "9e97bb72b0474657"
    assert names(ok(action="find", automation="script", tags="app,python")) == [
        "app-image-classification"]
    assert names(ok(action="find", automation="script", tags="get,python3")) == ["get-python"]
    e = ok(action="load", automation="script", artifact="get-python")
    assert e["uid"] == "d0b5dd74373f4a62"
    assert ok(action="load", automation="script", artifact="3d5e908e472b417e")["name"] == \
        "app-image-classification"


def test_mlc_repo(home, tmp_path) -> None:
    root = tmp_path / "mlperf-automations"
    (root / "script" / "get-ml-model-resnet50").mkdir(parents=True)
    (root / "meta.yaml").write_text("alias: mlcommons@mlperf-automations\n"
                                    "uid: 9cf241afa6074c89\n")
    (root / "script" / "get-ml-model-resnet50" / "meta.yaml").write_text(
        "alias: get-ml-model-resnet50\nuid: 56203e4e998b4bc0\nautomation_alias: script\n"
        "tags:\n- get\n- raw\n- ml-model\n- resnet50\n")
    backdate_tree(root, seconds=30)
    ok(action="pull", automation="repo", source=str(root))
    assert names(ok(action="find", automation="script", tags="ml-model,resnet50")) == [
        "get-ml-model-resnet50"]
    e = ok(action="load", automation="script", artifact="get-ml-model-resnet50")
    assert e["uid"] == "56203e4e998b4bc0" and "raw" in e["meta"]["tags"]


def test_read_entry_and_helpers(tmp_path) -> None:
    root = make_ck_repo(tmp_path / "r")
    p = read_entry(root, CK_REPO_UID, "soft", "compiler.gcc")
    assert p.uid == CK_UID and p.meta_file == os.path.join(".cm", "meta.json")
    assert p.tags == ["compiler", "gcc", "lang-c"] and p.error is None
    none = read_entry(root, CK_REPO_UID, "soft", "missing")
    assert none.meta_file is None and none.meta is None
    env = read_entry(root, CK_REPO_UID, "env", "gcc-env")
    assert env.uid == derived_uid(CK_REPO_UID, "env", "gcc-env")
    assert derived_uid("a", "b", "c") != derived_uid("a", "b", "d")
    assert normalize_tags(None) == [] and normalize_tags(5) == ["5"]
    assert normalize_tags(("a", 1, "a")) == ["a", "1"]
    assert read_repo_meta(root)["alias"] == "ck-legacy"
    assert read_repo_meta(str(tmp_path)) == {}


def test_cm_automation_entries_are_not_taken_for_ours(home, tmp_path) -> None:
    """CM repos hold `automation/*` entries with a module.py of CM's own: a folder of
    entries named like one of them is still read through the core actions."""
    root = tmp_path / "cm-automations"
    (root / "automation" / "docker").mkdir(parents=True)
    (root / "automation" / "docker" / "_cm.json").write_text(json.dumps(
        {"alias": "docker", "uid": "541d6f712a6b464e", "automation_alias": "automation",
         "tags": ["automation"]}))
    (root / "automation" / "docker" / "module.py").write_text("import cmind\n")
    (root / "docker" / "abc").mkdir(parents=True)
    (root / "docker" / "abc" / "_cm.json").write_text(json.dumps(
        {"alias": "abc", "uid": "0123456789abcdef", "tags": ["get", "python"]}))
    (root / "cmr.yaml").write_text("alias: cmauto\nuid: 1111111111111111\n")
    backdate_tree(root, seconds=30)
    ok(action="pull", automation="repo", source=str(root))
    assert names(ok(action="find", automation="docker", tags="python")) == ["abc"]
