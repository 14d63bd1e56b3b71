"""Fixtures for the install tests: a real local HTTP server, archives, sha256."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_url(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


class Server:
    """Files served from memory; ``mode`` is "ok" (honours Range), "norange" (ignores
    it) or "truncate" (declares the full Content-Length, sends ``cut`` bytes, closes).
    The first ``fail_first`` requests are answered with ``fail_status`` (and
    ``retry_after``, when set, as their Retry-After header)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.mode = "ok"
        self.cut = 0
        self.fail_first = 0
        self.fail_status = 503
        self.retry_after: str | None = None
        self.requests: list[dict[str, Any]] = []
        self.httpd: ThreadingHTTPServer | None = None

    def url(self, name: str) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            rng = self.headers.get("Range")
            record: dict[str, Any] = {"path": name, "range": rng, "status": None, "sent": 0}
            server.requests.append(record)
            if len(server.requests) <= server.fail_first:
                record["status"] = server.fail_status
                self.send_response(server.fail_status)
                if server.retry_after is not None:
                    self.send_header("Retry-After", server.retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.close_connection = True
                return
            data = server.files.get(name)
            if data is None:
                record["status"] = 404
                self.send_error(404, "Not Found")
                return
            start, status = 0, 200
            if rng and server.mode == "ok":
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    record["status"] = 416
                    self.send_error(416, "Range Not Satisfiable")
                    return
                status = 206
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if server.mode == "truncate":
                body = body[:server.cut]
            self.wfile.write(body)
            self.wfile.flush()
            record["status"], record["sent"] = status, len(body)
            self.close_connection = True

    return Handler


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Transient download failures are retried without the real pauses."""
    from cknowledge.install import download

    monkeypatch.setattr(download, "BACKOFF_S", 0.01)
    monkeypatch.setattr(download, "MAX_WAIT_S", 0.05)
    monkeypatch.delenv("CK_DOWNLOAD_RETRIES", raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(srv))
    httpd.daemon_threads = True
    srv.httpd = httpd
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def make_tar(path: str | Path, members: list[tuple[str, Any]], mode: str = "w:gz") -> bytes:
    """Write a tar: ``(name, bytes)`` files, ``(name, None)`` folders, ``(name, ("sym",
    target))``, ``(name, ("hard", target))``, ``(name, ("chr", 0))``; return its bytes."""
    with tarfile.open(str(path), mode) as tf:  # type: ignore[call-overload]
        for name, content in members:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            elif isinstance(content, tuple):
                kind, target = content
                info.type = {"sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                             "chr": tarfile.CHRTYPE}[kind]
                if kind != "chr":
                    info.linkname = target
                tf.addfile(info)
            else:
                info.size, info.mode = len(content), 0o755 if name.endswith(".sh") else 0o644
                tf.addfile(info, io.BytesIO(content))
    return Path(path).read_bytes()


def make_zip(path: str | Path, members: list[tuple[str, Any]]) -> bytes:
    """A zip of ``(name, bytes)`` files and ``(name, ("sym", target))`` symlinks."""
    with zipfile.ZipFile(str(path), "w") as zf:
        for name, content in members:
            if isinstance(content, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o120777 << 16)
                zf.writestr(info, content[1])
            else:
                zf.writestr(name, content)
    return Path(path).read_bytes()


def listing(root: str | Path) -> list[str]:
    """Every path under ``root``, relative, sorted (folders end with /)."""
    out = []
    for dirpath, dirs, files in os.walk(str(root)):
        rel = os.path.relpath(dirpath, str(root))
        for d in dirs:
            out.append(os.path.normpath(os.path.join(rel, d)) + "/")
        for f in files:
            out.append(os.path.normpath(os.path.join(rel, f)))
    return sorted(out)
