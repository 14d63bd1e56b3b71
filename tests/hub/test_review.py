"""Misuse and attacks on the hub, server and client: each case fails with one typed,
one-line error (never a 500 or a traceback) and leaves nothing behind."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SRC

from .test_client import (  # noqa: F401 - the client tests' fixtures
    Home,
    HubServer,
    homes,
    hub_server,
    logged_in,
    start_hub,
)

pytest.importorskip("httpx")


SUBMIT = "/api/v1/scoreboards/mlperf-object-detection/results"


def _submission(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"solution": {"name": "s", "version": "1.0"},
                            "metrics": {"qps": 10.0, "latency_p90_ms": 2.0},
                            "platform": {"fingerprint": "0123456789abcdef"}}
    body.update(extra)
    return body


def _count(client: Any) -> int:
    answer: int = client.get("/api/v1/scoreboards/mlperf-object-detection").json()["count"]
    return answer


def _cli(prog: str, home: Path, *args: str, timeout: float = 120) -> tuple[int, str, str]:
    entry = {"ck": "main", "cb": "cb_main"}[prog]
    env = dict(os.environ, CK_HOME=str(home),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for var in ("CK_HUB_URL", "CK_HUB_TOKEN"):
        env.pop(var, None)
    proc = subprocess.run(
        [sys.executable, "-c",
         f"import sys; from cknowledge.cli.main import {entry}; sys.exit({entry}())", *args],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _one_error_line(err: str, prog: str = "ck") -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- names, versions, ranges ----------------------------------------------------------------
def test_names_with_a_trailing_newline_are_refused(hub_client: Any, hub_users: Any,
                                                   hub_publish: Any, hub_db_url: str,
                                                   hub_root: str) -> None:
    from cknowledge.errors import InvalidInput
    from cknowledge.hub.admin import add_user

    answer = hub_publish(hub_users.auth("alice"), "dataset:x%0A", "1.0")
    assert answer.status_code == 422 and answer.json()["return"] == 5
    answer = hub_publish(hub_users.auth("alice"), "dataset:ok", "1.0",
                         deps=[{"component": "dataset:b\n", "range": ">=1"}])
    assert answer.status_code == 422 and answer.json()["return"] == 5
    assert hub_client.get("/api/v1/components").json()["total"] == 0
    with pytest.raises(InvalidInput):
        add_user(hub_db_url, hub_root, "eve\n")


def test_overlong_versions_and_ranges_are_422(hub_client: Any, hub_users: Any,
                                              hub_publish: Any) -> None:
    auth = hub_users.auth("alice")
    for version in ("1." + "0" * 5000, "1." + "1" * 120):
        answer = hub_publish(auth, "dataset:v", version)
        assert answer.status_code == 422, answer.text
        assert answer.json()["return"] == 2 and "version" in answer.json()["error"]
    answer = hub_publish(auth, "dataset:v", "1.0",
                         deps=[{"component": "dataset:b", "range": ">=1." + "0" * 5000}])
    assert answer.status_code == 422 and "deps[0].range" in answer.json()["error"]
    assert hub_publish(auth, "dataset:v", " 1.0 ").status_code == 201
    long = "1." + "0" * 5000
    answer = hub_client.get(f"/api/v1/components/dataset/v/versions/{long}/archive")
    assert answer.status_code == 404 and answer.json()["return"] == 16


def test_search_text_is_not_a_like_pattern(hub_client: Any, hub_users: Any,
                                           hub_publish: Any) -> None:
    for name in ("a_b", "axb"):
        assert hub_publish(hub_users.auth("alice"), f"dataset:{name}", "1.0").status_code == 201
    found = hub_client.get("/api/v1/components", params={"q": "a_b"}).json()
    assert [i["name"] for i in found["items"]] == ["a_b"]
    assert hub_client.get("/api/v1/components", params={"q": "%"}).json()["total"] == 0


# -- numbers and sizes in queries ------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/api/v1/components?offset=18446744073709551616",
    "/api/v1/scoreboards/mlperf-object-detection/results?offset=18446744073709551616",
    "/api/v1/results/99999999999999999999999",
    "/components?offset=99999999999999999999999",
    "/scoreboards/mlperf-object-detection?offset=99999999999999999999999",
    "/results/99999999999999999999999",
])
def test_huge_offsets_and_ids_are_422(hub_client: Any, path: str) -> None:
    answer = hub_client.get(path)
    assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])


def test_pages_beyond_the_end_link_back_to_the_last_page(hub_client: Any, hub_users: Any,
                                                         hub_publish: Any) -> None:
    assert hub_publish(hub_users.auth("alice"), "dataset:only", "1.0").status_code == 201
    page = hub_client.get("/components?offset=5000")
    assert page.status_code == 200
    assert '<a href="/components">← previous</a>' in page.text
    page = hub_client.get("/scoreboards/mlperf-object-detection?offset=5000")
    assert page.status_code == 200
    assert ('<a href="/scoreboards/mlperf-object-detection?sort=qps&amp;order=desc">'
            '← previous</a>') in page.text
    for query in ("sort=%3Cjunk%3E", "order=sideways", "reference=maybe", "offset=-3",
                  "x=nope&y=%22%3E"):
        answer = hub_client.get(f"/scoreboards/mlperf-object-detection?{query}")
        assert answer.status_code in (200, 422), (query, answer.status_code)
        assert "<junk>" not in answer.text and '">"' not in answer.text


# -- submissions -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, where", [
    ('{"x": NaN}', "lockfile"),
    ('{"x": Infinity}', "facts"),
    ('{"x": -Infinity}', "config"),
    ('{"mean": 1, "n": 2, "extra": NaN}', "statistics"),
    ('{"x": 123456789012345678901234567890}', "lockfile"),
    ('{"x": ' + "[" * 40 + "]" * 40 + "}", "lockfile"),
])
def test_non_finite_huge_or_deep_values_are_refused_anywhere(hub_client: Any, hub_users: Any,
                                                             raw: str, where: str) -> None:
    body = json.dumps(_submission())[:-1]
    if where == "facts":
        body = body.replace('"0123456789abcdef"}', '"0123456789abcdef", "facts": ' + raw + "}")
    elif where == "statistics":
        body += ', "statistics": {"qps": ' + raw + "}"
    else:
        body += f', "{where}": {raw}'
    body += "}"
    answer = hub_client.post(SUBMIT, content=body, headers={
        **hub_users.auth("bob"), "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert answer.json()["return"] == 2 and where in error and "Value error" not in error
    assert _count(hub_client) == 0


def test_config_values_are_bounded_and_deep_bodies_say_why(hub_client: Any,
                                                           hub_users: Any) -> None:
    auth = hub_users.auth("bob")
    answer = hub_client.post(SUBMIT, headers=auth,
                             json=_submission(config={"backend": "x" * 5000}))
    assert answer.status_code == 422 and "config" in answer.json()["error"]
    deep = '{"x": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = hub_client.post(SUBMIT, content=deep, headers={
        **auth, "Content-Type": "application/json"})
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["error"]
    assert _count(hub_client) == 0
    assert hub_client.post(SUBMIT, headers=auth, json=_submission(
        config={"backend": "x" * 1000}, metrics={"qps": 1e308, "latency_p90_ms": 1})
    ).status_code == 201


def test_published_meta_refuses_nan_and_deep_nesting(hub_client: Any, hub_users: Any,
                                                     hub_archive: Any) -> None:
    for meta in ('{"x": NaN}', '{"x": ' + "[" * 40 + "]" * 40 + "}"):
        answer = hub_client.post(
            "/api/v1/components/dataset/m/versions", headers=hub_users.auth("alice"),
            data={"version": "1.0", "meta": meta, "deps": "[]"},
            files={"archive": ("a.tar.gz", hub_archive(), "application/gzip")})
        assert answer.status_code == 422 and "'meta'" in answer.json()["error"], answer.text
    assert hub_client.get("/api/v1/components").json()["total"] == 0


def test_submitted_markup_is_escaped_on_every_page(hub_client: Any, hub_users: Any,
                                                   hub_publish: Any) -> None:
    evil = "<script>alert(1)</script>"
    answer = hub_client.post(SUBMIT, headers=hub_users.auth("bob"), json=_submission(
        config={"backend": evil, "scenario": evil},
        platform={"fingerprint": "0123456789abcdef", "facts": {"os": evil}},
        solution={"name": "s", "version": evil[:50]}))
    assert answer.status_code == 201, answer.text
    rid = answer.json()["id"]
    assert hub_publish(hub_users.auth("alice"), "dataset:evil", "1.0",
                       meta={"description": evil, "tags": [evil, '"><b>x']}).status_code == 201
    for path in ("/", "/components", "/components/dataset/evil",
                 "/scoreboards/mlperf-object-detection", f"/results/{rid}"):
        page = hub_client.get(path)
        assert page.status_code == 200 and "<script>alert" not in page.text, path
        assert '"><b>' not in page.text, path


# -- archives --------------------------------------------------------------------------------
def _pax_bomb(path: Path, size: int = 256 << 20) -> None:
    """A .tar.gz whose first header declares a PAX extended header of ``size`` bytes (a
    few hundred KiB compressed)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, size
    with open(path, "wb") as out:
        out.write(packer.compress(info.tobuf(format=tarfile.USTAR_FORMAT)))
        block = b"\n" * (1 << 20)
        out.writelines(packer.compress(block) for _ in range(size >> 20))
        out.write(packer.flush())


