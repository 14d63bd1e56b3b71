"""The repo automation: list, add, pull (folder and git URL), rm."""

from __future__ import annotations

import os

import pytest

from cknowledge.automations.repo import _name_from, is_url
from tests.conftest import access, git, names, ok


def repo_names() -> list[str]:
    return [r["name"] for r in ok(action="list", automation="repo")["list"]]


def make_folder_repo(root, tag="ext") -> str:
    folder = os.path.join(str(root), "dataset", "ext-data")
    os.makedirs(folder)
    with open(os.path.join(folder, "meta.yaml"), "w") as fh:
        fh.write(f"alias: ext-data\nuid: 00000000000000aa\ntags: [{tag}]\n")
    return str(root)


def test_list_repo_default(home) -> None:
    lst = ok(action="list", automation="repo")["list"]
    by = {r["name"]: r for r in lst}
    assert set(by) == {"builtin", "local"}
    assert by["builtin"]["readonly"] is True and by["local"]["readonly"] is False
    assert names(ok(action="find", automation="repo", artifact="loc*")) == ["local"]
    assert ok(action="load", automation="repo", artifact="local")["name"] == "local"
    assert access(action="load", automation="repo", artifact="lokal")["return"] == 16
    assert "local" in access(action="load", automation="repo", artifact="lokal")["error"]


def test_add_repo(home) -> None:
    r = ok(action="add", automation="repo", artifact="mine")
    path = os.path.join(str(home), "repos", "mine")
    assert r["path"] == path and os.path.isfile(os.path.join(path, "ckrepo.yaml"))
    assert "mine" in repo_names()
    ok(action="add", automation="dataset", artifact="mine:e", tags="t")
    assert [e["repo"] for e in ok(action="find", automation="dataset", tags="t")["list"]] == ["mine"]
    dup = access(action="add", automation="repo", artifact="mine")
    assert dup["return"] in (8, 10), dup
    assert access(action="add", automation="repo", artifact="")["return"] == 5
    # rm of a created repo deletes its folder and its entries vanish from find
    rm = ok(action="rm", automation="repo", artifact="mine")
    assert rm["deleted_files"] is True and not os.path.exists(path)
    assert "mine" not in repo_names()
    assert ok(action="find", automation="dataset", tags="t")["list"] == []


def test_add_repo_at_path_nonempty_refused(home, tmp_path) -> None:
    target = tmp_path / "full"
    target.mkdir()
    (target / "x").write_text("keep")
    r = access(action="add", automation="repo", artifact="full", path=str(target))
    assert r["return"] == 10
    assert (target / "x").read_text() == "keep"


def test_pull_local_folder_registered_as_is(home, tmp_path) -> None:
    root = make_folder_repo(tmp_path / "extrepo")
    r = ok(action="pull", automation="repo", source=root)
    assert r["name"] == "extrepo" and r["path"] == root and r["managed"] is False
    e = ok(action="load", automation="dataset", artifact="ext-data")
    assert e["uid"] == "00000000000000aa" and e["repo"] == "extrepo"
    assert e["path"] == os.path.join(root, "dataset", "ext-data")
    # pulling again is harmless
    assert ok(action="pull", automation="repo", source=root)["updated"] is False
    assert repo_names().count("extrepo") == 1
    # a second name for the same folder is refused
    assert access(action="pull", automation="repo", source=root + "/", name="again")["return"] in (0, 8)
    assert repo_names().count("again") == 0
    # rm repo does NOT delete a folder it did not create
    rm = ok(action="rm", automation="repo", artifact="extrepo")
    assert rm["deleted_files"] is False
    assert os.path.isfile(os.path.join(root, "dataset", "ext-data", "meta.yaml"))
    assert access(action="load", automation="dataset", artifact="ext-data")["return"] == 16


def test_pull_missing_folder(home, tmp_path) -> None:
    r = access(action="pull", automation="repo", source=str(tmp_path / "nope"))
    assert r["return"] == 16
    assert access(action="pull", automation="repo")["return"] == 2


def test_pull_git_url_clones(home, tmp_path) -> None:
    src = tmp_path / "upstream"
    src.mkdir()
    git("init", "-q", "-b", "main", cwd=src)
    make_folder_repo(src, tag="v1")
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "init", cwd=src)
    url = f"file://{src}"
    r = ok(action="pull", automation="repo", source=url)
    clone = os.path.join(str(home), "repos", "upstream")
    assert r["name"] == "upstream" and r["path"] == clone and r["managed"] is True
    assert r["url"] == url
    assert os.path.isdir(os.path.join(clone, ".git"))
    assert names(ok(action="find", automation="dataset", tags="v1")) == ["ext-data"]
    # a new upstream commit arrives with pull
    meta = src / "dataset" / "ext-data" / "meta.yaml"
    meta.write_text("alias: ext-data\nuid: 00000000000000aa\ntags: [v2]\n")
    git("commit", "-q", "-am", "v2", cwd=src)
    again = ok(action="pull", automation="repo", source="upstream")
    assert again["updated"] is True
    assert names(ok(action="find", automation="dataset", tags="v2")) == ["ext-data"]
    # cloning again into the same place is refused
    assert access(action="pull", automation="repo", source=url + "/", name="upstream")["return"] in (0, 10)
    # rm repo deletes the clone, and the upstream survives
    rm = ok(action="rm", automation="repo", artifact="upstream")
    assert rm["deleted_files"] is True and not os.path.exists(clone)
    assert meta.exists()
    assert access(action="load", automation="dataset", artifact="ext-data")["return"] == 16


def test_pull_bad_git_url(home, tmp_path) -> None:
    r = access(action="pull", automation="repo", source=f"file://{tmp_path}/nothing.git")
    assert r["return"] == 10 and "git" in r["error"]
    assert not os.path.exists(os.path.join(str(home), "repos", "nothing"))


def test_pull_via_cli(home, tmp_path, ck) -> None:
    root = make_folder_repo(tmp_path / "clirepo")
    rc, out, err = ck("pull", "repo", root)
    assert rc == 0, err
    rc, out, err = ck("find", "dataset", "--tags=ext")
    assert rc == 0 and "dataset:clirepo:ext-data" in out
    rc, out, err = ck("rm", "repo:clirepo")
    assert rc == 0 and os.path.isdir(root)


def test_builtin_and_local_cannot_be_removed(home) -> None:
    assert access(action="rm", automation="repo", artifact="builtin")["return"] == 10
    assert access(action="rm", automation="repo", artifact="local")["return"] == 10
    assert access(action="rm", automation="repo", artifact="nope")["return"] == 16
    assert access(action="rm", automation="repo", artifact="*")["return"] == 2


def test_builtin_readonly(home) -> None:
    r = access(action="add", automation="dataset", artifact="builtin:x")
    assert r["return"] == 7


@pytest.mark.parametrize("action", ["ren", "cp", "mv"])
def test_repos_cannot_be_renamed_copied_moved(home, action) -> None:
    assert access(action=action, automation="repo", artifact="local", target="x")["return"] == 2


def test_url_helpers() -> None:
    assert is_url("https://github.com/a/b.git") and is_url("git@github.com:a/b")
    assert is_url("file:///tmp/x") and not is_url("/tmp/x")
    assert _name_from("https://github.com/mlcommons/ck.git") == "ck"
    assert _name_from("git@github.com:a/my repo") == "my-repo"
    assert _name_from("/") == "repo"
