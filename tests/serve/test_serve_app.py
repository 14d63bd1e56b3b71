"""The REST application through FastAPI's TestClient: auth, status mapping, routes."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from cknowledge import api  # noqa: E402
from cknowledge.serve.app import close_kernels, create_app  # noqa: E402
from cknowledge.serve.policy import STATUS_BY_CODE, http_status, token_matches  # noqa: E402

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _client(home: Path, token: str | None) -> Iterator[TestClient]:
    try:
        with TestClient(create_app(home=str(home), token=token)) as client:
            yield client
    finally:
        close_kernels()
        api.reset()


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    """A client of an app over the test's own CK_HOME, whose token is ``t``."""
    yield from _client(home, TOKEN)


def post(client: TestClient, headers: dict[str, str] | None = None, **request: Any) -> Any:
    return client.post("/api/v1/access", json=request, headers=headers or {})


def add(client: TestClient, name: str, tags: str = "a,b") -> dict[str, Any]:
    resp = post(client, AUTH, action="add", automation="dataset", artifact=name, tags=tags)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_add_with_token_writes_the_entry(client: TestClient, home: Path) -> None:
    body = add(client, "d1")
    assert body["return"] == 0 and body["name"] == "d1" and len(body["uid"]) == 16
    assert os.path.isdir(body["path"])
    assert Path(body["path"]).is_relative_to(home)
    assert body["tags"] == ["a", "b"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer "},
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN},
    {"Authorization": f"Bearer {TOKEN}x"},
])
def test_write_without_valid_token_is_refused(client: TestClient, home: Path,
                                              headers: dict[str, str]) -> None:
    resp = post(client, headers, action="add", automation="dataset", artifact="d1")
    assert resp.status_code == 401
    assert resp.json()["return"] == 13 and resp.json()["error"]
    assert resp.headers["www-authenticate"] == "Bearer"
    assert TOKEN + "x" not in resp.text
    assert not (home / "repos" / "local" / "dataset" / "d1").exists()
    found = post(client, action="find", automation="dataset").json()
    assert found == {"list": [], "return": 0}


@pytest.mark.parametrize("request_", [
    {"action": "update", "automation": "dataset", "artifact": "d1", "meta": {"x": 1}},
    {"action": "rm", "automation": "dataset", "artifact": "d1", "force": True},
    {"action": "ren", "automation": "dataset", "artifact": "d1", "new_name": "d2"},
    {"action": "import", "file": "/nonexistent.zip"},
])
def test_every_writing_action_needs_the_token(client: TestClient, request_: dict[str, Any]) -> None:
    path = add(client, "d1")["path"]
    resp = client.post("/api/v1/access", json=request_)
    assert resp.status_code == 401, resp.text
    loaded = post(client, action="load", automation="dataset", artifact="d1").json()
    assert loaded["return"] == 0 and loaded["path"] == path and "x" not in loaded["meta"]


def test_generic_folder_add_needs_the_token(client: TestClient, home: Path) -> None:
    # 'widget' is no known automation, but its folder exists: the kernel would write there.
    (home / "repos" / "local" / "widget").mkdir(parents=True)
    resp = post(client, action="add", automation="widget", artifact="w1")
    assert resp.status_code == 401
    assert not (home / "repos" / "local" / "widget" / "w1").exists()
    resp = post(client, AUTH, action="add", automation="widget", artifact="w1")
    assert resp.status_code == 200 and resp.json()["name"] == "w1"


def test_reads_need_no_token(client: TestClient) -> None:
    uid = add(client, "d1")["uid"]
    found = post(client, action="find", automation="dataset", tags="a")
    assert found.status_code == 200
    assert [e["uid"] for e in found.json()["list"]] == [uid]
    loaded = post(client, action="load", automation="dataset", artifact="d1")
    assert loaded.status_code == 200 and loaded.json()["uid"] == uid
    version = post(client, action="version", automation="kernel")
    assert version.status_code == 200 and version.json()["version"]


@pytest.mark.parametrize(("request_", "headers", "status", "code"), [
    ({"action": "load", "automation": "dataset", "artifact": "nope"}, {}, 404, 16),
    ({"action": "frobnicate", "automation": "dataset"}, {}, 400, 3),
    ({"action": "add", "automation": "nosuchthing", "artifact": "x"}, {}, 400, 4),
    ({"action": "add", "automation": "dataset", "artifact": "../evil"}, AUTH, 400, 5),
    ({"action": "add", "automation": "dataset", "artifact": "builtin:x"}, AUTH, 403, 7),
    ({"action": "add", "automation": "dataset", "artifact": "d1"}, AUTH, 409, 8),
    ({"automation": "dataset"}, {}, 400, 2),
    ({"action": "find", "automation": "dataset", "nosuchinput": 1}, {}, 400, 2),
])
def test_errors_map_to_statuses(client: TestClient, request_: dict[str, Any],
                                headers: dict[str, str], status: int, code: int) -> None:
    add(client, "d1")
    resp = client.post("/api/v1/access", json=request_, headers=headers)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["return"] == code and isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'"text"', b"null", b"\xff\xfe"])
