"""Downloads: file:// and a real local HTTP server, checksums, resume, the mirror."""

from __future__ import annotations

import io
import os
import socket
import stat
import sys

import pytest

from cknowledge.errors import ChecksumError, DownloadError, InvalidInput
from cknowledge.install import install
from cknowledge.install.download import mirror_dirs
from tests.install.conftest import file_url, make_tar, sha

PAYLOAD = os.urandom(300_000)


def tarball(tmp_path) -> bytes:
    return make_tar(tmp_path / "pkg-1.0.tar.gz", [
        ("pkg-1.0", None),
        ("pkg-1.0/README", b"hello\n"),
        ("pkg-1.0/bin/tool.sh", b"#!/bin/sh\necho tool\n"),
        ("pkg-1.0/lib/libz.so.1", b"ELF"),
        ("pkg-1.0/lib/libz.so", ("sym", "libz.so.1")),
    ])


def spec(url: str, digest: str, **kw) -> dict:
    return {"method": "download", "url": url, "sha256": digest, **kw}


def test_http_download_unpacks_and_strips(tmp_path, server) -> None:
    data = tarball(tmp_path)
    server.files["pkg-1.0.tar.gz"] = data
    target = tmp_path / "t"
    target.mkdir()
    seen = []
    res = install(spec(server.url("pkg-1.0.tar.gz"), sha(data), strip_components=1,
                       version="1.0", env={"CK_PKG_DIR": "{install_dir}"}),
                  str(target), progress=lambda *a: seen.append(a))
    assert sorted(os.listdir(target)) == ["README", "bin", "lib"]  # no .download left
    assert (target / "README").read_bytes() == b"hello\n"
    assert os.stat(target / "bin" / "tool.sh").st_mode & stat.S_IXUSR
    assert os.readlink(target / "lib" / "libz.so") == "libz.so.1"
    assert res["version"] == "1.0" and res["source"] == server.url("pkg-1.0.tar.gz")
    assert res["env"] == {"CK_PKG_DIR": str(target)} and res["paths"] == [str(target)]
    assert seen[-1] == ("pkg-1.0.tar.gz", len(data), len(data))
    assert [r["range"] for r in server.requests] == [None]


def test_file_url_without_unpack_places_the_file(tmp_path) -> None:
    src = tmp_path / "model.pb"
    src.write_bytes(PAYLOAD)
    target = tmp_path / "t"
    target.mkdir()
    res = install(spec(file_url(src), sha(PAYLOAD), subdir="models"), str(target))
    assert res["file"] == str(target / "models" / "model.pb")
    assert (target / "models" / "model.pb").read_bytes() == PAYLOAD
    assert sorted(os.listdir(target)) == ["models"]


def test_keep_archive_and_explicit_format(tmp_path) -> None:
    data = tarball(tmp_path)
    src = tmp_path / "download"   # no suffix: the format is named
    src.write_bytes(data)
    target = tmp_path / "t"
    target.mkdir()
    res = install(spec(file_url(src), sha(data), unpack="tar.gz", keep_archive=True),
                  str(target))
    assert (target / "pkg-1.0" / "README").is_file()
    assert res["archive"] == str(target / ".download" / "download")
    assert (target / ".download" / "download").read_bytes() == data


def test_wrong_sha256_raises_and_leaves_nothing(tmp_path, server) -> None:
    data = tarball(tmp_path)
    server.files["pkg-1.0.tar.gz"] = data
    target = tmp_path / "t"
    target.mkdir()
    wrong = "0" * 64
    url = server.url("pkg-1.0.tar.gz")
    with pytest.raises(ChecksumError) as exc:
        install(spec(url, wrong), str(target))
    assert url in exc.value.message and wrong in exc.value.message
    assert sha(data) in exc.value.message
    assert exc.value.code == 17
    left = os.listdir(target)
    assert left in ([], [".download"])
    if left:
        assert os.listdir(target / ".download") == []


