"""The hub client against a real hub server on loopback (uvicorn in a thread).

Publisher and consumer use separate CK homes, as two machines would."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cknowledge
from cknowledge import api

pytest.importorskip("httpx")
pytest.importorskip("cknowledge.hub.app")


class HubServer:
    """A running hub: ``url``, ``db``, ``root``; ``user(name)`` creates a user's token."""

    def __init__(self, db: str, root: str, url: str, server: Any, thread: threading.Thread,
                 sock: socket.socket) -> None:
        self.db, self.root, self.url = db, root, url
        self._server, self._thread, self._sock = server, thread, sock

    def user(self, name: str, admin: bool = False) -> str:
        from cknowledge.hub.admin import add_user

        return add_user(self.db, self.root, name, admin=admin)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


def start_hub(root: Path, max_upload: int | None = None) -> HubServer:
    import uvicorn

    from cknowledge.hub.app import create_app

    db = f"sqlite:///{root / 'hub.sqlite'}"
    kwargs = {} if max_upload is None else {"max_upload": max_upload}
    app = create_app(db, str(root), **kwargs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub server did not start")
        time.sleep(0.02)
    return HubServer(db, str(root), f"http://127.0.0.1:{port}", server, thread, sock)


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[HubServer]:
    server = start_hub(tmp_path / "hubroot")
    yield server
    server.stop()


class Home:
    """One CK home (one machine) for access() calls."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, **request: Any) -> dict[str, Any]:
        request.setdefault("home", str(self.path))
        return cknowledge.access(request)

    def ok(self, **request: Any) -> dict[str, Any]:
        result = self(**request)
        assert result["return"] == 0, result
        return result

    def entry(self, automation: str, name: str, meta: dict[str, Any] | None = None,
              files: dict[str, str] | None = None) -> Path:
        entry = self.ok(action="add", automation=automation, artifact=name, meta=meta or {})
        path = Path(entry["path"])
        for rel, text in (files or {}).items():
            (path / rel).parent.mkdir(parents=True, exist_ok=True)
            (path / rel).write_text(text)
        return path


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Home, Home]]:
    """(publisher, consumer): two CK homes; the hub env variables are cleared."""
    for var in ("CK_HUB_URL", "CK_HUB_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    api.reset()
    yield Home(tmp_path / "pub"), Home(tmp_path / "con")
    api.reset()


@pytest.fixture
def logged_in(hub_server: HubServer, homes: tuple[Home, Home]) -> tuple[Home, Home]:
    pub, con = homes
    pub.ok(action="login", automation="hub", hub=hub_server.url, token=hub_server.user("alice"))
    con.ok(action="login", automation="hub", hub=hub_server.url, token=hub_server.user("bob"))
    return pub, con


# -- login -----------------------------------------------------------------------------------
def test_login_stores_url_and_token_privately(hub_server: HubServer,
                                              homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    token = hub_server.user("alice", admin=True)
    result = pub.ok(action="login", automation="hub", hub=hub_server.url + "/", token=token)
    assert result["user"] == "alice" and result["admin"] is True
    assert result["hub"] == hub_server.url
    assert token not in json.dumps(result)
    path = pub.path / "client" / "hub.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"url": hub_server.url, "token": token}
    who = pub.ok(action="whoami", automation="hub")
    assert (who["user"], who["hub"]) == ("alice", hub_server.url)


def test_wrong_token_is_refused_naming_the_hub(hub_server: HubServer,
                                               homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    hub_server.user("alice")
    result = pub(action="login", automation="hub", hub=hub_server.url, token="not-a-token")
    assert result["return"] == 13
    assert hub_server.url in result["error"] and "not-a-token" not in result["error"]
    assert not (pub.path / "client" / "hub.json").exists()


def test_stored_token_is_not_sent_to_another_hub(hub_server: HubServer, tmp_path: Path,
                                                 homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    pub.ok(action="login", automation="hub", hub=hub_server.url, token=hub_server.user("a"))
    other = start_hub(tmp_path / "other")
    try:
        result = pub(action="whoami", automation="hub", hub=other.url)
        assert result["return"] == 13 and "no token" in result["error"]
        assert other.url in result["error"]
    finally:
        other.stop()


def test_hub_down_is_one_clear_line(homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = pub(action="versions", automation="hub", component="dataset:x", hub=url)
    assert result["return"] == 15
    assert result["error"].startswith(f"cannot reach the hub at {url}: ")
    assert result["error"].endswith("start it with `ck hub serve` or pass --hub")
    assert "\n" not in result["error"]


# -- publish -------------------------------------------------------------------------------
def test_publish_packs_the_entry_without_vcs_or_caches(hub_server: HubServer,
                                                       logged_in: tuple[Home, Home],
                                                       tmp_path: Path) -> None:
    pub, _ = logged_in
    path = pub.entry("dataset", "mnist", {"tags": ["image"], "description": "digits"},
                     {"files/train.csv": "1,2\n", "run.sh": "echo hi\n",
                      ".git/HEAD": "ref", "__pycache__/x.pyc": "x", "sub/.hg/x": "y"})
    os.chmod(path / "run.sh", 0o755)
    os.symlink("/etc/hostname", path / "alink")
    result = pub.ok(action="publish", automation="hub", component="dataset:mnist",
                    version="1.2.0")
    assert result["skipped"] == ["alink"]
    assert len(result["sha256"]) == 64 and result["size"] > 0
    assert result["hub"] == hub_server.url
    # the stored blob is exactly what was packed
    blob = Path(hub_server.root) / "blobs" / result["sha256"][:2] / result["sha256"]
    data = blob.read_bytes()
    assert hashlib.sha256(data).hexdigest() == result["sha256"] and len(data) == result["size"]
    with tarfile.open(blob) as tf:
        names = sorted(m.name for m in tf.getmembers() if m.isfile())
        mode = tf.getmember("run.sh").mode
    assert names == ["files/train.csv", "meta.json", "run.sh"]
    assert mode & 0o111
    # packing is reproducible: the same folder gives the same sha256
    again = pub.ok(action="publish", automation="hub", component="dataset:mnist",
                   version="1.2.1", dry_run=True)
    assert again["sha256"] == result["sha256"]


def test_published_versions_are_immutable_and_owned(hub_server: HubServer,
                                                    logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    pub.entry("dataset", "d")
    pub.ok(action="publish", automation="hub", component="dataset:d", version="1.0")
    again = pub(action="publish", automation="hub", component="dataset:d", version="1.0.0")
    assert again["return"] == 8 and "immutable" in again["error"]
    con.entry("dataset", "d")
    stolen = con(action="publish", automation="hub", component="dataset:d", version="2.0")
    assert stolen["return"] not in (0, 1) and "owner" in stolen["error"]
    assert hub_server.url in stolen["error"]
    bad = pub(action="publish", automation="hub", component="dataset:d", version="one")
    assert bad["return"] == 2 and "PEP 440" in bad["error"]
    pub.ok(action="grant", automation="hub", component="dataset:d", user="bob")
    con.ok(action="publish", automation="hub", component="dataset:d", version="2.0")
    owners = con.ok(action="versions", automation="hub", component="dataset:d")["owners"]
    assert sorted(owners) == ["alice", "bob"]


def test_publish_without_login_says_how_to_log_in(hub_server: HubServer,
                                                  homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    pub.entry("dataset", "d")
    result = pub(action="publish", automation="hub", component="dataset:d", version="1.0",
                 hub=hub_server.url)
    assert result["return"] == 13 and "cb login" in result["error"]


def test_versions_newest_first_with_deps(hub_server: HubServer,
                                         logged_in: tuple[Home, Home]) -> None:
    pub, _ = logged_in
    pub.entry("dataset", "base")
    pub.entry("model", "net", {"hub_deps": [{"component": "dataset:base", "version": ">=1.0"}],
                                "deps": [{"tags": "python", "version": ">=3.8"},
                                         {"tags": "dataset,base", "component": "dataset:base",
                                          "version": "<3"}]})
    for v in ("1.0", "2.0", "1.10"):
        pub.ok(action="publish", automation="hub", component="dataset:base", version=v)
    pub.ok(action="publish", automation="hub", component="model:net", version="0.1")
    got = pub.ok(action="versions", automation="hub", component="dataset:base")
    assert [v["version"] for v in got["versions"]] == ["2.0", "1.10", "1.0"]
    assert got["owners"] == ["alice"]
    lines = got["text"].splitlines()
    assert lines[1].split()[0] == "VERSION"
    assert [ln.split()[0] for ln in lines[2:]] == ["2.0", "1.10", "1.0"]
    net = pub.ok(action="versions", automation="hub", component="model:net")
    assert net["versions"][0]["deps"] == [{"component": "dataset:base", "range": ">=1.0,<3"}]
    missing = pub(action="versions", automation="hub", component="dataset:nope")
    assert missing["return"] == 16


# -- download ------------------------------------------------------------------------------
def _publish_chain(pub: Home) -> None:
    """dataset:base 1.0, 1.5, 2.0; model:net 1.0 (base >=1.0,<2), 1.1 (base >=1.5,<2);
    solution:app 1.0 (net >=1.0)."""
    pub.entry("dataset", "base", files={"data.txt": "v1"})
    for v in ("1.0", "1.5", "2.0"):
        (pub.path / "repos/local/dataset/base/data.txt").write_text(f"base {v}")
        pub.ok(action="publish", automation="hub", component="dataset:base", version=v)
    net = pub.entry("model", "net", {"hub_deps": [{"component": "dataset:base",
                                                   "version": ">=1.0,<2"}]},
                    {"run.sh": "#!/bin/sh\necho net\n"})
    os.chmod(net / "run.sh", 0o755)
    pub.ok(action="publish", automation="hub", component="model:net", version="1.0")
    pub.ok(action="update", automation="model", artifact="net",
           meta={"hub_deps": [{"component": "dataset:base", "version": ">=1.5,<2"}]})
    pub.ok(action="publish", automation="hub", component="model:net", version="1.1")
    pub.entry("solution", "app", {"hub_deps": [{"component": "model:net", "version": ">=1.0"}]})
    pub.ok(action="publish", automation="hub", component="solution:app", version="1.0")


def test_download_resolves_deps_and_verifies(hub_server: HubServer,
                                             logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    _publish_chain(pub)
    result = con.ok(action="download", automation="hub", component="solution:app")
    got = {f"{r['automation']}:{r['name']}": r["version"] for r in result["list"]}
    assert got == {"solution:app": "1.0", "model:net": "1.1", "dataset:base": "1.5"}
    assert all(r["status"] == "downloaded" for r in result["list"])
    base = con.ok(action="load", automation="dataset", artifact="base")
    assert Path(base["path"], "data.txt").read_text() == "base 1.5"
    assert base["meta"]["hub"]["version"] == "1.5"
    assert base["meta"]["hub"]["url"] == hub_server.url
    net = con.ok(action="load", automation="model", artifact="net")
    assert os.stat(Path(net["path"], "run.sh")).st_mode & 0o111
    assert con.ok(action="find", automation="dataset")["list"][0]["repo"] == "local"


def test_download_version_range_and_existing_entries(hub_server: HubServer,
                                                     logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    _publish_chain(pub)
    first = con.ok(action="download", automation="hub", component="model:net",
                   version="<1.1")
    assert [(r["name"], r["version"]) for r in first["list"]] == [("net", "1.0"), ("base", "1.5")]
    again = con(action="download", automation="hub", component="model:net")
    assert again["return"] == 8 and "--force" in again["error"]
    forced = con.ok(action="download", automation="hub", component="model:net", force=True)
    assert [(r["name"], r["version"]) for r in forced["list"]] == [("net", "1.1"), ("base", "1.5")]
    # a dependency already there at the chosen version is kept, not downloaded again
    con.ok(action="rm", automation="model", artifact="net")
    kept = con.ok(action="download", automation="hub", component="model:net")
    assert [r["status"] for r in kept["list"]] == ["downloaded", "kept"]


def test_download_unsatisfiable_names_who_needs_what(hub_server: HubServer,
                                                     logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    _publish_chain(pub)
    pub.entry("solution", "bad", {"hub_deps": [{"component": "model:net", "version": ">=1.0"},
                                               {"component": "dataset:base",
                                                "version": ">=2.0"}]})
    pub.ok(action="publish", automation="hub", component="solution:bad", version="1.0")
    result = con(action="download", automation="hub", component="solution:bad")
    assert result["return"] == 18
    assert "dataset:base" in result["error"] and ">=2.0" in result["error"]
    assert "solution:bad 1.0" in result["error"] and "model:net" in result["error"]
    assert con.ok(action="find", automation="solution")["list"] == []
    none = con(action="download", automation="hub", component="dataset:base", version=">=3")
    assert none["return"] == 18 and "1.0, 1.5, 2.0" in none["error"].replace("2.0, 1.5, 1.0",
                                                                             "1.0, 1.5, 2.0")


def test_download_into_named_repo(hub_server: HubServer, logged_in: tuple[Home, Home],
                                  tmp_path: Path) -> None:
    pub, con = logged_in
    pub.entry("dataset", "d", files={"x": "1"})
    pub.ok(action="publish", automation="hub", component="dataset:d", version="0.1")
    con.ok(action="add", automation="repo", artifact="team", path=str(tmp_path / "team"))
    result = con.ok(action="download", automation="hub", component="dataset:d", repo="team")
    assert result["list"][0]["repo"] == "team"
    assert Path(tmp_path / "team" / "dataset" / "d" / "x").read_text() == "1"


def test_corrupted_blob_fails_the_checksum(hub_server: HubServer,
                                           logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    pub.entry("dataset", "d", files={"x": "1"})
    sha = pub.ok(action="publish", automation="hub", component="dataset:d",
                 version="1.0")["sha256"]
    blob = Path(hub_server.root) / "blobs" / sha[:2] / sha
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    result = con(action="download", automation="hub", component="dataset:d")
    assert result["return"] == 17 and sha in result["error"]
    assert con.ok(action="find", automation="dataset")["list"] == []
    assert not [p for p in (con.path / "client").iterdir() if p.name.startswith(".tmp-")]


def test_search_lists_published_components(hub_server: HubServer,
                                           logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    pub.entry("dataset", "coco", {"tags": ["images"], "description": "common objects"})
    pub.ok(action="publish", automation="hub", component="dataset:coco", version="2017.1")
    found = con.ok(action="search", automation="hub", q="coco")
    assert [(i["automation"], i["name"], i["latest"]) for i in found["items"]] == \
        [("dataset", "coco", "2017.1")]
    assert "dataset:coco" in found["text"]


# -- results -------------------------------------------------------------------------------
def _submission(qps: float) -> dict[str, Any]:
    return {"solution": {"name": "mlperf-od", "version": "1.0"},
            "components": [{"component": "model:ssd", "version": "1.0"}],
            "config": {"scenario": "Offline", "backend": "onnxruntime", "count": 64},
            "metrics": {"qps": qps, "latency_p90_ms": 12.5, "map": 0.31},
            "platform": {"fingerprint": "0123456789abcdef",
                         "facts": {"os": "linux", "arch": "x86_64", "cpu": "test"}},
            "reference": False}


def test_submit_result_and_dedup(hub_server: HubServer, homes: tuple[Home, Home],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from cknowledge.client import submit_result
    from cknowledge.errors import AuthError

    pub, _ = homes
    monkeypatch.setenv("CK_HUB_TOKEN", hub_server.user("carol"))
    first = submit_result("mlperf-object-detection", _submission(101.5), hub=hub_server.url,
                          home=str(pub.path))
    assert first["duplicate"] is False and first["url"].endswith(f"/results/{first['id']}")
    second = submit_result("mlperf-object-detection", _submission(101.5), hub=hub_server.url,
                           home=str(pub.path))
    assert second == {**first, "duplicate": True, "text": second["text"]}
    other = pub.ok(action="submit", automation="hub", scoreboard="mlperf-object-detection",
                   submission=_submission(99.0), hub=hub_server.url)
    assert other["id"] != first["id"]
    bad = _submission(1.0)
    del bad["metrics"]["qps"]
    refused = pub(action="submit", automation="hub", scoreboard="mlperf-object-detection",
                  submission=bad, hub=hub_server.url)
    assert refused["return"] == 2 and "metrics.qps" in refused["error"]
    monkeypatch.setenv("CK_HUB_TOKEN", "wrong")
    with pytest.raises(AuthError):
        submit_result("mlperf-object-detection", _submission(5.0), hub=hub_server.url,
                      home=str(pub.path))


def test_submit_retries_connection_errors_until_the_hub_is_up(tmp_path: Path,
                                                              homes: tuple[Home, Home],
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """The hub starts while the client is retrying; the submission gets through."""
    import uvicorn

    from cknowledge.client import submit_result
    from cknowledge.hub.admin import add_user
    from cknowledge.hub.app import create_app

    pub, _ = homes
    root = tmp_path / "late"
    db = f"sqlite:///{root / 'hub.sqlite'}"
    app = create_app(db, str(root))
    monkeypatch.setenv("CK_HUB_TOKEN", add_user(db, str(root), "dave"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: (time.sleep(0.6), server.run()), daemon=True)
    thread.start()
    try:
        result = submit_result("mlperf-object-detection", _submission(7.0),
                               hub=f"http://127.0.0.1:{port}", home=str(pub.path), retries=5)
        assert result["duplicate"] is False
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with pytest.raises(cknowledge.errors.DownloadError):
        submit_result("mlperf-object-detection", _submission(7.0),
                      hub=f"http://127.0.0.1:{port}", home=str(pub.path), retries=0)
