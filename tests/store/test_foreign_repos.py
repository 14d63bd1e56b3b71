"""Reading CM, MLCFlow and CK repos exactly: CM's prefix folder, aliases that differ from
folder names, ALIAS,UID references, variation tags, duplicate UIDs, CK's own `repo`
entries, info/desc, OWNER@REPO and the rule that picks one of several candidates.

Every repo here is made by the test itself (no files of CM or MLC are copied)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cknowledge.errors import Ambiguous, InvalidInput, NotFound
from cknowledge.store.choose import choose_entry, rank_candidates, sort_key
from cknowledge.store.cid import parse_artifact, split_alias_uid, split_variations
from cknowledge.store.legacy import entry_extras
from cknowledge.store.repos import entries_path, git_url, read_repo_meta
from tests.conftest import access, backdate_tree, git, names, ok

REPO_UID = "a1b2c3d4e5f60718"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def cm_repo(root: Path, prefix: str | None = "things") -> Path:
    """A CM-style repo: cmr.yaml with alias, uid and (optionally) a prefix folder."""
    lines = f"alias: team@tools\nuid: {REPO_UID}\ngit: true\n"
    if prefix:
        lines += f"prefix: {prefix}\n"
    write(root / "cmr.yaml", lines)
    base = root / prefix if prefix else root
    # a folder whose alias differs from its name
    write(base / "script" / "fetch-old-name" / "_cm.yaml",
          "alias: fetch-new-name\nuid: 1111111111111111\nautomation_alias: script\n"
          "tags: [fetch, data]\n")
    write(base / "script" / "build-tool" / "_cm.json", json.dumps(
        {"alias": "build-tool", "uid": "2222222222222222", "automation_alias": "script",
         "tags": ["build", "tool"]}))
    # two folders sharing one UID (a copied folder whose UID was not changed)
    for name in ("twin-b", "twin-a"):
        write(base / "script" / name / "_cm.yaml",
              f"alias: {name}\nuid: 3333333333333333\ntags: [twin]\n")
    backdate_tree(root, seconds=30)
    return root


# -- CM repos: cmr.yaml, prefix, alias and uid ------------------------------------------
def test_cm_repo_with_prefix(home, tmp_path) -> None:
    root = cm_repo(tmp_path / "tools")
    r = ok(action="pull", automation="repo", source=str(root))
    assert r["name"] == "team@tools" and r["uid"] == REPO_UID
    assert r["path"] == str(root / "things") and r["root"] == str(root)
    e = ok(action="load", automation="script", artifact="build-tool")
    assert e["path"] == str(root / "things" / "script" / "build-tool")
    assert e["repo"] == "team@tools"
    assert names(ok(action="find", automation="script", tags="fetch")) == ["fetch-old-name"]
    # the repo is found by its UID too, and pulling it again changes nothing
    assert ok(action="load", automation="repo", artifact=REPO_UID)["name"] == "team@tools"
    again = ok(action="pull", automation="repo", source=str(root))
    assert again["updated"] is False and again["name"] == "team@tools"
    # REPO as ALIAS,UID (CM's repo reference) and as the repo's UID
    assert ok(action="load", automation="script",
              artifact=f"team@tools,{REPO_UID}:build-tool")["uid"] == "2222222222222222"
    assert ok(action="load", automation="script",
              artifact=f"{REPO_UID}:build-tool")["uid"] == "2222222222222222"


def test_cm_repo_prefix_cloned_and_removed(home, tmp_path) -> None:
    src = cm_repo(tmp_path / "upstream-tools")
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "init", cwd=src)
    r = ok(action="pull", automation="repo", source=f"file://{src}")
    clone = os.path.join(str(home), "repos", "team@tools")
    assert r["root"] == clone and r["path"] == os.path.join(clone, "things")
    assert ok(action="load", automation="script", artifact="build-tool")["path"].startswith(clone)
    # git pull runs in the checkout, not in its prefix folder
    write(src / "things" / "script" / "build-tool" / "_cm.json", json.dumps(
        {"alias": "build-tool", "uid": "2222222222222222", "tags": ["build", "tool", "v2"]}))
    git("commit", "-q", "-am", "v2", cwd=src)
    assert ok(action="pull", automation="repo", source="team@tools")["updated"] is True
    assert names(ok(action="find", automation="script", tags="v2")) == ["build-tool"]
    # rm deletes the whole checkout
    assert ok(action="rm", automation="repo", artifact="team@tools")["deleted_files"] is True
    assert not os.path.exists(clone)


def test_repo_prefix_checked(tmp_path) -> None:
    assert entries_path(str(tmp_path), {}) == str(tmp_path)
    assert entries_path(str(tmp_path), {"prefix": "a/b"}) == str(tmp_path / "a" / "b")
    with pytest.raises(InvalidInput):
        entries_path(str(tmp_path), {"prefix": "../escape"})
    write(tmp_path / "cm" / "cmr.yaml", "alias: x\nuid: 0123456789abcdef\nprefix: repo\n")
    assert read_repo_meta(str(tmp_path / "cm")) == {
        "alias": "x", "uid": "0123456789abcdef", "prefix": "repo", "legacy": "cm"}


def test_mlc_repo_root_meta(home, tmp_path) -> None:
    root = tmp_path / "mlc-things"
    write(root / "meta.yaml", "alias: team@mlc-things\nuid: 0f0e0d0c0b0a0908\ngit: true\n")
    write(root / "script" / "get-widget" / "meta.yaml",
          "alias: get-widget\nuid: 4444444444444444\ntags: [get, widget]\n")
    backdate_tree(root, seconds=30)
    assert read_repo_meta(str(root))["legacy"] == "mlc"
    digits = tmp_path / "digits"
    write(digits / "cmr.yaml", "alias: digits\nuid: 1234567890123456\n")
    assert ok(action="pull", automation="repo", source=str(digits))["uid"] == "1234567890123456"
    r = ok(action="pull", automation="repo", source=str(root))
    assert r["name"] == "team@mlc-things" and r["uid"] == "0f0e0d0c0b0a0908"
    assert ok(action="load", automation="script", artifact="get-widget")["repo"] == \
        "team@mlc-things"


# -- aliases, ALIAS,UID, variation tags --------------------------------------------------
def test_alias_and_folder_name_both_resolve(home, tmp_path) -> None:
    ok(action="pull", automation="repo", source=str(cm_repo(tmp_path / "tools")))
    by_folder = ok(action="load", automation="script", artifact="fetch-old-name")
    by_alias = ok(action="load", automation="script", artifact="fetch-new-name")
    assert by_folder["uid"] == by_alias["uid"] == "1111111111111111"
    assert by_alias["name"] == "fetch-old-name"  # the folder name is the entry's name
    assert names(ok(action="find", automation="script", artifact="fetch-new*")) == [
        "fetch-old-name"]
    assert names(ok(action="find", automation="script", artifact="fetch-*")) == [
        "fetch-old-name"]


def test_folder_name_shadows_an_alias(home) -> None:
    """An entry folder named X wins over another entry whose alias is X."""
    ok(action="add", automation="dataset", artifact="plain")
    other = ok(action="add", automation="dataset", artifact="other")
    meta_path = os.path.join(other["path"], "meta.json")
    meta = json.load(open(meta_path))
    meta["alias"] = "plain"
    json.dump(meta, open(meta_path, "w"))
    backdate_tree(os.path.dirname(other["path"]), seconds=30)
    e = ok(action="load", automation="dataset", artifact="plain")
    assert e["name"] == "plain"


def test_alias_uid_references(home, tmp_path) -> None:
    ok(action="pull", automation="repo", source=str(cm_repo(tmp_path / "tools")))
    # CM's ALIAS,UID (either order): the UID decides, whatever the alias says
    for art in ("build-tool,2222222222222222", "2222222222222222,build-tool",
                "stale-alias,2222222222222222", "team@tools:build-tool,2222222222222222"):
        assert ok(action="load", automation="script", artifact=art)["name"] == "build-tool"
    missing = access(action="load", automation="script", artifact="build-tool,2222222222222229")
    assert missing["return"] == 16 and "2222222222222229" in missing["error"]
    bad = access(action="load", automation="script", artifact="build-tool,other")
    assert bad["return"] == 2 and "UID" in bad["error"]


def test_parse_alias_uid_and_variations() -> None:
    ref = parse_artifact("get-x,0123456789abcdef")
    assert (ref.repo, ref.name, ref.alias) == (None, "0123456789abcdef", "get-x")
    assert ref.uid == "0123456789abcdef" and str(ref) == "get-x,0123456789abcdef"
    ref = parse_artifact("0123456789abcdef,get-x")
    assert ref.uid == "0123456789abcdef" and ref.alias == "get-x"
    ref = parse_artifact("r,fedcba9876543210:n")
    assert ref.repo == "fedcba9876543210" and ref.name == "n"
    assert split_alias_uid("plain") == ("plain", None)
    for bad in ("a,b", ",0123456789abcdef", "a,b,c"):
        with pytest.raises(InvalidInput):
            parse_artifact(bad)
    assert split_variations("get-x,_cuda,_v2") == ("get-x", ["cuda", "v2"])
    assert split_variations("get-x,0123456789abcdef,_cuda") == (
        "get-x,0123456789abcdef", ["cuda"])
    assert split_variations("_odd-name") == ("_odd-name", [])
    assert parse_artifact("get-x,_cuda") == parse_artifact("get-x")
    assert parse_artifact("get-x,0123456789abcdef,_cuda").uid == "0123456789abcdef"


def test_variation_tags_are_ignored_by_find(home, tmp_path) -> None:
    ok(action="pull", automation="repo", source=str(cm_repo(tmp_path / "tools")))
    assert names(ok(action="find", automation="script", tags="build,_cuda,_v2")) == [
        "build-tool"]
    assert names(ok(action="find", automation="script", tags="build,-_cuda")) == [
        "build-tool"]


# -- duplicate UIDs ------------------------------------------------------------------------
def test_duplicate_uids_one_is_kept(home, tmp_path) -> None:
    ok(action="pull", automation="repo", source=str(cm_repo(tmp_path / "tools")))
    # by UID: one entry, the first folder name of the first repo
    found = ok(action="find", automation="script", artifact="3333333333333333")["list"]
    assert [e["name"] for e in found] == ["twin-a"]
    assert ok(action="load", automation="script", artifact="3333333333333333")["name"] == "twin-a"
    # by tags both folders are listed (they are two folders)
    assert names(ok(action="find", automation="script", tags="twin")) == ["twin-a", "twin-b"]
    # across repos: the first repo of the registry wins (local before pulled repos)
    # (add refuses a UID that exists: the copy is made by hand, as a copied folder is)
    write(home / "repos" / "local" / "script" / "zz-local-twin" / "meta.yaml",
          "uid: '3333333333333333'\n")
    backdate_tree(home / "repos" / "local", seconds=30)
    assert ok(action="load", automation="script", artifact="3333333333333333")["repo"] == "local"


def test_ambiguous_name_error_names_candidates(home, tmp_path) -> None:
    ok(action="pull", automation="repo", source=str(cm_repo(tmp_path / "tools")))
    ok(action="add", automation="script", artifact="build-tool")
    r = access(action="load", automation="script", artifact="build-tool")
    assert r["return"] == 9
    assert "local:build-tool" in r["error"] and "team@tools:build-tool" in r["error"]


# -- CK repos: their own `repo` entries, info and desc --------------------------------------
def ck_repo_with_repo_entries(root: Path) -> Path:
    write(root / ".ckr.json", json.dumps({"data_alias": "ck-old", "data_uid": "5555555555555555",
                                          "dict": {}}))
    entry = root / "repo" / "ck-helper" / ".cm"
    write(entry / "meta.json", json.dumps({"tags": ["ck", "helper"], "url": "x"}))
    write(entry / "info.json", json.dumps({"backup_data_uid": "6666666666666666",
                                           "data_name": "CK helper repo",
                                           "control": {"author": "someone"}}))
    write(entry / "desc.json", json.dumps({"params": {"x": 1}}))
    backdate_tree(root, seconds=30)
    return root


def test_ck_repo_entries_stay_reachable(home, tmp_path) -> None:
    root = ck_repo_with_repo_entries(tmp_path / "ck-old")
    assert ok(action="pull", automation="repo", source=str(root))["name"] == "ck-old"
    listed = ok(action="find", automation="repo")["list"]
    assert {"builtin", "local", "ck-old", "ck-helper"} <= {e["name"] for e in listed}
    helper = [e for e in listed if e["name"] == "ck-helper"][0]
    assert helper["repo"] == "ck-old" and helper["uid"] == "6666666666666666"
    assert names(ok(action="find", automation="repo", tags="helper")) == ["ck-helper"]
    e = ok(action="load", automation="repo", artifact="ck-helper")
    assert e["meta"]["url"] == "x" and e["repo"] == "ck-old"
    assert e["info"]["data_name"] == "CK helper repo" and e["desc"] == {"params": {"x": 1}}
    assert "meta_file" not in e
    assert ok(action="load", automation="repo", artifact="ck-old:ck-helper")["uid"] == \
        "6666666666666666"
    # a registered repo keeps the name; an unknown name names the registered repos
    assert ok(action="load", automation="repo", artifact="ck-old")["path"] == str(root)
    assert access(action="load", automation="repo", artifact="nope")["return"] == 16


def test_entry_extras_info_and_desc(tmp_path) -> None:
    root = ck_repo_with_repo_entries(tmp_path / "ck-old")
    path = str(root / "repo" / "ck-helper")
    extras = entry_extras(path, os.path.join(".cm", "meta.json"))
    assert extras["info"]["data_name"] == "CK helper repo"
    assert extras["info"]["control"] == {"author": "someone"}
    assert extras["desc"] == {"params": {"x": 1}}
    assert entry_extras(path, "meta.json") == {}
    (root / "repo" / "ck-helper" / ".cm" / "desc.json").write_text("[not json")
    assert set(entry_extras(path, ".cm/meta.json")) == {"info"}


# -- OWNER@REPO ------------------------------------------------------------------------------
def test_owner_repo_shorthand(monkeypatch) -> None:
    monkeypatch.delenv("CK_GIT_BASE", raising=False)
    assert git_url("mlcommons@mlperf-automations") == \
        "https://github.com/mlcommons/mlperf-automations"
    monkeypatch.setenv("CK_GIT_BASE", "https://git.example.org/")
    assert git_url("team@tools") == "https://git.example.org/team/tools"
    for not_shorthand in ("plain", "a@b@c", "git@host:x/y", "/abs@path", "@x", "x@"):
        assert git_url(not_shorthand) is None


def test_pull_owner_repo_from_a_git_base(home, tmp_path, monkeypatch) -> None:
    src = cm_repo(tmp_path / "server" / "team" / "tools", prefix=None)
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "init", cwd=src)
    monkeypatch.setenv("CK_GIT_BASE", f"file://{tmp_path / 'server'}")
    r = ok(action="pull", automation="repo", source="team@tools")
    assert r["url"] == f"file://{tmp_path / 'server'}/team/tools" and r["name"] == "team@tools"
    assert ok(action="load", automation="script", artifact="build-tool")["repo"] == "team@tools"
    assert ok(action="pull", automation="repo", source="team@tools")["updated"] is True


def test_pull_owner_repo_unreachable_is_one_clear_line(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CK_GIT_BASE", f"file://{tmp_path / 'no-server'}")
    r = access(action="pull", automation="repo", source="team@missing")
    assert r["return"] == 10
    err = r["error"]
    assert "\n" not in err
    assert f"file://{tmp_path / 'no-server'}/team/missing" in err
    assert "ck pull repo /path/to/folder" in err and ".tmp-clone" not in err
    assert not [n for n in os.listdir(os.path.join(str(home), "repos")) if n != "local"]


def test_a_local_folder_named_like_owner_repo_is_a_folder(home, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "team@local"
    write(folder / "dataset" / "d" / "meta.yaml", "uid: 7777777777777777\n")
    backdate_tree(folder, seconds=30)
    monkeypatch.chdir(tmp_path)
    r = ok(action="pull", automation="repo", source="team@local")
    assert r["path"] == str(folder) and r["url"] is None


# -- several candidates: the rule --------------------------------------------------------
def cand(name: str, repo: str = "r", uid: str | None = None, sort: object = None) -> dict:
    meta = {} if sort is None else {"sort": sort}
    return {"automation": "script", "name": name, "repo": repo,
            "uid": uid or name.ljust(16, "0")[:16], "meta": meta}


def test_choose_entry_rule() -> None:
    one = cand("a")
    assert choose_entry([one], "script", "--tags=x") is one
    # the lowest `sort` wins (CM's install-from-source scripts carry sort: 1000)
    low = cand("get-thing")
    assert choose_entry([cand("install-thing", sort=1000), low], "script", "--tags=x") is low
    assert choose_entry([cand("b", sort=5), cand("c", sort=-1)], "script", "q")["name"] == "c"
    # the same UID in several repos counts once: the first one given
    first = cand("same", repo="local", uid="1" * 16)
    assert choose_entry([first, cand("same", repo="other", uid="1" * 16)], "script", "q") is first
    # a tie is an error that names every candidate and how to choose
    with pytest.raises(Ambiguous) as exc:
        choose_entry([cand("get-gcc", repo="cm"), cand("get-llvm", repo="cm")], "script",
                     "--tags=get,compiler")
    msg = exc.value.message
    assert "script:cm:get-gcc" in msg and "script:cm:get-llvm" in msg
    assert "--tags=get,compiler" in msg and exc.value.code == 9
    assert exc.value.details["candidates"] == ["script:cm:get-gcc", "script:cm:get-llvm"]
    with pytest.raises(NotFound):
        choose_entry([], "script", "--tags=none")
    many = [cand(f"n{i:02d}") for i in range(14)]
    with pytest.raises(Ambiguous) as exc:
        choose_entry(many, "script", "q")
    assert "and 4 more" in exc.value.message
    assert len(rank_candidates(many)) == 14
    assert sort_key({"meta": {"sort": "x"}}) == 0 and sort_key({"meta": {"sort": True}}) == 0
    assert sort_key({}) == 0 and sort_key({"meta": {"sort": "7"}}) == 7


def test_choose_entry_prefer_and_first() -> None:
    mlc, cm = cand("get-x", repo="mlc"), cand("get-y", repo="cm")
    mlc["meta"]["flavor"] = "mlc"
    picked = choose_entry([cm, mlc], "script", "q",
                          prefer=lambda e: e["meta"].get("flavor") != "mlc")
    assert picked is mlc
    # a tie taken as CM's --quiet does: the first in the store's order
    assert choose_entry([cm, cand("get-z", repo="cm")], "script", "q", tie="first") is cm
    # prefer ranks before sort
    low_sort = cand("a", sort=-5)
    assert choose_entry([low_sort, mlc], "script", "q",
                        prefer=lambda e: e["meta"].get("flavor") != "mlc") is mlc


def test_pull_a_branch(home, tmp_path) -> None:
    src = cm_repo(tmp_path / "branchy", prefix=None)
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "init", cwd=src)
    git("checkout", "-q", "-b", "dev", cwd=src)
    write(src / "script" / "dev-only" / "_cm.yaml", "alias: dev-only\nuid: 8888888888888888\n")
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "dev", cwd=src)
    git("checkout", "-q", "main", cwd=src)
    bad = access(action="pull", automation="repo", source=f"file://{src}",
                 branch="no-such-branch")
    assert bad["return"] == 10 and "no-such-branch" in bad["error"]
    ok(action="pull", automation="repo", source=f"file://{src}", branch="dev")
    assert ok(action="load", automation="script", artifact="dev-only")["repo"] == "team@tools"


def test_prefix_folder_is_not_registered_twice(home, tmp_path) -> None:
    root = cm_repo(tmp_path / "tools")
    ok(action="pull", automation="repo", source=str(root))
    again = access(action="pull", automation="repo", source=str(root / "things"), name="inner")
    assert again["return"] in (0, 8)
    assert "inner" not in [r["name"] for r in ok(action="list", automation="repo")["list"]]


def test_find_repo_by_alias_uid(home, tmp_path) -> None:
    ok(action="pull", automation="repo", source=str(cm_repo(tmp_path / "tools")))
    assert names(ok(action="find", automation="repo", artifact=f"team@tools,{REPO_UID}")) == [
        "team@tools"]
    assert names(ok(action="find", automation="repo", artifact="team@*")) == ["team@tools"]


def test_pull_follows_a_changed_prefix(home, tmp_path) -> None:
    src = cm_repo(tmp_path / "moving", prefix="things")
    git("init", "-q", "-b", "main", cwd=src)
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "init", cwd=src)
    ok(action="pull", automation="repo", source=f"file://{src}")
    git("mv", "things", "stuff", cwd=src)
    (src / "cmr.yaml").write_text(f"alias: team@tools\nuid: {REPO_UID}\nprefix: stuff\n")
    git("commit", "-q", "-am", "move", cwd=src)
    r = ok(action="pull", automation="repo", source="team@tools")
    assert r["path"].endswith(os.path.join("team@tools", "stuff"))
    e = ok(action="load", automation="script", artifact="build-tool")
    assert os.path.join("stuff", "script", "build-tool") in e["path"]
    assert ok(action="load", automation="repo", artifact="team@tools")["path"] == r["path"]
