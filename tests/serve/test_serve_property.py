"""Property-based boundary test of the REST API (Hypothesis): whatever is sent, the answer
is an ``access()``-shaped JSON object with a 4xx status (or 200), never an internal error
(5xx, ``return`` 1). The one 5xx allowed is 502 with code 15: an upstream server (the
hub) could not be reached, which is the truthful answer and not a fault of the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
hypothesis = pytest.importorskip("hypothesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cknowledge import api  # noqa: E402
from cknowledge.kernel.registry import BUILTIN  # noqa: E402
from cknowledge.serve.app import close_kernels, create_app  # noqa: E402

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: actions that stay on this machine's CK home (no network, no builds): the token holder's
CORE = ["find", "load", "add", "update", "rm", "ren", "cp", "mv", "help", "version", "show",
        "compare", "list", "search", "hello", "export"]
ACTIONS = CORE + ["detect", "whoami", "status", "versions", "run", "install", "gc",
                  "frobnicate", ""]
KEYS = ["artifact", "tags", "no_tags", "repo", "meta", "with_meta", "force", "new_name",
        "target", "metric", "version", "topic", "who", "q", "limit", "offset", "artifacts",
        "refresh", "python", "paths", "hub", "file", "home", "action", "automation"]
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

texts = st.text(max_size=20) | st.sampled_from(["d1", "local:d1", "*", "a,b", "-a", "",
                                                 "../x", "/etc", "builtin:x", "\x00", "a" * 300])
scalars = (st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70)
           | st.floats(allow_nan=False) | texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(texts, inner, max_size=4), max_leaves=8)


def requests(actions: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    base = st.fixed_dictionaries(
        {"action": st.sampled_from(actions) | st.text(max_size=8) | values},
        optional={"automation": st.sampled_from(sorted(BUILTIN)) | texts | values})
    extra = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), values, max_size=4)
    return st.tuples(base, extra).map(lambda pair: {**pair[1], **pair[0]})


@pytest.fixture
def client(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("CK_HUB_URL", "http://127.0.0.1:9")   # nothing listens: fails fast
    try:
        with TestClient(create_app(home=str(home), token=TOKEN), raise_server_exceptions=False
                        ) as c:
            for i in range(2):
                c.post("/api/v1/access", headers=AUTH, json={
                    "action": "add", "automation": "dataset", "artifact": f"d{i}",
                    "tags": "a,b"})
            yield c
    finally:
        close_kernels()
        api.reset()


def check(resp: Any) -> None:
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("return"), int), resp.text
    assert body["return"] != 1, resp.text
    if resp.status_code >= 500:
        assert (resp.status_code, body["return"]) == (502, 15), resp.text
    assert (resp.status_code == 200) == (body["return"] == 0), resp.text
    if body["return"]:
        assert isinstance(body.get("error"), str) and body["error"], resp.text


@SETTINGS
@given(request=requests(ACTIONS))
def test_any_request_without_token(client: TestClient, request: dict[str, Any]) -> None:
    check(client.post("/api/v1/access", content=json.dumps(request).encode(),
                      headers={"Content-Type": "application/json"}))


@SETTINGS
@given(request=requests(CORE))
def test_any_core_request_with_token(client: TestClient, request: dict[str, Any]) -> None:
    check(client.post("/api/v1/access", content=json.dumps(request).encode(),
                      headers={**AUTH, "Content-Type": "application/json"}))


@SETTINGS
@given(body=st.binary(max_size=200),
       ctype=st.sampled_from(["application/json", "text/plain", "", "application/x+json"]),
       auth=st.sampled_from([{}, AUTH, {"Authorization": "Bearer x"}, {"Authorization": "x"}]))
def test_any_body(client: TestClient, body: bytes, ctype: str, auth: dict[str, str]) -> None:
    headers = {**auth, **({"Content-Type": ctype} if ctype else {})}
    check(client.post("/api/v1/access", content=body, headers=headers))


segments = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12)


@SETTINGS
@given(path=st.lists(segments, min_size=0, max_size=3),
       query=st.dictionaries(st.sampled_from(["tags", "artifact", "repo", "no_tags",
                                              "with_meta"]) | st.text(max_size=6),
                             st.text(max_size=12), max_size=3))
def test_any_get(client: TestClient, path: list[str], query: dict[str, str]) -> None:
    from urllib.parse import quote

    url = "/api/v1/" + "/".join(quote(p, safe="") for p in path)
    check(client.get(url, params=query))