def test_sha256_is_required_and_checked_before_any_request(tmp_path, server) -> None:
    server.files["x.bin"] = b"x"
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(InvalidInput, match="sha256"):
        install({"method": "download", "url": server.url("x.bin")}, str(target))
    with pytest.raises(InvalidInput, match="64 hexadecimal"):
        install(spec(server.url("x.bin"), "abc"), str(target))
    assert server.requests == [] and os.listdir(target) == []
    res = install(spec(server.url("x.bin"), "sha256:" + sha(b"x").upper()), str(target))
    assert (target / "x.bin").read_bytes() == b"x" and res["file"].endswith("x.bin")


def test_interrupted_download_then_resume_with_range(tmp_path, server) -> None:
    server.files["big.bin"] = PAYLOAD
    server.mode, server.cut = "truncate", 100_000
    target = tmp_path / "t"
    target.mkdir()
    url = server.url("big.bin")
    with pytest.raises(DownloadError) as exc:
        install(spec(url, sha(PAYLOAD)), str(target))
    assert exc.value.code == 15
    assert url in exc.value.message and "interrupted" in exc.value.message
    assert "file://" in exc.value.message  # says what to do
    part = target / ".download" / "big.bin.part"
    assert part.read_bytes() == PAYLOAD[:100_000]
    assert os.listdir(target) == [".download"]

    server.mode = "ok"
    install(spec(url, sha(PAYLOAD)), str(target))
    assert (target / "big.bin").read_bytes() == PAYLOAD
    last = server.requests[-1]
    assert last["range"] == "bytes=100000-" and last["status"] == 206
    assert last["sent"] == len(PAYLOAD) - 100_000
    assert not (target / ".download").exists()


def test_resume_against_a_server_without_range_starts_over(tmp_path, server) -> None:
    server.files["big.bin"] = PAYLOAD
    target = tmp_path / "t"
    (target / ".download").mkdir(parents=True)
    (target / ".download" / "big.bin.part").write_bytes(b"garbage" * 100)
    server.mode = "norange"
    install(spec(server.url("big.bin"), sha(PAYLOAD)), str(target))
    assert (target / "big.bin").read_bytes() == PAYLOAD
    assert server.requests[-1]["range"] == "bytes=700-"
    assert server.requests[-1]["status"] == 200


def test_file_url_resumes_from_the_part(tmp_path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(PAYLOAD)
    target = tmp_path / "t"
    (target / ".download").mkdir(parents=True)
    part = target / ".download" / "big.bin.part"
    part.write_bytes(PAYLOAD[:1000])
    seen: list[tuple] = []
    install(spec(file_url(src), sha(PAYLOAD)), str(target), progress=lambda *a: seen.append(a))
    assert (target / "big.bin").read_bytes() == PAYLOAD
    assert seen[0] == ("big.bin", 1000, len(PAYLOAD))  # continued from the .part
    assert all(done >= 1000 for _, done, _ in seen)


def test_a_stale_part_is_discarded_and_the_download_restarted(tmp_path, server) -> None:
    server.files["big.bin"] = PAYLOAD
    target = tmp_path / "t"
    (target / ".download").mkdir(parents=True)
    (target / ".download" / "big.bin.part").write_bytes(b"\0" * 1000)  # not this file's bytes
    install(spec(server.url("big.bin"), sha(PAYLOAD)), str(target))
    assert (target / "big.bin").read_bytes() == PAYLOAD
    assert [(r["range"], r["status"]) for r in server.requests] == [("bytes=1000-", 206),
                                                                    (None, 200)]


def test_http_errors_are_download_errors(tmp_path, server) -> None:
    target = tmp_path / "t"
    target.mkdir()
    url = server.url("missing.tar.gz")
    with pytest.raises(DownloadError, match="HTTP 404") as exc:
        install(spec(url, "a" * 64), str(target))
    assert url in exc.value.message and "CK_DOWNLOAD_MIRROR" in exc.value.message
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}"):
        install(spec(f"http://127.0.0.1:{port}/x.tar.gz", "a" * 64), str(target))
    with pytest.raises(DownloadError, match="nothing-here"):
        install(spec(file_url(tmp_path / "nothing-here.zip"), "a" * 64), str(target))
    with pytest.raises(InvalidInput, match="ftp://"):
        install(spec("ftp://example.org/x.zip", "a" * 64), str(target))
    assert os.listdir(target) == []


