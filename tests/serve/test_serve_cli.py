"""``ck serve`` options, token file and socket helpers, and a light CLI start-up."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cknowledge.serve.cli import (DEFAULT_HOST, DEFAULT_PORT, bind, resolve_options,
                                  serve_main, url_of, write_token)

from ..conftest import SRC


def test_defaults_and_random_token() -> None:
    first = resolve_options({"action": "serve"}, env={})
    second = resolve_options({"action": "serve"}, env={})
    assert (first.host, first.port) == (DEFAULT_HOST, DEFAULT_PORT) == ("127.0.0.1", 8000)
    assert len(first.token) >= 32 and first.token != second.token


def test_token_precedence() -> None:
    env = {"CK_SERVE_TOKEN": "from-env"}
    assert resolve_options({"action": "serve"}, env=env).token == "from-env"
    assert resolve_options({"action": "serve", "token": "cli"}, env=env).token == "cli"
    opts = resolve_options({"action": "serve", "host": "0.0.0.0", "port": "0"}, env={})
    assert (opts.host, opts.port) == ("0.0.0.0", 0)


@pytest.mark.parametrize("request_", [
    {"port": "abc"}, {"port": "70000"}, {"port": "-1"}, {"port": True}, {"token": ""},
    {"host": True}, {"bogus": "1"},
])
def test_bad_options(request_: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError):
        resolve_options({"action": "serve", **request_}, env={})
    assert serve_main({"action": "serve", **request_}) == 2
    err = capsys.readouterr().err
    assert err.startswith("ck: error: ") and err.count("\n") == 1


def test_write_token_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "serve"
    folder.mkdir()
    (folder / "token").write_text("old")
    os.chmod(folder / "token", 0o644)
    path = write_token(str(tmp_path), "secret")
    assert path == str(folder / "token")
    assert Path(path).read_text() == "secret\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(folder) == ["token"]


def test_bind_picks_a_port() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        host, port = sock.getsockname()[:2]
        assert host == "127.0.0.1" and port > 0
        assert url_of(sock) == f"http://127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # listening already: the handshake completes before anyone accepts
    finally:
        sock.close()


def test_port_in_use_fails_cleanly(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        assert serve_main({"action": "serve", "port": str(port)}) == 1
    finally:
        taken.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"ck: error: cannot listen on 127.0.0.1:{port}")
    assert not (home / "serve" / "token").exists()


def test_version_does_not_import_the_web_stack(tmp_path: Path) -> None:
    env = dict(os.environ, CK_HOME=str(tmp_path),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "cknowledge.cli.main",
                           "--version"], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and proc.stdout.startswith("cknowledge ")
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "cknowledge" in imported  # the import trace was read
    assert not imported & {"fastapi", "uvicorn", "starlette", "httpx", "pydantic"}


def test_serve_package_imports_lazily(tmp_path: Path) -> None:
    code = ("import sys, cknowledge.serve, cknowledge.serve.cli, cknowledge.serve.policy; "
            "print(sorted(m for m in ('fastapi', 'uvicorn') if m in sys.modules))")
    env = dict(os.environ, CK_HOME=str(tmp_path),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
