"""A real ``ck serve --port=0`` process: announce line, token, writes, clean stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from ..conftest import SRC  # noqa: E402

LINE = re.compile(r"^ck serve: http://(?P<host>[0-9.]+):(?P<port>\d+)  token: (?P<token>\S+)\n$")


class Server:
    """One ``ck serve`` subprocess and what it announced."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        # Without PYTHONUNBUFFERED, stdout to a pipe is block-buffered: the test then
        # shows that ck serve flushes its line itself.
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("CK_SERVE_TOKEN", "PYTHONUNBUFFERED")}
        full_env.update(CK_HOME=str(home),
                        PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cknowledge.cli.main", "serve", "--port=0", *args],
            env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()),  # type: ignore[union-attr]
                         daemon=True).start()
        try:
            self.line = lines.get(timeout=30)
        except queue.Empty:
            self.proc.kill()
            pytest.fail("ck serve printed no line within 30 s")
        match = LINE.match(self.line)
        assert match, (self.line, self.stop_and_collect())
        self.host, self.port, self.token = match["host"], int(match["port"]), match["token"]
        self.url = f"http://{self.host}:{self.port}"

    def stop_and_collect(self, sig: int = signal.SIGTERM) -> tuple[int | None, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            return None, out, err
        return self.proc.returncode, out, err


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[type[Server]]:
    started: list[Server] = []

    def start(*args: str, **kw: object) -> Server:
        server = Server(tmp_path / "ckhome", *args, **kw)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def _listening_on_loopback(port: int) -> bool | None:
    """From /proc/net/tcp: True if only 127.0.0.1 listens on ``port`` (None: unknown)."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    listeners = [fields[1] for fields in (line.split() for line in text.splitlines()[1:])
                 if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port]
    return bool(listeners) and all(addr.split(":")[0] == "0100007F" for addr in listeners)


def test_serve_end_to_end(serve: type[Server], tmp_path: Path) -> None:
    server = serve()
    home = tmp_path / "ckhome"
    assert server.host == "127.0.0.1" and server.port > 0
    if (bound := _listening_on_loopback(server.port)) is not None:
        assert bound, "ck serve must listen on 127.0.0.1 only"
    token_file = home / "serve" / "token"
    assert token_file.read_text().strip() == server.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    auth = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        refused = http.post("/api/v1/access", json={"action": "add", "automation": "dataset",
                                                    "artifact": "d1", "tags": "x,y"})
        assert refused.status_code == 401 and refused.json()["return"] == 13
        wrong = http.post("/api/v1/access", headers={"Authorization": "Bearer nope"},
                          json={"action": "add", "automation": "dataset", "artifact": "d1"})
        assert wrong.status_code == 401
        assert not (home / "repos" / "local" / "dataset" / "d1").exists()

        added = http.post("/api/v1/access", headers=auth, json={
            "action": "add", "automation": "dataset", "artifact": "d1", "tags": "x,y"})
        assert added.status_code == 200, added.text
        assert added.json()["return"] == 0 and os.path.isdir(added.json()["path"])

        found = http.post("/api/v1/access", json={"action": "find", "automation": "dataset",
                                                  "tags": "x"})
        assert found.status_code == 200
        assert [e["uid"] for e in found.json()["list"]] == [added.json()["uid"]]
        assert http.get("/api/v1/dataset/d1").json()["uid"] == added.json()["uid"]
        assert http.get("/health").json()["status"] == "ok"

    rc, out, err = server.stop_and_collect(signal.SIGTERM)
    assert rc == 0, err
    assert out == ""  # the announcement was the only line
    assert server.token not in err


def test_sigint_and_token_precedence(serve: type[Server]) -> None:
    server = serve("--token=from-cli", env={"CK_SERVE_TOKEN": "from-env"})
    assert server.token == "from-cli"
    with httpx.Client(base_url=server.url, timeout=30) as http:
        env_token = http.post("/api/v1/access", headers={"Authorization": "Bearer from-env"},
                              json={"action": "add", "automation": "dataset", "artifact": "e"})
        assert env_token.status_code == 401
        cli_token = http.post("/api/v1/access", headers={"Authorization": "Bearer from-cli"},
                              json={"action": "add", "automation": "dataset", "artifact": "e"})
        assert cli_token.status_code == 200
    rc, _, err = server.stop_and_collect(signal.SIGINT)
    assert rc == 0, err


def test_env_token_is_used(serve: type[Server]) -> None:
    server = serve(env={"CK_SERVE_TOKEN": "from-env"})
    assert server.token == "from-env"
    rc, _, err = server.stop_and_collect()
    assert rc == 0, err
