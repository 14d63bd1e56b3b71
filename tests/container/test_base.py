"""`ck docker base`: its checks and the mirror it takes from the host's apt sources."""

from __future__ import annotations

import os
import shutil

import pytest

from cknowledge.container import base
from cknowledge.container.engine import Engine
from cknowledge.errors import CommandFailed, InvalidInput, NotFound


def test_mirror_is_the_hosts_first_debian_one(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb.example.org/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example.org/debian/\nSuites: bookworm\n")
    assert base.host_mirror(str(tmp_path)) == "http://mirror.example.org/debian"
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://m2.example/debian bookworm main\n")
    assert base.host_mirror(str(tmp_path)) == "http://m2.example/debian"
    (tmp_path / "sources.list").unlink()
    assert base.host_mirror(str(tmp_path)) == base.FALLBACK_MIRROR


def test_checks_before_anything_runs(monkeypatch):
    engine = Engine("podman", "/nonexistent/podman")
    with pytest.raises(InvalidInput, match="--suite=Book/worm: not a Debian suite name"):
        base.make_base(engine, "Book/worm")
    real_exists = os.path.exists
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os.path, "exists", lambda p: False if "debootstrap" in p else real_exists(p))
    with pytest.raises(NotFound, match="^debootstrap is not installed; install it: sudo apt-get "
                                       "install debootstrap$"):
        base.make_base(engine)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/sbin/debootstrap")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(CommandFailed, match=r"^ck docker base needs root \(debootstrap makes "
                                            r"device nodes and chroots\): run it as root or "
                                            r"with sudo$"):
        base.make_base(engine)


def test_default_base_prefers_the_one_ck_docker_base_made(monkeypatch):
    engine = Engine("podman", "/nonexistent/podman")
    monkeypatch.setattr(Engine, "image", lambda self, ref: {"id": "x"} if "ck-base" in ref else None)
    assert base.default_base(engine) == "localhost/ck-base:bookworm"
    monkeypatch.setattr(Engine, "image", lambda self, ref: None)
    assert base.default_base(engine) == "docker.io/library/debian:bookworm-slim"
