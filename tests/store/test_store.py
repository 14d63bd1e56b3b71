"""The core actions on entries, through access()."""

from __future__ import annotations

import os

import pytest
from filelock import FileLock

import cknowledge
from cknowledge.store import store as store_mod
from cknowledge.store.metaio import find_meta_file, read_meta
from tests.conftest import access, names, ok


def add(name, tags="", automation="dataset", **kw):
    return ok(action="add", automation=automation, artifact=name, tags=tags, **kw)


def find(**kw):
    return ok(action="find", automation=kw.pop("automation", "dataset"), **kw)


# -- add / load -----------------------------------------------------------------------
def test_add_result_keys_and_files(home) -> None:
    r = add("my-data", "a,b", meta={"license": "MIT"})
    assert {"uid", "name", "path"} <= set(r)
    assert r["name"] == "my-data" and len(r["uid"]) == 16
    assert r["path"] == os.path.join(str(home), "repos", "local", "dataset", "my-data")
    meta = read_meta(find_meta_file(r["path"]))
    assert meta["uid"] == r["uid"] and meta["alias"] == "my-data"
    assert meta["automation"] == "dataset" and meta["tags"] == ["a", "b"]
    assert meta["license"] == "MIT"


def test_add_without_name_uses_uid(home) -> None:
    r = ok(action="add", automation="dataset")
    assert r["name"] == r["uid"]
    assert ok(action="load", automation="dataset", artifact=r["uid"])["name"] == r["uid"]


def test_add_with_explicit_uid_and_duplicate_uid(home) -> None:
    r = add("u1", uid="0123456789abcdef")
    assert r["uid"] == "0123456789abcdef"
    dup = access(action="add", automation="dataset", artifact="u2", uid="0123456789abcdef")
    assert dup["return"] == 8, dup
    assert access(action="add", automation="dataset", artifact="u3", uid="XYZ")["return"] == 2


def test_add_existing_is_code_8(home) -> None:
    add("x")
    r = access(action="add", automation="dataset", artifact="x")
    assert r["return"] == 8 and "exists" in r["error"]


def test_add_wildcard_name_refused(home) -> None:
    assert access(action="add", automation="dataset", artifact="a*")["return"] == 2


def test_entry_folder_permissions_follow_umask(home) -> None:
    old = os.umask(0o022)
    try:
        r = add("perm")
        assert os.stat(r["path"]).st_mode & 0o777 == 0o755
        assert os.stat(find_meta_file(r["path"])).st_mode & 0o777 == 0o644
        ok(action="update", automation="dataset", artifact="perm", meta={"x": 1})
        assert os.stat(find_meta_file(r["path"])).st_mode & 0o777 == 0o644
        c = ok(action="cp", automation="dataset", artifact="perm", target="perm2")
        assert os.stat(c["path"]).st_mode & 0o777 == 0o755
    finally:
        os.umask(old)


def test_load(home) -> None:
    a = add("x", "t1", meta={"k": {"v": 1}})
    r = ok(action="load", automation="dataset", artifact="x")
    assert {"uid", "name", "path", "meta"} <= set(r)
    assert r["uid"] == a["uid"] and r["meta"]["k"] == {"v": 1}
    assert r["meta"]["tags"] == ["t1"]
    by_uid = ok(action="load", automation="dataset", artifact=a["uid"])
    assert by_uid["name"] == "x"
    assert ok(action="load", automation="dataset", artifact="local:x")["uid"] == a["uid"]
    assert ok(action="load", automation="dataset", artifact="x", repo="local")["uid"] == a["uid"]


def test_load_not_found_and_wrong_automation(home) -> None:
    add("x")
    r = access(action="load", automation="dataset", artifact="nope")
    assert r["return"] == 16 and "nope" in r["error"]
    assert access(action="load", automation="model", artifact="x")["return"] == 16
    assert access(action="load", automation="dataset", artifact="norepo:x")["return"] == 16


def test_load_needs_artifact(home) -> None:
    r = access(action="load", automation="dataset")
    assert r["return"] == 2 and "artifact" in r["error"]


def test_conflicting_repos_given(home) -> None:
    add("x")
    r = access(action="load", automation="dataset", artifact="local:x", repo="builtin")
    assert r["return"] == 2


