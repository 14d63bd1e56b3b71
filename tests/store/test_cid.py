"""CIDs: [REPO:]NAME, UIDs, wildcards, and refusal of unsafe names."""

from __future__ import annotations

import os

import pytest

from cknowledge.errors import InvalidInput, UnsafeName
from cknowledge.store.cid import (ArtifactRef, check_name, is_pattern, is_uid, new_uid,
                                  parse_artifact, parse_cid)
from tests.conftest import access, ok


def test_plain_name() -> None:
    ref = parse_artifact("my-data")
    assert ref == ArtifactRef(None, "my-data")
    assert not ref.is_pattern and ref.uid is None
    assert str(ref) == "my-data"


def test_repo_and_name() -> None:
    ref = parse_artifact("local:my-data")
    assert (ref.repo, ref.name) == ("local", "my-data")
    assert str(ref) == "local:my-data"


def test_repo_only_means_all_entries_of_repo() -> None:
    ref = parse_artifact("local:")
    assert ref.repo == "local" and ref.name is None and ref.is_pattern
    assert str(ref) == "local:*"


def test_empty_and_none() -> None:
    assert parse_artifact(None) == ArtifactRef()
    assert parse_artifact("") == ArtifactRef()
    assert ArtifactRef().is_pattern


def test_uid() -> None:
    uid = new_uid()
    assert is_uid(uid) and len(uid) == 16
    assert new_uid() != uid
    ref = parse_artifact(uid)
    assert ref.uid == uid
    assert not is_uid("0123456789ABCDEF")  # upper case is not a UID
    assert not is_uid("0123456789abcde")   # 15 chars
    assert not is_uid("0123456789abcdeg")


@pytest.mark.parametrize("text", ["my-*", "a?c", "data[12]", "*", "local:my-*", "*:x"])
def test_wildcards(text: str) -> None:
    ref = parse_artifact(text)
    assert ref.is_pattern or (ref.repo and is_pattern(ref.repo))


def test_too_many_colons() -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_artifact("a:b:c")
    assert exc.value.code == 2
    assert "too many" in exc.value.message


@pytest.mark.parametrize("name", ["../x", "a/../../b", "/abs", "..", ".", ".git", "a\\b",
                                  "-x", "a b", "x\x00y", "a" * 201, "x\n", "x\ny"])
def test_unsafe_names_raise(name: str) -> None:
    with pytest.raises(UnsafeName) as exc:
        check_name(name)
    assert exc.value.code == 5


def test_empty_name_is_unsafe() -> None:
    with pytest.raises(UnsafeName) as exc:
        check_name("")
    assert exc.value.code == 5
    with pytest.raises(UnsafeName):
        check_name(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["../x", "a/../../b", "/abs", "repo:../x", "../r:x",
                                  "*/..", "..*", "a/*"])
def test_unsafe_artifacts_raise(text: str) -> None:
    with pytest.raises(UnsafeName):
        parse_artifact(text)


@pytest.mark.parametrize("name", ["ok", "A_b.c+d@e=f-g", "_x", "0123456789abcdef", "v1.2.3"])
def test_safe_names(name: str) -> None:
    assert check_name(name) == name


def test_non_string_artifact() -> None:
    with pytest.raises(InvalidInput):
        parse_artifact(123)  # type: ignore[arg-type]


def test_parse_cid() -> None:
    assert parse_cid("dataset") == ("dataset", None)
    assert parse_cid("dataset:x") == ("dataset", "x")
    assert parse_cid("dataset:local:x") == ("dataset", "local:x")
    with pytest.raises(InvalidInput):
        parse_cid(":x")


def _all_files(root: str) -> set[str]:
    """Every path under root, except the derived caches (index, locks)."""
    out = set()
    for dirpath, dirs, files in os.walk(root):
        if dirpath == root:
            dirs[:] = [d for d in dirs if d not in ("index", "locks")]
        for f in files + dirs:
            out.add(os.path.relpath(os.path.join(dirpath, f), root))
    return out


@pytest.mark.parametrize("name", ["../x", "a/../../b", "/abs", "..", "../../escape"])
def test_add_with_unsafe_name_writes_nothing(home, tmp_path, name: str) -> None:
    ok(action="add", automation="dataset", artifact="keep")  # home and local repo exist
    before_home = _all_files(str(home))
    before_tmp = set(os.listdir(tmp_path))
    result = access(action="add", automation="dataset", artifact=name)
    assert result["return"] == 5, result
    assert "error" in result and result["error"]
    assert _all_files(str(home)) == before_home
    assert set(os.listdir(tmp_path)) == before_tmp
    assert not os.path.exists(os.path.join(str(tmp_path), "x"))
    assert not os.path.exists("/abs")


@pytest.mark.parametrize("action,extra", [
    ("ren", {"artifact": "keep", "target": "../evil"}),
    ("cp", {"artifact": "keep", "target": "../evil"}),
    ("mv", {"artifact": "keep", "target": "local:../evil"}),
    ("load", {"artifact": "../keep"}),
    ("update", {"artifact": "a/../../keep"}),
])
def test_other_actions_refuse_unsafe_names(home, action: str, extra: dict) -> None:
    ok(action="add", automation="dataset", artifact="keep")
    before = _all_files(str(home))
    result = access(action=action, automation="dataset", **extra)
    assert result["return"] == 5, result
    assert _all_files(str(home)) == before


def test_unsafe_automation_name_writes_nothing(home) -> None:
    ok(action="add", automation="dataset", artifact="keep")
    before = _all_files(str(home))
    parent = os.path.dirname(str(home))
    before_parent = set(os.listdir(parent))
    for auto in ("..", "../dataset", "/tmp"):
        result = access(action="add", automation=auto, artifact="x")
        assert result["return"] in (4, 5), (auto, result)
    assert _all_files(str(home)) == before
    assert set(os.listdir(parent)) == before_parent


def test_unsafe_repo_name_refused(home) -> None:
    result = access(action="add", automation="repo", artifact="../evil")
    assert result["return"] == 5, result
    assert not os.path.exists(os.path.join(str(home), "evil"))