def test_bad_bodies_are_400(client: TestClient, home: Path, raw: bytes) -> None:
    resp = client.post("/api/v1/access", content=raw, headers={**AUTH,
                       "Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["return"] == 2 and resp.json()["error"]


def test_a_request_cannot_switch_home(client: TestClient, tmp_path: Path) -> None:
    other = tmp_path / "other"
    resp = post(client, AUTH, action="add", automation="dataset", artifact="x", home=str(other))
    assert resp.status_code == 400 and resp.json()["return"] == 2
    assert not other.exists()


def test_resource_routes(client: TestClient) -> None:
    uid = add(client, "d1", tags="a,b")["uid"]
    add(client, "other", tags="c")
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    autos = client.get("/api/v1/automations")
    assert autos.status_code == 200
    assert {"dataset", "repo"} <= {a["name"] for a in autos.json()["automations"]}
    by_tags = client.get("/api/v1/dataset", params={"tags": "a,b"}).json()
    assert [e["uid"] for e in by_tags["list"]] == [uid]
    excluded = client.get("/api/v1/dataset", params={"tags": "a,-b"}).json()
    assert excluded["list"] == []
    by_name = client.get("/api/v1/dataset", params={"artifact": "oth*"}).json()
    assert [e["name"] for e in by_name["list"]] == ["other"]
    by_repo = client.get("/api/v1/dataset", params={"repo": "builtin", "artifact": "d1"}).json()
    assert by_repo["list"] == []
    every = client.get("/api/v1/dataset").json()
    assert sorted(e["name"] for e in every["list"]) == ["d1", "other"]
    loaded = client.get("/api/v1/dataset/d1")
    assert loaded.status_code == 200 and loaded.json()["meta"]["uid"] == uid
    assert client.get(f"/api/v1/dataset/local:{uid}").json()["name"] == "d1"
    missing = client.get("/api/v1/dataset/nope")
    assert missing.status_code == 404 and missing.json()["return"] == 16
    assert client.get("/api/v1/nosuchthing").status_code == 400
    bad_query = client.get("/api/v1/dataset", params={"with_meta": "perhaps"})
    assert bad_query.status_code == 400 and bad_query.json()["return"] == 2


def test_unknown_routes_keep_the_result_shape(client: TestClient) -> None:
    resp = client.get("/no/such/route")
    assert resp.status_code == 404 and resp.json()["return"] == 16
    resp = client.delete("/api/v1/access")
    assert resp.status_code == 405 and resp.json()["return"] == 2


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "cknowledge"
    assert "post" in spec["paths"]["/api/v1/access"]
    body = spec["paths"]["/api/v1/access"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["required"] == ["action"]
    assert {"/api/v1/automations", "/api/v1/{automation}", "/api/v1/{automation}/{artifact}",
            "/health"} <= set(spec["paths"])
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_server_without_token_refuses_every_write(home: Path) -> None:
    for client in _client(home, None):
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
            resp = post(client, headers, action="add", automation="dataset", artifact="d1")
            assert resp.status_code == 401 and resp.json()["return"] == 13
        assert post(client, action="find", automation="dataset").status_code == 200
    assert not (home / "repos" / "local" / "dataset" / "d1").exists()


def test_internal_errors_are_500_and_odd_values_are_strings(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request: dict[str, Any], home: str | None = None) -> dict[str, Any]:
        return {"return": 1, "error": "internal error: boom", "where": Path("/x/y")}

    monkeypatch.setattr(api, "access", broken)
    resp = post(client, action="find", automation="dataset")
    assert resp.status_code == 500
    assert resp.json() == {"return": 1, "error": "internal error: boom", "where": "/x/y"}


@pytest.mark.parametrize(("code", "status"), [
    (0, 200), (1, 500), (2, 400), (3, 400), (4, 400), (5, 400), (6, 422), (7, 403), (8, 409),
    (9, 400), (10, 400), (11, 400), (12, 400), (13, 401), (14, 422), (15, 502), (16, 404),
    (17, 422), (18, 409), (19, 500), (32, 423), (99, 400),
])
def test_status_of_each_code(code: int, status: int) -> None:
    assert http_status({"return": code, "error": "x"}) == status


def test_status_of_malformed_results() -> None:
    from cknowledge.errors import ALL_ERRORS

    assert set(STATUS_BY_CODE) >= {0} | {cls.code for cls in ALL_ERRORS}  # every code mapped
    assert http_status({}) == 500
    assert http_status({"return": "0"}) == 500
    assert http_status({"return": True}) == 500
    assert http_status(None) == 500


def test_token_comparison() -> None:
    assert token_matches("t", "t")
    assert token_matches("é-ü", "é-ü")
    assert not token_matches("t", "u")
    assert not token_matches("", "")
    assert not token_matches(None, "t")
    assert not token_matches("t", None)
    assert not token_matches("é", "e")


def test_kernel_calls_run_on_one_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SQLite index may only be used by the thread that opened it.
    threads: list[str] = []
    real = api.access

    def recording(request: dict[str, Any], home: str | None = None) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return real(request, home=home)

    monkeypatch.setattr(api, "access", recording)
    add(client, "d1")
    post(client, action="find", automation="dataset")
    client.get("/api/v1/dataset")
    client.get("/api/v1/dataset/d1")
    client.get("/api/v1/automations")
    assert len(threads) == 5
    assert all(name.startswith("ck-kernel") for name in threads), threads


def test_shutdown_closes_the_kernels(home: Path) -> None:
    with TestClient(create_app(home=str(home), token=TOKEN)) as client:
        add(client, "d1")
        assert client.get("/api/v1/dataset").json()["list"][0]["name"] == "d1"  # opens the index
    # From this (other) thread: would fail on the open SQLite index if shutdown had
    # not closed the kernel on the thread that opened it.
    api.reset()
