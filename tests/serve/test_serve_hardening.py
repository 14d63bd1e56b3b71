"""Hostile requests to the REST layer: reads that would run a program, contact a server or
read outside the home need the token; the body is bounded, JSON only and authenticated
before it is read; query keys the route does not know are refused."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from cknowledge import api  # noqa: E402
from cknowledge.serve.app import close_kernels, create_app  # noqa: E402
from cknowledge.serve.policy import guarded_input  # noqa: E402

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    try:
        with TestClient(create_app(home=str(home), token=TOKEN, max_body=64 * 1024)) as c:
            yield c
    finally:
        close_kernels()
        api.reset()


def _evil(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, marker


@pytest.mark.builtin
def test_detect_with_a_chosen_python_needs_the_token(client: TestClient,
                                                     tmp_path: Path) -> None:
    script, marker = _evil(tmp_path)
    request = {"action": "detect", "automation": "soft", "artifact": "numpy",
               "python": str(script)}
    resp = client.post("/api/v1/access", json=request)
    assert resp.status_code == 401, resp.text
    assert resp.json()["return"] == 13 and "'python'" in resp.json()["error"]
    assert not marker.exists()
    # the token holder may: the program runs (this is what the token guards)
    client.post("/api/v1/access", json=request, headers=AUTH)
    assert marker.exists()


@pytest.mark.builtin
def test_detect_in_chosen_folders_needs_the_token(client: TestClient, tmp_path: Path) -> None:
    resp = client.post("/api/v1/access", json={"action": "detect", "automation": "soft",
                                               "artifact": "git", "paths": [str(tmp_path)]})
    assert resp.status_code == 401 and "'paths'" in resp.json()["error"]


@pytest.mark.parametrize("hub", ["http://169.254.169.254/latest", "http://127.0.0.1:1"])
def test_hub_reads_with_a_chosen_url_need_the_token(client: TestClient, hub: str) -> None:
    for action in ("versions", "whoami", "search", "status"):
        request = {"action": action, "automation": "hub", "component": "dataset:x", "hub": hub}
        if action != "versions":
            request.pop("component")
        resp = client.post("/api/v1/access", json=request)
        assert resp.status_code == 401, (action, resp.text)
        assert "'hub'" in resp.json()["error"]


def test_a_server_without_token_names_why(home: Path) -> None:
    try:
        with TestClient(create_app(home=str(home), token=None)) as c:
            resp = c.post("/api/v1/access", json={"action": "versions", "automation": "hub",
                                                  "component": "a:b", "hub": "http://x"})
    finally:
        close_kernels()
        api.reset()
    assert resp.status_code == 401
    assert "'hub'" in resp.json()["error"] and "without" in resp.json()["error"]


@pytest.mark.parametrize(("request_", "guarded"), [
    ({"action": "find", "automation": "dataset", "tags": "a,b"}, False),
    ({"action": "find", "automation": "dataset", "artifact": "d*"}, False),
    ({"action": "find", "automation": "dataset", "artifact": "local:d1"}, False),
    ({"action": "help", "automation": "kernel", "topic": "x"}, False),
    ({"action": "find", "automation": "dataset", "artifact": "/etc/passwd"}, True),
    ({"action": "find", "automation": "dataset", "artifact": "../../etc"}, True),
    ({"action": "find", "automation": "dataset", "tags": ["a", "x/y"]}, True),
    ({"action": "find", "automation": "dataset", "tags": "~root"}, True),
    ({"action": "find", "automation": "dataset", "x": {"k": "ftp://h/"}}, True),
    ({"action": "hello", "automation": "automation", "who": "file:/etc/passwd"}, True),
    ({"action": "x", "python": "python3"}, True),
    ({"action": "x", "file": "notes.txt"}, True),   # relative: the server's folder
    ({"action": "x", "python": None}, False),
    ({"action": "x", "python": 0}, True),          # converted to the text "0": a program
    ({"action": "x", "hub": False}, True),
])
def test_guarded_inputs(tmp_path: Path, request_: dict[str, Any], guarded: bool) -> None:
    assert (guarded_input(request_, str(tmp_path)) is not None) is guarded


def test_paths_inside_the_home_are_not_guarded(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "x").mkdir(parents=True)
    inside = {"action": "x", "file": str(home / "x" / "f")}
    assert guarded_input(inside, str(home)) is None
    escape = {"action": "x", "file": str(home / "x" / ".." / ".." / "f")}
    assert guarded_input(escape, str(home)) is not None
    os.symlink(tmp_path, home / "link")
    assert guarded_input({"action": "x", "file": str(home / "link" / "f")}, str(home))
    assert guarded_input({"action": "x", "python": str(home / "x" / "f")}, str(home))


def test_plain_reads_still_need_no_token(client: TestClient) -> None:
    resp = client.post("/api/v1/access", json={"action": "find", "automation": "dataset",
                                               "tags": "a"})
    assert resp.status_code == 200 and resp.json() == {"return": 0, "list": []}


def test_the_body_must_be_json(client: TestClient) -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ctype} if ctype else {}
        resp = client.post("/api/v1/access", content=b'{"action": "version"}',
                           headers=headers)
        assert resp.status_code == 415, (ctype, resp.text)
        assert resp.json()["return"] == 2 and "application/json" in resp.json()["error"]
    ok = client.post("/api/v1/access", content=b'{"action": "version"}',
                     headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200


def test_an_oversized_body_is_413_before_it_is_read(client: TestClient) -> None:
    big = b'{"action": "version", "x": "' + b"a" * (128 * 1024) + b'"}'
    resp = client.post("/api/v1/access", content=big,
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["return"] == 2

    def chunks() -> Iterator[bytes]:   # no Content-Length: counted as it arrives
        yield b'{"action": "version", "x": "'
        for _ in range(64):
            yield b"a" * 4096
        yield b'"}'

    resp = client.post("/api/v1/access", content=chunks(),
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["return"] == 2


def test_a_wrong_token_is_refused_before_the_body(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"a" * 4096

    resp = client.post("/api/v1/access", content=chunks(), headers={
        "Content-Type": "application/json", "Authorization": "Bearer wrong"})
    assert resp.status_code == 401 and resp.json()["return"] == 13
    big = b"x" * (128 * 1024)
    resp = client.post("/api/v1/access", content=big, headers={
        "Content-Type": "application/json", "Authorization": "Bearer wrong"})
    assert resp.status_code == 401


@pytest.mark.parametrize(("url", "params", "key"), [
    ("/api/v1/dataset", {"tagz": "x"}, "tagz"),
    ("/api/v1/dataset", {"tags": "a", "limit": "1"}, "limit"),
    ("/api/v1/dataset/d1", {"tags": "a"}, "tags"),
    ("/api/v1/automations", {"x": "1"}, "x"),
    ("/api/v1/access", {"x": "1"}, "x"),
])
def test_unknown_query_keys_are_refused(client: TestClient, url: str,
                                        params: dict[str, str], key: str) -> None:
    if url.endswith("/access"):
        resp = client.post(url, params=params, json={"action": "version"})
    else:
        resp = client.get(url, params=params)
    assert resp.status_code == 400, resp.text
    assert resp.json()["return"] == 2 and repr(key) in resp.json()["error"]


def test_a_query_key_given_twice_is_refused(client: TestClient) -> None:
    resp = client.get("/api/v1/dataset?tags=a&tags=b")
    assert resp.status_code == 400 and "'tags'" in resp.json()["error"]


def test_get_routes_guard_paths_and_take_the_token(client: TestClient) -> None:
    resp = client.get("/api/v1/dataset", params={"artifact": "/etc/*"})
    assert resp.status_code == 401
    resp = client.get("/api/v1/dataset", params={"artifact": "/etc/*"}, headers=AUTH)
    assert resp.status_code != 401
