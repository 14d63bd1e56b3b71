"""Export and import of entries as archives, refusing unsafe members."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile

import pytest

from cknowledge import api
from cknowledge.errors import ArchiveError
from cknowledge.store.archive import _members
from tests.conftest import access, names, ok


def tree(root) -> list[tuple[str, tuple, tuple]]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        out.append((os.path.relpath(dirpath, root), tuple(sorted(dirs)), tuple(sorted(files))))
    return sorted(out)


@pytest.fixture
def two(home):
    a = ok(action="add", automation="dataset", artifact="exp-a", tags="exp,a",
           meta={"license": "MIT"})
    with open(os.path.join(a["path"], "data.bin"), "wb") as fh:
        fh.write(b"\x00\x01payload")
    os.makedirs(os.path.join(a["path"], "sub", "deep"))
    with open(os.path.join(a["path"], "sub", "deep", "f.txt"), "w") as fh:
        fh.write("deep")
    ok(action="add", automation="dataset", artifact="exp-b", tags="exp,b")
    ok(action="add", automation="dataset", artifact="unrelated", tags="other")
    return a


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz", ".tgz", ".tar"])
def test_export_import_other_home(two, tmp_path, monkeypatch, suffix) -> None:
    file = str(tmp_path / f"out{suffix}")
    r = ok(action="export", automation="dataset", file=file, tags="exp")
    assert r["count"] == 2 and os.path.isfile(file)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]
    # another home
    monkeypatch.setenv("CK_HOME", str(tmp_path / "home2"))
    api.reset()
    r = ok(action="import", file=file)
    assert sorted(e["name"] for e in r["list"]) == ["exp-a", "exp-b"]
    assert names(ok(action="find", automation="dataset", tags="exp")) == ["exp-a", "exp-b"]
    e = ok(action="load", automation="dataset", artifact="exp-a")
    assert e["uid"] == two["uid"] and e["meta"]["license"] == "MIT"
    assert open(os.path.join(e["path"], "data.bin"), "rb").read() == b"\x00\x01payload"
    assert open(os.path.join(e["path"], "sub", "deep", "f.txt")).read() == "deep"
    assert access(action="load", automation="dataset", artifact="unrelated")["return"] == 16
    # a second import collides
    again = access(action="import", file=file)
    assert again["return"] == 8, again
    ok(action="import", file=file, overwrite=True)
    assert names(ok(action="find", automation="dataset")) == ["exp-a", "exp-b"]
    repo = os.path.join(str(tmp_path / "home2"), "repos", "local")
    assert not [f for f in os.listdir(repo) if f.startswith(".tmp")]


def test_import_into_another_repo(two, tmp_path) -> None:
    file = str(tmp_path / "x.zip")
    ok(action="export", automation="dataset", artifact="exp-a", file=file)
    ok(action="add", automation="repo", artifact="second")
    second = os.path.join(str(tmp_path), "ckhome", "repos", "second")
    before = tree(second)
    dup = access(action="import", file=file, repo="second")  # the uid lives in local already
    assert dup["return"] == 8, dup
    assert tree(second) == before
    ok(action="rm", automation="dataset", artifact="exp-a")
    r = ok(action="import", file=file, repo="second")
    assert [(e["repo"], e["name"]) for e in r["list"]] == [("second", "exp-a")]
    e = ok(action="load", automation="dataset", artifact="second:exp-a")
    assert e["meta"]["license"] == "MIT" and e["uid"] == two["uid"]


def test_export_nothing_and_bad_suffix(two, tmp_path) -> None:
    assert access(action="export", automation="dataset", file=str(tmp_path / "x.zip"),
                  tags="nosuch")["return"] == 16
    assert access(action="export", automation="dataset", file=str(tmp_path / "x.rar"))["return"] == 2
    assert not os.path.exists(tmp_path / "x.zip")


def test_import_missing_file(home, tmp_path) -> None:
    assert access(action="import", file=str(tmp_path / "none.zip"))["return"] == 16


def test_import_garbage_is_11(home, tmp_path) -> None:
    for name in ("bad.zip", "bad.tar.gz"):
        p = tmp_path / name
        p.write_bytes(b"this is not an archive at all" * 10)
        r = access(action="import", file=str(p))
        assert r["return"] == 11, r
        assert name in r["error"]


def _zip(path, members: dict[str, bytes], link: str | None = None) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")


def _tar(path, members: dict[str, bytes], symlink: str | None = None,
         hardlink: str | None = None) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tf.addfile(info)
        if hardlink:
            info = tarfile.TarInfo(hardlink)
            info.type = tarfile.LNKTYPE
            info.linkname = "dataset/ok/meta.yaml"
            tf.addfile(info)


GOOD = {"dataset/ok/meta.yaml": b"tags: [x]\n"}
UNSAFE = [
    ("dotdot", {"dataset/ok/../../../evil.txt": b"x"}, None),
    ("dotdot-top", {"../evil/x/meta.yaml": b"x"}, None),
    ("absolute", {"/tmp/evil/x/meta.yaml": b"x"}, None),
    ("bad-name", {"dataset/.git/config": b"x"}, None),
    ("toplevel-file", {"evil.txt": b"x"}, None),
    ("symlink", {}, "dataset/ok/link"),
]


@pytest.mark.parametrize("kind", ["zip", "tar"])
@pytest.mark.parametrize("label,members,link", UNSAFE, ids=[u[0] for u in UNSAFE])
def test_import_refuses_unsafe_members_and_writes_nothing(home, tmp_path, kind, label,
                                                          members, link) -> None:
    ok(action="add", automation="dataset", artifact="existing")
    target = os.path.join(str(home), "repos", "local")
    before = tree(target)
    before_tmp = sorted(os.listdir(tmp_path))
    path = str(tmp_path / ("evil.zip" if kind == "zip" else "evil.tar.gz"))
    content = dict(GOOD, **members)
    if kind == "zip":
        _zip(path, content, link)
    else:
        _tar(path, content, symlink=link)
    r = access(action="import", file=path)
    assert r["return"] == 11, r
    assert "refused" in r["error"] or "not inside" in r["error"] or "not allowed" in r["error"]
    assert tree(target) == before
    assert sorted(os.listdir(tmp_path)) == sorted(before_tmp + [os.path.basename(path)])
    assert not os.path.exists("/tmp/evil")
    assert access(action="load", automation="dataset", artifact="ok")["return"] == 16


def test_import_refuses_tar_hardlink(home, tmp_path) -> None:
    path = str(tmp_path / "h.tar.gz")
    _tar(path, GOOD, hardlink="dataset/ok/hard")
    with pytest.raises(ArchiveError):
        _members(path)
    assert access(action="import", file=path)["return"] == 11


def test_export_skips_symlinks(two, tmp_path) -> None:
    os.symlink("/etc/passwd", os.path.join(two["path"], "link"))
    file = str(tmp_path / "s.tar.gz")
    ok(action="export", automation="dataset", artifact="exp-a", file=file)
    with tarfile.open(file) as tf:
        names_in = tf.getnames()
    assert "dataset/exp-a/data.bin" in names_in
    assert not any(n.endswith("/link") for n in names_in)
    manifest = json.load(tarfile.open(file).extractfile("ckarchive.json"))
    assert manifest["entries"][0]["name"] == "exp-a"


def test_import_into_readonly_repo(two, tmp_path) -> None:
    file = str(tmp_path / "x.zip")
    ok(action="export", automation="dataset", artifact="exp-b", file=file)
    assert access(action="import", file=file, repo="builtin")["return"] == 7


def test_import_refuses_a_file_where_an_entry_folder_belongs(home, tmp_path) -> None:
    bad = tmp_path / "flat.zip"
    _zip(bad, {"dataset/x": b"not a folder"})
    r = access(action="import", file=str(bad))
    assert r["return"] == ArchiveError.code and "entry folder" in r["error"]
    assert not os.path.exists(os.path.join(str(home), "repos", "local", "dataset", "x"))