# -- update ---------------------------------------------------------------------------
def test_update_merges(home) -> None:
    a = add("x", "t", meta={"a": {"b": 1, "c": 2}, "keep": 1})
    r = ok(action="update", automation="dataset", artifact="x", meta={"a": {"b": 9}, "new": 3})
    m = ok(action="load", automation="dataset", artifact="x")["meta"]
    assert m["a"] == {"b": 9, "c": 2} and m["keep"] == 1 and m["new"] == 3
    assert m["uid"] == a["uid"] and m["tags"] == ["t"] and r["meta"] == m
    on_disk = read_meta(find_meta_file(a["path"]))
    assert on_disk["a"] == {"b": 9, "c": 2}


def test_update_replace(home) -> None:
    a = add("x", "t", meta={"a": 1})
    ok(action="update", automation="dataset", artifact="x", meta={"b": 2}, replace=True)
    m = ok(action="load", automation="dataset", artifact="x")["meta"]
    assert "a" not in m and m["b"] == 2
    assert m["uid"] == a["uid"] and m["alias"] == "x"  # identity survives a replace


def test_update_cannot_change_uid(home) -> None:
    a = add("x")
    ok(action="update", automation="dataset", artifact="x", meta={"uid": "ffffffffffffffff"})
    assert ok(action="load", automation="dataset", artifact="x")["uid"] == a["uid"]


def test_update_tags(home) -> None:
    add("x", "a,b")
    ok(action="update", automation="dataset", artifact="x", tags="c,d")
    assert names(find(tags="c,d")) == ["x"]
    assert names(find(tags="a")) == []


def test_update_missing_is_16(home) -> None:
    assert access(action="update", automation="dataset", artifact="nope", meta={})["return"] == 16


# -- rm -------------------------------------------------------------------------------
def test_rm_single(home) -> None:
    a = add("x")
    add("y")
    r = ok(action="rm", automation="dataset", artifact="x")
    assert [e["name"] for e in r["list"]] == ["x"]
    assert not os.path.exists(a["path"])
    assert names(find()) == ["y"]
    assert not [n for n in os.listdir(os.path.dirname(a["path"])) if n.startswith(".tmp")]
    assert access(action="rm", automation="dataset", artifact="x")["return"] == 16


def test_rm_pattern_needs_force(home) -> None:
    add("my-a")
    add("my-b")
    add("other")
    r = access(action="rm", automation="dataset", artifact="my-*")
    assert r["return"] == 2 and "force" in r["error"]
    assert names(find()) == ["my-a", "my-b", "other"]
    r = ok(action="rm", automation="dataset", artifact="my-*", force=True)
    assert sorted(e["name"] for e in r["list"]) == ["my-a", "my-b"]
    assert names(find()) == ["other"]


def test_rm_all_needs_force(home) -> None:
    add("a")
    assert access(action="rm", automation="dataset")["return"] == 2
    ok(action="rm", automation="dataset", force=True)
    assert names(find()) == []


def test_rm_by_tags(home) -> None:
    add("a", "old,x")
    add("b", "old,y")
    add("c", "new")
    assert access(action="rm", automation="dataset", tags="old")["return"] == 2
    ok(action="rm", automation="dataset", tags="old,x")
    assert names(find()) == ["b", "c"]
    ok(action="rm", automation="dataset", tags="old", force=True)
    assert names(find()) == ["c"]


def test_write_to_builtin_is_readonly(home) -> None:
    builtin = os.path.join(cknowledge.__path__[0], "builtin")
    before = sorted(os.walk(builtin))
    r = access(action="add", automation="dataset", artifact="builtin:x")
    assert r["return"] == 7, r
    assert "read-only" in r["error"]
    for action, extra in (("cp", {"artifact": "x", "target": "builtin:y"}),
                          ("mv", {"artifact": "x", "target": "builtin:"})):
        add("x") if action == "cp" else None
        r = access(action=action, automation="dataset", **extra)
        assert r["return"] == 7, r
    assert sorted(os.walk(builtin)) == before


# -- ren / cp / mv --------------------------------------------------------------------
def test_ren_keeps_uid(home) -> None:
    a = add("old", "t")
    r = ok(action="ren", automation="dataset", artifact="old", target="new")
    assert r["uid"] == a["uid"] and r["name"] == "new"
    assert not os.path.exists(a["path"])
    loaded = ok(action="load", automation="dataset", artifact="new")
    assert loaded["uid"] == a["uid"] and loaded["meta"]["alias"] == "new"
    assert access(action="load", automation="dataset", artifact="old")["return"] == 16
    assert names(find(tags="t")) == ["new"]


