"""Change notification: the in-process watcher and the index watcher service."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import cknowledge
from cknowledge.api import kernel_for
from cknowledge.store import watchd

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux-only")


def _add(name: str, tags: str) -> None:
    r = cknowledge.access({"action": "add", "automation": "dataset", "artifact": name, "tags": tags})
    assert r["return"] == 0, r


def _names(tags: str) -> list[str]:
    r = cknowledge.access({"action": "find", "automation": "dataset", "tags": tags})
    assert r["return"] == 0, r
    return sorted(e["name"] for e in r["list"])


def test_second_scan_uses_watcher_and_sees_every_kind_of_change(home) -> None:
    ck_home = str(home)
    for i in range(20):
        _add(f"e{i}", "bench")
    assert len(_names("bench")) == 20           # first scan: stat everything
    assert len(_names("bench")) == 20           # second scan: watches placed, then full scan
    store = kernel_for(ck_home).store
    assert store._watcher is not None and store._watcher.covered
    folder = os.path.join(ck_home, "repos", "local", "dataset")

    # in-place edit of a meta file, same folder mtime
    meta = os.path.join(folder, "e3", "meta.json")
    with open(meta) as fh:
        text = fh.read()
    with open(meta, "w") as fh:
        fh.write(text.replace('"bench"', '"bench", "edited"'))
    assert _names("edited") == ["e3"]

    # a folder made by hand, a folder deleted by hand, a meta file renamed
    os.makedirs(os.path.join(folder, "hand"))
    with open(os.path.join(folder, "hand", "meta.yaml"), "w") as fh:
        fh.write("tags: [edited]\n")
    import shutil

    shutil.rmtree(os.path.join(folder, "e3"))
    assert _names("edited") == ["hand"]
    os.rename(os.path.join(folder, "hand", "meta.yaml"), os.path.join(folder, "hand", "x.txt"))
    with open(os.path.join(folder, "hand", "meta.json"), "w") as fh:
        fh.write('{"tags": ["renamed"]}')
    assert _names("edited") == []
    assert _names("renamed") == ["hand"]

    # an entry folder renamed by hand
    os.rename(os.path.join(folder, "e4"), os.path.join(folder, "e4b"))
    assert "e4b" in _names("bench") and "e4" not in _names("bench")

    # a whole automation folder appears
    auto = os.path.join(ck_home, "repos", "local", "model", "m1")
    os.makedirs(auto)
    with open(os.path.join(auto, "meta.yaml"), "w") as fh:
        fh.write("tags: [net]\n")
    r = cknowledge.access({"action": "find", "automation": "model", "tags": "net"})
    assert [e["name"] for e in r["list"]] == ["m1"]


def test_queue_overflow_falls_back_to_a_full_scan(home) -> None:
    ck_home = str(home)
    _add("a", "x")
    _names("x")
    _names("x")
    store = kernel_for(ck_home).store
    assert store._watcher is not None
    store._watcher.overflow = True
    meta = os.path.join(ck_home, "repos", "local", "dataset", "a", "meta.json")
    with open(meta) as fh:
        text = fh.read()
    with open(meta, "w") as fh:
        fh.write(text.replace('"x"', '"y"'))
    assert _names("y") == ["a"]


def test_watch_env_switch_turns_it_off(home, monkeypatch: pytest.MonkeyPatch) -> None:
    ck_home = str(home)
    monkeypatch.setenv("CK_WATCH", "0")
    _add("a", "x")
    for _ in range(3):
        assert _names("x") == ["a"]
    assert kernel_for(ck_home).store._watcher is None


def _ck(home: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cknowledge.cli.main", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, CK_HOME=home, **env), timeout=60)


def _wait_for_service(home: str) -> None:
    for _ in range(600):  # up to 30 s on a loaded machine
        if watchd.request_sync(home, [], None) is not None:
            return
        time.sleep(0.05)
    raise AssertionError("the watcher service did not start")


def test_cli_starts_the_service_and_it_keeps_the_index_fresh(home) -> None:
    ck_home = str(home)
    for i in range(30):
        _add(f"e{i}", "bench")
    cknowledge.api.reset()
    try:
        proc = _ck(ck_home, "find", "dataset", "--tags=bench", CK_WATCHD_MIN="10")
        assert proc.returncode == 0 and len(proc.stdout.split()) == 30
        _wait_for_service(ck_home)
        folder = os.path.join(ck_home, "repos", "local", "dataset")
        meta = os.path.join(folder, "e7", "meta.json")
        with open(meta) as fh:
            text = fh.read()
        with open(meta, "w") as fh:
            fh.write(text.replace('"bench"', '"bench", "svc"'))
        before = (watchd.stats(ck_home) or {}).get("syncs", 0)
        proc = _ck(ck_home, "find", "dataset", "--tags=svc")
        assert proc.stdout.split() == ["dataset:local:e7"], proc.stderr
        # the CLI asked the service instead of scanning by itself
        assert (watchd.stats(ck_home) or {}).get("syncs", 0) > before
        os.makedirs(os.path.join(folder, "hand"))
        with open(os.path.join(folder, "hand", "meta.yaml"), "w") as fh:
            fh.write("tags: [svc]\n")
        proc = _ck(ck_home, "find", "dataset", "--tags=svc")
        assert proc.stdout.split() == ["dataset:local:e7", "dataset:local:hand"]
        with open(os.path.join(folder, "hand", "meta.yaml"), "w") as fh:
            fh.write("tags: [svc\n")
        proc = _ck(ck_home, "find", "dataset", "--tags=svc")
        assert proc.stdout.split() == ["dataset:local:e7"]
        assert "cannot parse" in proc.stderr and "hand/meta.yaml" in proc.stderr
    finally:
        assert watchd.stop(ck_home) is True
    assert watchd.request_sync(ck_home, [], None) is None


def test_service_refuses_a_request_for_another_home(home, tmp_path) -> None:
    ck_home = str(home)
    os.makedirs(ck_home)
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.store.watchd", ck_home])
    try:
        _wait_for_service(ck_home)
        other = str(tmp_path / "other-home")
        os.makedirs(other)
        # same socket name can only be reached through address(); send a forged home
        sock = watchd.socket.socket(watchd.socket.AF_UNIX, watchd.socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(watchd.address(ck_home))
        watchd._send(sock, {"op": "sync", "home": other, "repos": [], "automation": None})
        assert watchd._recv(sock)["ok"] is False
        sock.close()
        # a second service for the same home exits at once
        second = subprocess.run([sys.executable, "-m", "cknowledge.store.watchd", ck_home],
                                timeout=30)
        assert second.returncode == 0
    finally:
        watchd.stop(ck_home)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_no_service_below_the_threshold(home) -> None:
    ck_home = str(home)
    _add("a", "x")
    cknowledge.api.reset()
    proc = _ck(ck_home, "find", "dataset", "--tags=x")
    assert proc.returncode == 0
    time.sleep(0.3)
    assert watchd.request_sync(ck_home, [], None) is None
