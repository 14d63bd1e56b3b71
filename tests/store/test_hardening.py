"""Regression tests of the hardening issue: hostile meta files, archives and links."""

from __future__ import annotations

import io
import os
import tarfile
import time
import zipfile

import pytest

from cknowledge.errors import ArchiveError, InvalidInput, MetaError
from cknowledge.store import archive
from cknowledge.store.metaio import read_input_file, read_meta
from tests.conftest import access, names, ok

BOMB = "a: &a [" + ", ".join(["lol"] * 9) + "]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


def _entry_dir(home, name: str, automation: str = "dataset") -> str:
    return os.path.join(str(home), "repos", "local", automation, name)


# -- item 5: YAML alias bombs ----------------------------------------------------------------
def test_yaml_alias_bomb_is_refused_quickly(tmp_path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text(BOMB)
    start = time.monotonic()
    with pytest.raises(MetaError) as err:
        read_meta(str(path))
    assert time.monotonic() - start < 5
    assert str(path) in err.value.message and "\n" not in err.value.message
    (tmp_path / "rec.yaml").write_text("a: &a [*a]\n")
    with pytest.raises(MetaError, match="circular"):
        read_meta(str(tmp_path / "rec.yaml"))


def test_alias_bomb_in_a_repo_leaves_queries_working(home) -> None:
    ok(action="add", automation="dataset", artifact="good", tags="t")
    ok(action="add", automation="dataset", artifact="bomb")
    os.unlink(os.path.join(_entry_dir(home, "bomb"), "meta.json"))
    with open(os.path.join(_entry_dir(home, "bomb"), "meta.yaml"), "w") as fh:
        fh.write(BOMB)
    start = time.monotonic()
    r = ok(action="find", automation="dataset")
    assert names(r) == ["good"]
    assert any("bomb" in w and "meta.yaml" in w for w in r["warnings"])
    assert ok(action="find", automation="dataset", tags="t")["list"]
    assert access(action="load", automation="dataset", artifact="bomb")["return"] == 6
    assert time.monotonic() - start < 10


def test_ck_add_with_a_bomb_or_binary_input_file(home, tmp_path) -> None:
    (tmp_path / "bomb.yaml").write_text(BOMB)
    (tmp_path / "garbage.yaml").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "garbage.json").write_bytes(bytes(range(256)) * 8)
    for name in ("bomb.yaml", "garbage.yaml", "garbage.json"):
        with pytest.raises(InvalidInput) as err:
            read_input_file(str(tmp_path / name))
        assert name in err.value.message and "\n" not in err.value.message
    # what a bomb does once it is a request: refused, one line, nothing written
    import yaml

    data = yaml.load(BOMB, Loader=yaml.CSafeLoader)
    r = access(action="add", automation="dataset", artifact="x", meta=data)
    assert r["return"] == 2 and "\n" not in r["error"], r
    assert not os.path.exists(_entry_dir(home, "x"))


def test_oversized_meta_file_is_refused(tmp_path, monkeypatch) -> None:
    from cknowledge.store import metaio

    monkeypatch.setattr(metaio, "MAX_META_BYTES", 100)
    path = tmp_path / "meta.json"
    path.write_text('{"a": "' + "x" * 200 + '"}')
    with pytest.raises(MetaError, match="limit"):
        read_meta(str(path))


# -- item 11: NaN and infinities --------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused(home, bad) -> None:
    e = ok(action="add", automation="dataset", artifact="n", meta={"x": 1})
    r = access(action="update", automation="dataset", artifact="n", meta={"x": {"y": [bad]}})
    assert r["return"] == 2 and "JSON" in r["error"], r
    r = access(action="add", automation="dataset", artifact="m", meta={"x": bad})
    assert r["return"] == 2, r
    with open(os.path.join(e["path"], "meta.json")) as fh:
        text = fh.read()
    assert "NaN" not in text and "Infinity" not in text