def test_ren_with_new_name_key_and_onto_existing(home) -> None:
    add("a")
    add("b")
    assert ok(action="ren", automation="dataset", artifact="a", new_name="c")["name"] == "c"
    r = access(action="ren", automation="dataset", artifact="c", target="b")
    assert r["return"] == 8
    assert names(find()) == ["b", "c"]
    assert access(action="ren", automation="dataset", artifact="c")["return"] == 2


def test_cp_new_uid(home) -> None:
    a = add("src", "t", meta={"k": 1})
    open(os.path.join(a["path"], "data.txt"), "w").write("payload")
    r = ok(action="cp", automation="dataset", artifact="src", target="dst")
    assert r["uid"] != a["uid"] and r["name"] == "dst"
    assert open(os.path.join(r["path"], "data.txt")).read() == "payload"
    m = ok(action="load", automation="dataset", artifact="dst")["meta"]
    assert m["k"] == 1 and m["alias"] == "dst" and m["uid"] == r["uid"]
    assert names(find(tags="t")) == ["dst", "src"]
    assert access(action="cp", automation="dataset", artifact="src", target="dst")["return"] == 8
    assert access(action="cp", automation="dataset", artifact="src")["return"] == 2


def test_cp_into_another_repo(home) -> None:
    ok(action="add", automation="repo", artifact="second")
    a = add("src", "t")
    r = ok(action="cp", automation="dataset", artifact="src", target="second:src")
    assert r["repo"] == "second" and r["uid"] != a["uid"]
    assert os.path.isdir(os.path.join(str(home), "repos", "second", "dataset", "src"))
    assert ok(action="load", automation="dataset", artifact="second:src")["uid"] == r["uid"]
    amb = access(action="load", automation="dataset", artifact="src")
    assert amb["return"] == 9, amb  # same name in two repos


def test_mv_between_repos_keeps_uid(home) -> None:
    ok(action="add", automation="repo", artifact="second")
    a = add("m", "t")
    r = ok(action="mv", automation="dataset", artifact="m", target="second:")
    assert r["repo"] == "second" and r["uid"] == a["uid"] and r["name"] == "m"
    assert not os.path.exists(a["path"])
    found = find(tags="t")["list"]
    assert [(e["repo"], e["name"], e["uid"]) for e in found] == [("second", "m", a["uid"])]
    r2 = ok(action="mv", automation="dataset", artifact="second:m", target="local:m2")
    assert r2["uid"] == a["uid"]
    assert names(find(tags="t")) == ["m2"]
    assert access(action="mv", automation="dataset", artifact="m2")["return"] == 2


# -- find / list ----------------------------------------------------------------------
@pytest.fixture
def populated(home):
    add("my-a", "img,small", meta={"license": "MIT", "info": {"size": 10, "kind": "x"}})
    add("my-b", "img,large", meta={"license": "Apache-2.0", "info": {"size": 20, "kind": "x"}})
    add("other", "text,small", meta={"license": "MIT", "public": True, "list": [1, 2, 3]})
    return home


def test_find_by_tags_and(populated) -> None:
    assert names(find(tags="img")) == ["my-a", "my-b"]
    assert names(find(tags="img,small")) == ["my-a"]
    assert names(find(tags=["img", "small"])) == ["my-a"]
    assert names(find(tags="small")) == ["my-a", "other"]
    assert names(find(tags="nosuch")) == []


def test_find_with_exclusion(populated) -> None:
    assert names(find(tags="small,-img")) == ["other"]
    assert names(find(tags=["img", "-large"])) == ["my-a"]
    assert names(find(tags="img", no_tags="small")) == ["my-b"]
    assert names(find(no_tags=["img"])) == ["other"]
    assert names(find(tags="-text")) == ["my-a", "my-b"]


def test_find_by_name_wildcard(populated) -> None:
    assert names(find(artifact="my-*")) == ["my-a", "my-b"]
    assert names(find(artifact="my-?")) == ["my-a", "my-b"]
    assert names(find(artifact="*r")) == ["other"]
    assert names(find(artifact="local:my-*")) == ["my-a", "my-b"]
    assert names(find(artifact="my-a")) == ["my-a"]


def test_find_by_meta(populated) -> None:
    assert names(find(meta={"license": "MIT"})) == ["my-a", "other"]
    assert names(find(meta={"info": {"kind": "x"}})) == ["my-a", "my-b"]
    assert names(find(meta={"info": {"size": 20}})) == ["my-b"]
    assert names(find(meta={"info": {"size": "20"}})) == ["my-b"]  # CLI strings match numbers
    assert names(find(meta={"public": "true"})) == ["other"]
    assert names(find(meta={"list": 2})) == ["other"]
    assert names(find(meta={"license": "MIT"}, tags="img")) == ["my-a"]
    assert names(find(meta={"missing": "x"})) == []


