"""Unsafe archives are refused before anything is written; safe ones unpack whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cknowledge.errors import ArchiveError, InvalidInput
from cknowledge.install import install
from cknowledge.install.unpack import format_for, unpack
from tests.install.conftest import file_url, listing, make_tar, make_zip, sha


def install_archive(tmp_path, name: str, data: bytes, **kw) -> str:
    src = tmp_path / "srv" / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    target = tmp_path / "target"
    target.mkdir()
    install({"method": "download", "url": file_url(src), "sha256": sha(data), **kw},
            str(target))
    return str(target)


UNSAFE_TARS = {
    "dotdot": [("ok.txt", b"ok"), ("../evil.txt", b"evil")],
    "nested-dotdot": [("a/ok.txt", b"ok"), ("a/../../evil.txt", b"evil")],
    "absolute": [("ok.txt", b"ok"), ("/tmp/ck-evil-absolute.txt", b"evil")],
    "symlink-out": [("ok.txt", b"ok"), ("link", ("sym", "../../etc"))],
    "symlink-absolute": [("ok.txt", b"ok"), ("passwd", ("sym", "/etc/passwd"))],
    # each link lies inside on paper; together d/l2 resolves to the folder above
    "symlink-chain": [("ok.txt", b"ok"), ("d/l1", ("sym", "..")), ("d/l2", ("sym", "l1/.."))],
    "write-through-link": [("d", ("sym", ".")), ("d/evil.txt", b"evil")],
    "hardlink-out": [("ok.txt", b"ok"), ("h", ("hard", "/etc/passwd"))],
    "hardlink-missing": [("ok.txt", b"ok"), ("h", ("hard", "not-in-archive"))],
    "device": [("ok.txt", b"ok"), ("dev", ("chr", 0))],
}


@pytest.mark.parametrize("case", sorted(UNSAFE_TARS))
def test_unsafe_tar_is_refused_and_nothing_is_written(tmp_path, case) -> None:
    data = make_tar(tmp_path / "a.tar.gz", UNSAFE_TARS[case])
    before = listing(tmp_path)
    with pytest.raises(ArchiveError) as exc:
        install_archive(tmp_path, "pkg.tar.gz", data)
    assert exc.value.code == 11 and "refused" in exc.value.message
    assert os.listdir(tmp_path / "target") == []
    assert listing(tmp_path) == sorted(before + ["srv/", "srv/pkg.tar.gz", "target/"])
    assert not os.path.exists("/tmp/ck-evil-absolute.txt")


def test_unsafe_zip_is_refused(tmp_path) -> None:
    for i, members in enumerate([[("ok", b"1"), ("../evil", b"2")],
                                 [("ok", b"1"), ("/abs/evil", b"2")],
                                 [("ok", b"1"), ("l", ("sym", "../../x"))]]):
        out = tmp_path / str(i)
        out.mkdir()
        data = make_zip(out / "a.zip", members)
        with pytest.raises(ArchiveError, match="refused"):
            install_archive(out, "a.zip", data)
        assert os.listdir(out / "target") == []
        assert listing(out) == ["a.zip", "srv/", "srv/a.zip", "target/"]


def test_zip_unpacks_with_strip_and_inner_symlink(tmp_path) -> None:
    data = make_zip(tmp_path / "a.zip", [("top/x/a.txt", b"A"), ("top/b.txt", b"B"),
                                         ("top/x/link", ("sym", "a.txt"))])
    target = install_archive(tmp_path, "a.zip", data, strip_components=1)
    assert listing(target) == ["b.txt", "x/", "x/a.txt", "x/link"]
    assert Path(target, "x", "link").read_text() == "A"


def test_hardlink_inside_the_archive_is_copied(tmp_path) -> None:
    data = make_tar(tmp_path / "a.tar", [("p/a.txt", b"A"), ("p/b.txt", ("hard", "p/a.txt"))],
                    mode="w")
    target = install_archive(tmp_path, "a.tar", data, strip_components=1)
    assert listing(target) == ["a.txt", "b.txt"]
    assert Path(target, "b.txt").read_text() == "A"


def test_strip_that_leaves_nothing_is_an_error(tmp_path) -> None:
    data = make_tar(tmp_path / "a.tar.xz", [("a/b.txt", b"x")], mode="w:xz")
    with pytest.raises(ArchiveError, match="strip_components=2"):
        install_archive(tmp_path, "a.tar.xz", data, strip_components=2)
    assert os.listdir(tmp_path / "target") == []


def test_collision_with_an_existing_name_moves_nothing(tmp_path) -> None:
    archive = tmp_path / "a.tar.bz2"
    make_tar(archive, [("new.txt", b"n"), ("old.txt", b"o")], mode="w:bz2")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old.txt").write_text("mine")
    with pytest.raises(ArchiveError, match="exists already"):
        unpack(str(archive), str(dest), "tar")
    assert listing(dest) == ["old.txt"] and (dest / "old.txt").read_text() == "mine"


def test_a_broken_archive_is_an_archive_error(tmp_path) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ArchiveError, match="cannot read archive"):
        unpack(str(bad), str(tmp_path / "d"), "tar")
    assert not (tmp_path / "d").exists()


def test_format_choice() -> None:
    assert format_for("x.tgz", None) == "tar" and format_for("x.ZIP", None) == "zip"
    assert format_for("x.bin", None) is None and format_for("x.zip", False) is None
    assert format_for("blob", "tar.xz") == "tar"
    with pytest.raises(InvalidInput, match="no archive suffix"):
        format_for("blob", True)
    with pytest.raises(InvalidInput, match="unpack must be"):
        format_for("blob", "rar")