def test_mirror_by_basename_and_by_sha256(tmp_path, monkeypatch) -> None:
    data = tarball(tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "pkg-1.0.tar.gz").write_bytes(data)
    unreachable = "http://127.0.0.1:9/dist/pkg-1.0.tar.gz"
    monkeypatch.setenv("CK_DOWNLOAD_MIRROR", str(mirror))
    target = tmp_path / "t1"
    target.mkdir()
    res = install(spec(unreachable, sha(data)), str(target))
    assert res["source"] == str(mirror / "pkg-1.0.tar.gz")
    assert (target / "pkg-1.0" / "README").read_bytes() == b"hello\n"

    (mirror / "pkg-1.0.tar.gz").rename(mirror / sha(data))
    monkeypatch.setenv("CK_DOWNLOAD_MIRROR", os.pathsep.join(
        [str(tmp_path / "absent"), mirror.as_uri()]))
    target = tmp_path / "t2"
    target.mkdir()
    res = install(spec(unreachable, sha(data)), str(target))
    assert res["source"] == str(mirror / sha(data))
    assert (target / "pkg-1.0" / "bin" / "tool.sh").is_file()


def test_a_corrupt_mirror_file_is_a_checksum_error(tmp_path, monkeypatch) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "x.tar.gz").write_bytes(b"not the file")
    monkeypatch.setenv("CK_DOWNLOAD_MIRROR", f"file://{mirror}")
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(ChecksumError, match="mirror") as exc:
        install(spec("https://example.invalid/x.tar.gz", "b" * 64), str(target))
    assert str(mirror / "x.tar.gz") in exc.value.message
    assert (mirror / "x.tar.gz").read_bytes() == b"not the file"  # the mirror is untouched


def test_mirror_dirs_parsing() -> None:
    assert mirror_dirs("") == []
    assert mirror_dirs("file:///srv/m") == ["/srv/m"]
    assert mirror_dirs(os.pathsep.join(["/a", "file:///b/c", "/d"])) == ["/a", "/b/c", "/d"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_only_on_a_tty(tmp_path, monkeypatch, capsys) -> None:
    src = tmp_path / "blob.bin"
    src.write_bytes(PAYLOAD)
    target = tmp_path / "t"
    target.mkdir()
    install(spec(file_url(src), sha(PAYLOAD)), str(target))
    assert capsys.readouterr().err == ""  # not a terminal: silent
    fake = _Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    target = tmp_path / "t2"
    target.mkdir()
    from cknowledge.install import progress

    def no_rich() -> None:
        raise ImportError("rich")

    monkeypatch.setattr(progress, "RichBar", no_rich)  # the plain line without rich
    install(spec(file_url(src), sha(PAYLOAD)), str(target))
    shown = fake.getvalue()
    assert "\r  blob.bin" in shown and "(100%)" in shown and "/s" in shown
    assert shown.endswith("\n")


def test_https_downloads_use_the_ca_bundle_the_environment_names(tmp_path, monkeypatch) -> None:
    """As the hub client: REQUESTS_CA_BUNDLE (and SSL_CERT_FILE, CURL_CA_BUNDLE,
    SSL_CERT_DIR) name the CA certificates of an https download; one that cannot be read
    is one input error naming the variable, before any connection."""
    from cknowledge.install.download import fetch

    for var in ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "no-such-bundle.pem"))
    with pytest.raises(InvalidInput, match=r"\$REQUESTS_CA_BUNDLE=.*no-such-bundle.pem"):
        fetch("https://127.0.0.1:9/x.bin", "0" * 64, str(tmp_path / "dl"), "x.bin")
    assert not (tmp_path / "dl" / "x.bin").exists()