# -- items 10 and 6: archives -----------------------------------------------------------------
def test_empty_archives_give_one_line(home, tmp_path) -> None:
    empty_zip = tmp_path / "e.zip"
    zipfile.ZipFile(empty_zip, "w").close()
    empty_tar = tmp_path / "e.tar.gz"
    tarfile.open(empty_tar, "w:gz").close()
    zero = tmp_path / "zero.tar.gz"
    zero.write_bytes(b"")
    zero_zip = tmp_path / "zero.zip"
    zero_zip.write_bytes(b"")
    for path in (empty_zip, empty_tar, zero, zero_zip):
        r = access(action="import", file=str(path))
        assert r["return"] == 11, r
        assert "\n" not in r["error"] and str(path) in r["error"], r
    assert "empty" in access(action="import", file=str(zero))["error"]


def test_zip_bomb_is_refused_before_writing(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(archive, "MIN_UNPACKED", 1 << 20)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("dataset/b/meta.json", '{"tags": []}')
        zf.writestr("dataset/b/zeros.bin", b"\0" * (8 << 20))
    assert os.path.getsize(path) < 100_000
    r = access(action="import", file=str(path))
    assert r["return"] == 11 and "more than" in r["error"], r
    assert access(action="load", automation="dataset", artifact="b")["return"] == 16
    local = os.path.join(str(home), "repos", "local")
    assert not os.path.exists(local) or not [n for n in os.listdir(local) if n.startswith(".tmp")]


def test_lying_sizes_are_counted_while_writing(tmp_path) -> None:
    check = archive.MemberCheck("archive x", max_unpacked=10)
    check.member("dataset/a/f", "file", 1)  # declares 1 byte
    with pytest.raises(ArchiveError, match="more than 10"):
        check.copy(io.BytesIO(b"x" * 100), io.BytesIO())


def test_member_check_counts_members(tmp_path) -> None:
    check = archive.MemberCheck("archive x", max_unpacked=1 << 20, max_members=2)
    check.member("a/b/c", "file", 1)
    check.member("a/b/", "dir")
    with pytest.raises(ArchiveError, match="more than 2 members"):
        check.member("a/b/d", "file", 1)
    for name in ("../x", "/abs", "c:/x", "a/\0b"):
        with pytest.raises(ArchiveError):
            archive.MemberCheck("archive x", 100).member(name, "file")
    with pytest.raises(ArchiveError, match="link"):
        archive.MemberCheck("archive x", 100).member("a/b/l", "symlink")


# -- item 12: entries without usable meta --------------------------------------------------
@pytest.mark.parametrize("members", [
    {"dataset/nometa/data.txt": b"x"},
    {"dataset/badmeta/meta.json": b"{not json"},
    {"dataset/badmeta/meta.yaml": BOMB.encode()},
])
def test_import_refuses_entries_without_usable_meta(home, tmp_path, members) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("dataset/fine/meta.json", '{"tags": []}')
        for name, data in members.items():
            zf.writestr(name, data)
    r = access(action="import", file=str(path))
    assert r["return"] == 11 and "\n" not in r["error"], r
    assert ".tmp-import" not in r["error"]
    assert access(action="load", automation="dataset", artifact="fine")["return"] == 16


def test_rm_removes_what_load_reports_as_broken(home) -> None:
    e = ok(action="add", automation="dataset", artifact="broken")
    with open(os.path.join(e["path"], "meta.json"), "w") as fh:
        fh.write("{not json")
    assert access(action="load", automation="dataset", artifact="broken")["return"] == 6
    r = ok(action="rm", automation="dataset", artifact="broken")
    assert [x["name"] for x in r["list"]] == ["broken"]
    assert not os.path.exists(e["path"])
    os.makedirs(_entry_dir(home, "empty"))  # a folder without any meta file
    ok(action="find", automation="dataset")
    ok(action="rm", automation="dataset", artifact="empty")
    assert not os.path.exists(_entry_dir(home, "empty"))
    assert access(action="rm", automation="dataset", artifact="empty")["return"] == 16


# -- item 4: entry folders that are links out of their repo ---------------------------------
@pytest.fixture
def linked(home, tmp_path):
    ok(action="add", automation="dataset", artifact="real", tags="t")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "meta.json").write_text('{"tags": ["t"]}')
    (secret / "id_rsa").write_text("PRIVATE")
    link = _entry_dir(home, "leak")
    os.symlink(secret, link)
    inside = _entry_dir(home, "alias")
    os.symlink(_entry_dir(home, "real"), inside)  # a link within the repo is fine
    return link