def test_oversized_tar_headers_are_refused_unread(tmp_path: Path, hub_client: Any,
                                                  hub_users: Any) -> None:
    from cknowledge.client.pack import reroot
    from cknowledge.errors import ArchiveError
    from cknowledge.hub.storage import check_archive

    bomb = tmp_path / "bomb.tar.gz"
    _pax_bomb(bomb)
    started = time.monotonic()
    with pytest.raises(ArchiveError, match="extended tar header"):
        check_archive(str(bomb), 1 << 30)
    with pytest.raises(ArchiveError, match="dataset:x.*extended tar header"):
        reroot([(str(bomb), "dataset", "x")], str(tmp_path / "out.tar"))
    assert time.monotonic() - started < 5   # refused at the header, not after reading it
    answer = hub_client.post("/api/v1/components/dataset/bomb/versions",
                             headers=hub_users.auth("alice"), data={"version": "1.0"},
                             files={"archive": ("a.tar.gz", bomb.read_bytes(),
                                                "application/gzip")})
    assert answer.status_code == 422 and answer.json()["return"] == 11


def test_long_names_in_pax_headers_still_work(tmp_path: Path) -> None:
    from cknowledge.hub.storage import check_archive

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:
        for name, data in (("meta.json", b"{}"), ("d/" + "n" * 300, b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    path = tmp_path / "ok.tar.gz"
    path.write_bytes(buf.getvalue())
    assert "d/" + "n" * 300 in check_archive(str(path), 1 << 20)


# -- the database and the port ---------------------------------------------------------------
def test_unreachable_or_unusable_databases_are_one_error(tmp_path: Path) -> None:
    from cknowledge.errors import CKError, InvalidInput
    from cknowledge.hub.admin import add_user
    from cknowledge.hub.problems import DatabaseUnavailable

    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://hub:s3cret@127.0.0.1:1/hub"
    with pytest.raises(DatabaseUnavailable) as caught:
        add_user(url, str(tmp_path / "r"), "alice")
    assert "s3cret" not in caught.value.message and "***" in caught.value.message
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DatabaseUnavailable):
        add_user(f"sqlite:///{blocker}/sub/hub.sqlite", str(tmp_path / "r"), "alice")
    with pytest.raises(InvalidInput, match="driver"):
        add_user("postgresql+nosuchdriver://u:pw@127.0.0.1/hub", str(tmp_path / "r"), "a")
    with pytest.raises(CKError):
        add_user("mysql://u@h/db", str(tmp_path / "r"), "alice")


def test_serve_with_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    rc, out, err = _cli("ck", tmp_path / "home", "hub", "serve", "--port=0",
                        "--db=postgresql+psycopg://hub:s3cret@127.0.0.1:1/hub",
                        f"--root={tmp_path / 'root'}")
    line = _one_error_line(err)
    assert rc == 1 and "cannot open the database" in line and "s3cret" not in line
    assert out == ""


def test_serve_on_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        rc, out, err = _cli("ck", tmp_path / "home", "hub", "serve", f"--port={port}",
                            f"--root={tmp_path / 'root'}")
    line = _one_error_line(err)
    assert rc == 2 and f"127.0.0.1:{port}" in line and "--port" in line
    assert "serving" not in out


def test_database_failure_during_a_request_is_503(hub_root: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from cknowledge.hub import create_app

    app = create_app(f"sqlite:///{hub_root}/hub.sqlite", hub_root)
    db = app.state.hub.db
    gone = create_engine(f"sqlite:///{tmp_path}/missing/dir/hub.sqlite")
    db._read = sessionmaker(gone)   # the database file became unreachable
    try:
        with TestClient(app) as client:
            answer = client.get("/api/v1/components")
            assert answer.status_code == 503 and answer.json()["return"] == 1
            assert "cannot open the database" in answer.json()["error"]
            page = client.get("/components")
            assert page.status_code == 503 and "cannot open the database" in page.text
    finally:
        gone.dispose()
        db.dispose()


# -- the client ------------------------------------------------------------------------------
@pytest.mark.parametrize("url, normal", [
    ("127.0.0.1:8787/", "http://127.0.0.1:8787"),
    ("http://127.0.0.1:8787///", "http://127.0.0.1:8787"),
    ("HTTP://h:1/api/v1/", "http://h:1"),
    ("https://hub.example.org/ck/api/v1", "https://hub.example.org/ck"),
    ("http://[::1]:8787", "http://[::1]:8787"),
])
def test_hub_urls_are_normalized(url: str, normal: str) -> None:
    from cknowledge.client.config import normalize_url

    assert normalize_url(url) == normal


@pytest.mark.parametrize("url", ["http://[::1", "http://h:99999", "http://h:abc",
                                 "http://exa mple", "http://", "http://h/?x=1", "ftp://h"])
def test_bad_hub_urls_are_invalid_input(url: str, tmp_path: Path) -> None:
    from cknowledge.client.config import normalize_url
    from cknowledge.errors import InvalidInput

    with pytest.raises(InvalidInput):
        normalize_url(url)


def test_bad_hub_url_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    rc, _, err = _cli("cb", tmp_path, "versions", "dataset:x", "--hub=http://[::1")
    assert rc == 2 and "not valid" in _one_error_line(err, "cb")


def test_a_url_that_is_not_the_hub_says_so(hub_server: HubServer,
                                           homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    wrong = pub(action="versions", automation="hub", component="dataset:x",
                hub=hub_server.url + "/somewhere")
    assert wrong["return"] == 15 and "no hub API" in wrong["error"]
    assert "<" not in wrong["error"]
    right = pub(action="versions", automation="hub", component="dataset:x",
                hub=hub_server.url + "/api/v1/")
    assert right["return"] == 16 and "not on the hub" in right["error"]


def test_component_names_with_newlines_are_refused_by_the_client(
        homes: tuple[Home, Home]) -> None:
    pub, _ = homes
    result = pub(action="versions", automation="hub", component="dataset:x\n")
    assert result["return"] == 2
    assert "white space" in result["error"] or "is not allowed" in result["error"]


def test_publishing_a_missing_entry_says_what_to_do(hub_server: HubServer,
                                                    logged_in: tuple[Home, Home]) -> None:
    pub, _ = logged_in
    result = pub(action="publish", automation="hub", component="dataset:nope", version="1.0")
    assert result["return"] == 16 and "nothing to publish" in result["error"]
    assert "ck find dataset" in result["error"]


def test_a_download_longer_than_listed_is_cut_off(hub_server: HubServer,
                                                  logged_in: tuple[Home, Home]) -> None:
    pub, con = logged_in
    pub.entry("dataset", "d", files={"x": "1"})
    sha = pub.ok(action="publish", automation="hub", component="dataset:d",
                 version="1.0")["sha256"]
    blob = Path(hub_server.root) / "blobs" / sha[:2] / sha
    os.chmod(blob, 0o644)
    with open(blob, "ab") as out:   # a hub that sends far more than it lists
        out.write(b"\0" * (4 << 20))
    result = con(action="download", automation="hub", component="dataset:d")
    assert result["return"] == 17 and "longer than" in result["error"]
    assert con.ok(action="find", automation="dataset")["list"] == []
    assert not [p for p in (con.path / "client").iterdir() if p.name.startswith(".tmp-")]


def test_tokens_never_reach_the_server_output(tmp_path: Path) -> None:
    """A hub process run by ``ck hub serve``: requests with valid and invalid tokens,
    including failing ones, leave no token in its stdout or stderr."""
    import httpx

    from cknowledge.hub.admin import add_user

    root = tmp_path / "root"
    token = add_user(f"sqlite:///{root / 'hub.sqlite'}", str(root), "alice")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, CK_HOME=str(tmp_path / "home"),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from cknowledge.cli.main import main; sys.exit(main())",
         "hub", "serve", f"--port={port}", f"--root={root}"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        wrong = "W" * 43
        for tok in (token, wrong):
            auth = {"Authorization": f"Bearer {tok}"}
            httpx.get(url + "/api/v1/whoami", headers=auth)
            httpx.post(url + SUBMIT, headers=auth, json=_submission())
            httpx.post(url + SUBMIT, headers={**auth, "Content-Type": "application/json"},
                       content='{"x": ' + "[" * 3000 + "]" * 3000 + "}")
            httpx.post(url + "/api/v1/components/dataset/x/versions", headers=auth,
                       data={"version": "1.0"}, files={"archive": ("a", b"junk")})
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert token not in out + err and wrong not in out + err
    assert "Traceback" not in err


# -- NUL characters (PostgreSQL cannot store them in text) -------------------------------------
@pytest.mark.parametrize("path", [
    "/api/v1/components?q=%00", "/api/v1/components?tag=a%00",
    "/api/v1/scoreboards/%00", "/scoreboards/mlperf-object-detection?platform=%00",
    "/api/v1/scoreboards/mlperf-object-detection/results?backend=%00&version=%00",
    "/api/v1/components/dataset/x/versions/1.0%00/archive", "/components?q=%00",
])
def test_nul_in_a_url_is_422(hub_client: Any, path: str) -> None:
    answer = hub_client.get(path)
    assert answer.status_code == 422 and "NUL" in answer.json()["error"], path


def test_nul_in_bodies_is_422(hub_client: Any, hub_users: Any, hub_publish: Any) -> None:
    for extra in ({"solution": {"name": "s", "version": "1\x00"}},
                  {"config": {"backend": "a\x00b"}}, {"lockfile": {"k\x00": "v"}}):
        answer = hub_client.post(SUBMIT, headers=hub_users.auth("bob"),
                                 json=_submission(**extra))
        assert answer.status_code == 422 and "NUL" in answer.json()["error"], extra
    answer = hub_publish(hub_users.auth("alice"), "dataset:n", "1.0",
                         meta={"description": "a\x00b"})
    assert answer.status_code == 422 and "NUL" in answer.json()["error"]
    assert hub_publish(hub_users.auth("alice"), "dataset:n", "1.0").status_code == 201
    answer = hub_client.post("/api/v1/components/dataset/n/owners",
                             headers=hub_users.auth("alice"), json={"user": "b\x00"})
    assert answer.status_code == 422 and "NUL" in answer.json()["error"]
    assert _count(hub_client) == 0
