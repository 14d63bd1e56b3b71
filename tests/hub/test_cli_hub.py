"""``cb login|publish|versions|download`` and ``ck hub serve|user add`` as processes,
against a real hub on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SRC

from .test_client import HubServer, start_hub

pytest.importorskip("httpx")


def run(prog: str, home: Path, *args: str, stdin: str | None = None,
        env: dict[str, str] | None = None) -> tuple[int, str, str]:
    entry = {"ck": "main", "cb": "cb_main"}[prog]
    full = dict(os.environ, CK_HOME=str(home),
                PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for var in ("CK_HUB_URL", "CK_HUB_TOKEN"):
        full.pop(var, None)
    full.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c",
         f"import sys; from cknowledge.cli.main import {entry}; sys.exit({entry}())", *args],
        env=full, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[HubServer]:
    server = start_hub(tmp_path / "hubroot")
    yield server
    server.stop()


def _entry(home: Path, automation: str, name: str, meta: dict[str, object]) -> Path:
    path = home / "repos" / "local" / automation / name
    rc, _, err = run("ck", home, "add", f"{automation}:{name}", "--json")
    assert rc == 0, err
    rc, _, err = run("ck", home, "update", f"{automation}:{name}",
                       f"--meta={json.dumps(meta)}")
    assert rc == 0, err
    return path


def test_user_add_login_publish_versions_download(hub_server: HubServer,
                                                  tmp_path: Path) -> None:
    pub, con = tmp_path / "pub", tmp_path / "con"
    # the admin creates users on the server side; the token is printed once
    rc, out, err = run("ck", pub, "hub", "user", "add", "alice", f"--db={hub_server.db}",
                       f"--root={hub_server.root}")
    assert rc == 0, err
    token = next(line.split(": ", 1)[1] for line in out.splitlines()
                 if line.startswith("token: "))
    rc, out, err = run("cb", pub, "login", "--hub", hub_server.url, "--token", token)
    assert rc == 0, err
    assert "alice" in out and token not in out + err
    rc, out, err = run("ck", con, "hub", "user", "add", "bob", "--json",
                       f"--db={hub_server.db}", f"--root={hub_server.root}")
    bob = json.loads(out)["token"]
    rc, out, err = run("cb", con, "login", f"--hub={hub_server.url}", "--token=-",
                       stdin=bob + "\n")
    assert rc == 0 and bob not in out + err, err

    path = _entry(pub, "dataset", "digits", {"tags": ["images"]})
    (path / "data.csv").write_text("1,2,3\n")
    for version in ("1.0.0", "1.2.0", "1.1.0"):
        rc, out, err = run("cb", pub, "publish", "dataset:digits", f"--version={version}")
        assert rc == 0, err
        assert f"published dataset:digits {version} to {hub_server.url}" in out
        assert "sha256 " in out and "size " in out
    rc, out, err = run("cb", con, "versions", "dataset:digits")
    assert rc == 0, err
    rows = [line.split()[0] for line in out.splitlines()[2:]]
    assert rows == ["1.2.0", "1.1.0", "1.0.0"]
    assert "alice" in out

    rc, out, err = run("cb", con, "download", "dataset:digits", "--version", "<1.2")
    assert rc == 0, err
    assert "downloaded dataset:local:digits 1.1.0" in out
    assert (con / "repos/local/dataset/digits/data.csv").read_text() == "1,2,3\n"
    rc, out, err = run("cb", con, "download", "dataset:digits")
    assert rc == 8 and err.startswith("cb: error: ") and "--force" in err
    rc, out, err = run("cb", con, "download", "dataset:digits", "--force", "--json")
    assert rc == 0, err
    assert json.loads(out)["version"] == "1.2.0"
    rc, out, err = run("cb", con, "download", "dataset:digits", "--version=>=9", "--force")
    assert rc == 18 and "dataset:digits" in err and ">=9" in err


def test_publish_refused_without_the_right_token(hub_server: HubServer,
                                                 tmp_path: Path) -> None:
    home = tmp_path / "h"
    _entry(home, "model", "m", {})
    rc, out, err = run("cb", home, "login", f"--hub={hub_server.url}", "--token=bogus")
    assert rc == 13 and hub_server.url in err and "bogus" not in err
    rc, out, err = run("cb", home, "publish", "model:m", "--version=1.0",
                       env={"CK_HUB_URL": hub_server.url, "CK_HUB_TOKEN": "bogus"})
    assert rc == 13 and hub_server.url in err and out == ""
    assert len(err.strip().splitlines()) == 1


def test_hub_down_prints_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    rc, out, err = run("cb", tmp_path / "h", "versions", "dataset:x", f"--hub={url}")
    assert rc == 15 and out == ""
    assert err.startswith(f"cb: error: cannot reach the hub at {url}: ")
    assert err.rstrip().endswith("start it with `ck hub serve` or pass --hub")
    assert len(err.strip().splitlines()) == 1


def test_hub_serve_runs_until_stopped(tmp_path: Path) -> None:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / "h"
    env = dict(os.environ, CK_HOME=str(home),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "hub", "serve",
                             f"--port={port}"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/v1/scoreboards", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "ck hub serve did not come up"
            time.sleep(0.2)
        # the default database and root are under $CK_HOME/hub
        assert (home / "hub" / "hub.sqlite").is_file()
        rc, out, err = run("ck", home, "hub", "user", "add", "eve", "--admin")
        assert rc == 0, err
        token = next(line.split(": ", 1)[1] for line in out.splitlines()
                     if line.startswith("token: "))
        rc, out, err = run("cb", home, "login", f"--hub={url}", f"--token={token}", "--json")
        assert rc == 0, err
        assert json.loads(out)["admin"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_hub_cli_usage_errors(tmp_path: Path) -> None:
    home = tmp_path / "h"
    rc, out, err = run("ck", home, "hub", "user", "remove", "x")
    assert rc == 2 and "ck hub user add NAME" in err
    rc, out, err = run("cb", home, "publish", "dataset:a", "dataset:b", "--version=1")
    assert rc == 2 and "one component" in err
    rc, out, err = run("ck", home, "hub", "serve", "--bogus=1")
    assert rc == 2 and "--db" in err
    rc, out, err = run("cb", home, "publish", "--help")
    assert rc == 0 and "--component" in out and "--version" in out


def test_version_stays_light(tmp_path: Path) -> None:
    code = ("import sys; from cknowledge.cli.main import main; main(['--version']); "
            "print(sorted(m for m in sys.modules if m.startswith(('httpx', 'cknowledge.client',"
            " 'cknowledge.hub', 'cknowledge.automations'))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=SRC), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