def test_links_out_of_the_repo_are_skipped(linked, tmp_path) -> None:
    r = ok(action="find", automation="dataset", tags="t")
    assert names(r) == ["alias", "real"]
    assert any("leak" in w and "outside its repo" in w for w in r["warnings"])
    assert access(action="load", automation="dataset", artifact="leak")["return"] == 6
    for action in ("cp", "mv"):
        assert access(action=action, automation="dataset", artifact="leak",
                      target="copy")["return"] == 6
    out = tmp_path / "all.zip"
    ok(action="export", automation="dataset", artifact="real", file=str(out))
    r = access(action="export", automation="dataset", artifact="leak", file=str(out))
    assert r["return"] == 16, r
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if "id_rsa" in n]


def test_rm_of_a_link_removes_the_link_only(linked, tmp_path) -> None:
    ok(action="rm", automation="dataset", artifact="leak")
    assert not os.path.lexists(linked)
    assert (tmp_path / "secret" / "id_rsa").read_text() == "PRIVATE"
    folder = os.path.dirname(linked)
    assert not [n for n in os.listdir(folder) if n.startswith(".tmp")]
    ok(action="rm", automation="dataset", artifact="alias")
    assert names(ok(action="find", automation="dataset")) == ["real"]


def test_export_refuses_a_link_out_of_the_repo(tmp_path) -> None:
    repo = tmp_path / "repo"
    (repo / "dataset").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo / "dataset" / "x")
    entry = {"automation": "dataset", "name": "x", "repo": "r", "uid": "0" * 16, "tags": [],
             "path": str(repo / "dataset" / "x")}
    with pytest.raises(ArchiveError, match="outside its repo"):
        archive.export_entries([entry], str(tmp_path / "x.zip"))


# -- siblings: archives racing with other writers ---------------------------------------------
def test_export_of_an_entry_removed_meanwhile_is_16(home, tmp_path, monkeypatch) -> None:
    ok(action="add", automation="dataset", artifact="x")
    real_walk = archive._walk

    def vanishing(entry):
        out = real_walk(entry)
        return out + [(os.path.join(entry["path"], "gone.txt"), "dataset/x/gone.txt")]

    monkeypatch.setattr(archive, "_walk", vanishing)
    out = tmp_path / "x.zip"
    r = access(action="export", automation="dataset", file=str(out))
    assert r["return"] == 16 and "vanished" in r["error"], r
    assert not out.exists() and not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]


def test_concurrent_imports_of_one_archive(home, tmp_path) -> None:
    import json
    import subprocess
    import sys

    from cknowledge import api
    from tests.conftest import SRC

    ok(action="add", automation="dataset", artifact="a", meta={"k": 1})
    ok(action="add", automation="dataset", artifact="b")
    out = str(tmp_path / "ab.zip")
    ok(action="export", automation="dataset", file=out)
    ok(action="rm", automation="dataset", artifact="*", force=True)
    api.reset()
    script = ("import json, sys, cknowledge; print(json.dumps(cknowledge.access("
              "{'action': 'import', 'file': sys.argv[1]})))")
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", script, out], env=env, text=True,
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL) for _ in range(3)]
    codes = [json.loads(p.communicate(timeout=120)[0])["return"] for p in procs]
    assert set(codes) <= {0, 8} and codes.count(0) == 1, codes
    api.reset()
    found = ok(action="find", automation="dataset")["list"]
    assert sorted(e["name"] for e in found) == ["a", "b"]
    assert ok(action="load", automation="dataset", artifact="a")["meta"]["k"] == 1
