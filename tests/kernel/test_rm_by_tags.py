"""`rm --tags` removes the entries the tags found, also where entries share a UID."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import backdate_tree, ok


def test_rm_by_tags_with_a_shared_uid_removes_the_tagged_entry(home: Path) -> None:
    ok(action="add", automation="repo", artifact="twins")
    root = home / "repos" / "twins" / "dataset"
    for name, tag in (("aaa", "keep"), ("bbb", "drop")):
        (root / name).mkdir(parents=True)
        (root / name / "meta.yaml").write_text(yaml.safe_dump(
            {"alias": name, "uid": "abcdef0123456789", "tags": [tag]}))
    backdate_tree(home / "repos" / "twins")
    removed = ok(action="rm", automation="dataset", tags="drop")["list"]
    assert [e["name"] for e in removed] == ["bbb"]
    assert (root / "aaa").is_dir() and not (root / "bbb").exists()


def test_load_shows_ck_info_and_desc(home: Path, tmp_path: Path) -> None:
    repo = tmp_path / "ck1"
    entry = repo / "dataset" / "mnist" / ".cm"
    entry.mkdir(parents=True)
    (repo / ".ckr.json").write_text('{"data_alias": "ck1", "data_uid": "0123456789abcdef"}')
    (entry / "meta.json").write_text('{"tags": ["image"]}')
    (entry / "info.json").write_text('{"data_name": "MNIST digits", "backup_data_uid": '
                                     '"fedcba9876543210"}')
    (entry / "desc.json").write_text('{"about": "handwritten digits"}')
    backdate_tree(repo)
    ok(action="pull", automation="repo", artifact=str(repo))
    loaded = ok(action="load", automation="dataset", artifact="mnist")
    assert loaded["info"]["data_name"] == "MNIST digits"
    assert loaded["desc"] == {"about": "handwritten digits"}


def test_a_tag_query_that_matches_nothing_names_the_unknown_tag(home: Path) -> None:
    from cknowledge import api

    ok(action="add", automation="dataset", artifact="imgs", tags="images,coco")
    r = api.access({"action": "rm", "automation": "dataset", "tags": "imgaes,coco"})
    assert r["return"] == 16
    assert r["error"] == ("no dataset entry has the tags imgaes,coco; no dataset has the tag "
                          "imgaes (did you mean: images?)")
    # every tag exists, only not together: nothing to suggest
    ok(action="add", automation="dataset", artifact="other", tags="text")
    r = api.access({"action": "rm", "automation": "dataset", "tags": "images,text"})
    assert r["return"] == 16 and r["error"] == "no dataset entry has the tags images,text"
