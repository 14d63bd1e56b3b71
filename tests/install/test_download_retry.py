"""Downloads retry transient failures with backoff; progress: a few lines in a log, a
live bar (size, rate, ETA) on a terminal."""

from __future__ import annotations

import io
import os
import sys

import pytest

from cknowledge.errors import DownloadError
from cknowledge.install import download, install, progress
from tests.install.conftest import file_url, sha

PAYLOAD = os.urandom(3_500_000)  # several chunks of 1 MiB


def spec(url: str, digest: str, **kw) -> dict:
    return {"method": "download", "url": url, "sha256": digest, **kw}


@pytest.mark.parametrize("status", [503, 429, 502])
def test_transient_http_errors_are_retried(tmp_path, server, status) -> None:
    server.files["f.bin"] = b"data"
    server.fail_first, server.fail_status = 2, status
    notes: list[str] = []
    install(spec(server.url("f.bin"), sha(b"data")), str(tmp_path),
            progress=lambda label, done, total: notes.append(label) if total is None else None)
    assert (tmp_path / "f.bin").read_bytes() == b"data"
    assert [r["status"] for r in server.requests] == [status, status, 200]
    assert sum(f"HTTP {status}; retry" in n for n in notes) == 2


def test_retry_after_is_honoured_up_to_the_cap(tmp_path, server, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    server.files["f.bin"] = b"data"
    server.fail_first, server.retry_after = 1, "7"
    install(spec(server.url("f.bin"), sha(b"data")), str(tmp_path))
    assert waits == [download.MAX_WAIT_S]  # 7 s asked, the (test's) cap applies
    monkeypatch.setattr(download, "MAX_WAIT_S", 60.0)
    server.requests.clear()
    server.fail_first = 1
    (tmp_path / "again").mkdir()
    install(spec(server.url("f.bin"), sha(b"data")), str(tmp_path / "again"))
    assert waits[-1] == 7.0


def test_backoff_doubles_and_gives_up_with_the_count(tmp_path, server, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(download.time, "sleep", waits.append)
    monkeypatch.setattr(download, "MAX_WAIT_S", 60.0)
    server.files["f.bin"] = b"data"
    server.fail_first = 100
    with pytest.raises(DownloadError) as exc:
        install(spec(server.url("f.bin"), sha(b"data")), str(tmp_path))
    assert waits == [0.01, 0.02, 0.04]  # BACKOFF_S (the test's), doubled each time
    assert "HTTP 503" in exc.value.message and "gave up after 4 attempts" in exc.value.message
    assert exc.value.code == 15 and len(server.requests) == 4


def test_permanent_errors_are_not_retried(tmp_path, server) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        install(spec(server.url("missing.bin"), "a" * 64), str(tmp_path))
    assert len(server.requests) == 1


def test_retries_from_the_environment(tmp_path, server, monkeypatch) -> None:
    server.files["f.bin"] = b"data"
    server.fail_first = 5
    monkeypatch.setenv("CK_DOWNLOAD_RETRIES", "0")
    with pytest.raises(DownloadError, match="gave up after 1 attempt\\)"):
        install(spec(server.url("f.bin"), sha(b"data")), str(tmp_path))
    monkeypatch.setenv("CK_DOWNLOAD_RETRIES", "many")
    from cknowledge.errors import InvalidInput

    with pytest.raises(InvalidInput, match="CK_DOWNLOAD_RETRIES"):
        install(spec(server.url("f.bin"), sha(b"data")), str(tmp_path))


def test_an_interrupted_transfer_resumes_within_the_same_install(tmp_path, server) -> None:
    server.files["big.bin"] = PAYLOAD
    server.mode, server.cut = "truncate", 1_000_000
    target = tmp_path / "t"
    target.mkdir()

    original = download._http
    calls = []

    def heal(url, part, name, report):  # the connection drops once, then the server is fine
        calls.append(os.path.getsize(part) if os.path.exists(part) else 0)
        if len(calls) == 2:
            server.mode = "ok"
        return original(url, part, name, report)

    download._http, saved = heal, download._http
    try:
        install(spec(server.url("big.bin"), sha(PAYLOAD)), str(target))
    finally:
        download._http = saved
    assert (target / "big.bin").read_bytes() == PAYLOAD
    assert calls == [0, 1_000_000]
    assert server.requests[-1]["range"] == "bytes=1000000-"


def test_a_log_gets_a_few_lines_not_one_per_mib(tmp_path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(PAYLOAD * 3)  # ~10 MiB: ten chunks
    seen: list[tuple] = []
    target = tmp_path / "t"
    target.mkdir()
    install(spec(file_url(src), sha(PAYLOAD * 3)), str(target),
            progress=lambda *a: seen.append(a))
    size = len(PAYLOAD) * 3
    assert seen[0] == ("big.bin", 0, size) and seen[-1] == ("big.bin", size, size)
    assert len(seen) <= 6  # start, each quarter, end


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_terminal_shows_a_rich_bar_with_size_rate_eta(tmp_path, monkeypatch) -> None:
    pytest.importorskip("rich")
    src = tmp_path / "blob.bin"
    src.write_bytes(PAYLOAD)
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    lines: list[tuple] = []
    (tmp_path / "t").mkdir()
    token = progress.LIVE.set(True)
    try:
        install(spec(file_url(src), sha(PAYLOAD)), str(tmp_path / "t"),
                progress=lambda *a: lines.append(a))
    finally:
        progress.LIVE.reset(token)
    shown = fake.getvalue()
    assert "blob.bin" in shown and "MB" in shown  # rich's DownloadColumn: done/total
    assert lines == []  # the bar replaces the caller's lines


def test_eta_text() -> None:
    assert progress.eta(0, 100, 10.0) == "ETA 0:10"
    assert progress.eta(0, 10 * 3600, 1.0) == "ETA 10:00:00"
    assert progress.eta(5, None, 1.0) == "" and progress.eta(100, 100, 1.0) == ""