def test_find_result_shape(populated) -> None:
    e = find(artifact="my-a")["list"][0]
    assert {"automation", "name", "uid", "repo", "path", "tags"} <= set(e)
    assert e["automation"] == "dataset" and e["repo"] == "local" and e["tags"] == ["img", "small"]
    assert "meta" not in e
    e = find(artifact="my-a", with_meta=True)["list"][0]
    assert e["meta"]["license"] == "MIT"


def test_search_alias_and_list(populated) -> None:
    assert names(ok(action="search", automation="dataset", tags="img")) == ["my-a", "my-b"]
    assert names(ok(action="list", automation="dataset")) == ["my-a", "my-b", "other"]
    assert names(ok(action="list", automation="dataset", artifact="o*")) == ["other"]


def test_find_scoped_to_automation(populated) -> None:
    add("my-a", "img", automation="model")
    assert names(find(tags="img")) == ["my-a", "my-b"]
    assert names(find(automation="model", tags="img")) == ["my-a"]


def test_tags_normalized(home) -> None:
    r = add("t", " a , b,a,, ")
    assert r["tags"] == ["a", "b"]


# -- ambiguity and locking -------------------------------------------------------------
def test_ambiguous_same_name_two_repos(home) -> None:
    ok(action="add", automation="repo", artifact="r2")
    add("dup")
    add("r2:dup")
    r = access(action="load", automation="dataset", artifact="dup")
    assert r["return"] == 9 and "local:dup" in r["error"] and "r2:dup" in r["error"]
    assert ok(action="load", automation="dataset", artifact="r2:dup")["repo"] == "r2"
    assert len(find(artifact="dup")["list"]) == 2


def _lock_path(home, repo_uid: str, automation: str, name: str) -> str:
    return os.path.join(str(home), "locks", f"{repo_uid}.{automation}.{name}.lock")


def test_locked_entry_is_code_32(home, monkeypatch) -> None:
    add("busy")
    monkeypatch.setattr(store_mod, "LOCK_TIMEOUT", 0.2)
    local_uid = ok(action="load", automation="repo", artifact="local")["uid"]
    os.makedirs(os.path.join(str(home), "locks"), exist_ok=True)
    lock = FileLock(_lock_path(home, local_uid, "dataset", "busy"))
    lock.acquire()
    try:
        r = access(action="update", automation="dataset", artifact="busy", meta={"a": 1})
        assert r["return"] == 32, r
        assert "locked" in r["error"]
        assert access(action="rm", automation="dataset", artifact="busy")["return"] == 32
    finally:
        lock.release()
    assert "a" not in ok(action="load", automation="dataset", artifact="busy")["meta"]
    ok(action="update", automation="dataset", artifact="busy", meta={"a": 1})
    assert ok(action="load", automation="dataset", artifact="busy")["meta"]["a"] == 1


# -- request shape ----------------------------------------------------------------------
def test_access_never_raises(home) -> None:
    for bad in (None, [], "find", {"action": 3}, {}, {"automation": "dataset"}):
        r = cknowledge.access(bad)  # type: ignore[arg-type]
        assert r["return"] != 0 and isinstance(r["error"], str), (bad, r)


def test_access_with_home_key(tmp_path, home) -> None:
    other = tmp_path / "otherhome"
    ok(action="add", automation="dataset", artifact="elsewhere", home=str(other))
    assert os.path.isdir(other / "repos" / "local" / "dataset" / "elsewhere")
    assert names(find()) == []


def test_cp_without_a_target_repo_stays_in_the_source_repo(home) -> None:
    ok(action="add", automation="repo", artifact="team")
    ok(action="add", automation="dataset", artifact="team:x", tags="a")
    r = ok(action="cp", automation="dataset", artifact="team:x", target="y")
    assert r["repo"] == "team" and r["name"] == "y"


def test_add_after_the_folders_were_deleted_by_hand(home) -> None:
    import shutil

    ok(action="add", automation="dataset", artifact="a")
    shutil.rmtree(os.path.join(str(home), "repos", "local"))
    r = ok(action="add", automation="dataset", artifact="b")
    assert os.path.isfile(os.path.join(r["path"], "meta.json"))
    assert names(ok(action="find", automation="dataset")) == ["b"]
