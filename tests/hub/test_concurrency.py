"""50 concurrent clients submit results to a real uvicorn hub over loopback, on SQLite and
on PostgreSQL: every result is stored exactly once, none is lost, no answer is a 5xx."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.hub.conftest_pg import BOARD, LiveHub, submission

CLIENTS = 50
PER_CLIENT = 6      # distinct results per client
SHARED = 5          # results every client also posts (the same bodies, racing)


def _plan(c: int) -> list[tuple[str, dict[str, Any]]]:
    """What client ``c`` posts: its own results interleaved with the shared ones."""
    own = [(f"r{n}", submission(n, tag="client"))
           for n in range(c * PER_CLIENT, (c + 1) * PER_CLIENT)]
    shared = [(f"shared{s}", submission(10_000 + s, tag="shared")) for s in range(SHARED)]
    plan: list[tuple[str, dict[str, Any]]] = []
    for k in range(max(len(own), len(shared))):
        plan += shared[k:k + 1] + own[k:k + 1]
    return plan


def _hammer(hub: LiveHub) -> None:
    tokens = [hub.add_user(f"user{k}") for k in range(5)]
    answers: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(c: int) -> None:
        try:
            headers = {"Authorization": f"Bearer {tokens[c % len(tokens)]}"}
            with httpx.Client(base_url=hub.url, headers=headers, timeout=120) as http:
                barrier.wait(timeout=60)
                for key, body in _plan(c):
                    r = http.post(f"/api/v1/scoreboards/{BOARD}/results", json=body)
                    with lock:
                        answers.append((key, r.status_code, r.text))
        except BaseException as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    assert len(answers) == CLIENTS * (PER_CLIENT + SHARED)
    bad = [a for a in answers if a[1] not in (200, 201)]
    assert not bad, f"{len(bad)} failed submissions, first: {bad[:3]}\n{hub.log()[-3000:]}"

    ids_by_key: dict[str, set[int]] = {}
    created: dict[str, int] = {}
    for key, status, text in answers:
        body = json.loads(text)
        ids_by_key.setdefault(key, set()).add(body["id"])
        assert body["duplicate"] is (status == 200), (key, status, body)
        if status == 201:
            created[key] = created.get(key, 0) + 1
    distinct = CLIENTS * PER_CLIENT + SHARED
    assert len(ids_by_key) == distinct
    # one id per distinct result, and exactly one 201 for it
    assert all(len(ids) == 1 for ids in ids_by_key.values()), \
        {k: v for k, v in ids_by_key.items() if len(v) > 1}
    assert sorted(created) == sorted(ids_by_key) and set(created.values()) == {1}
    id_of = {key: next(iter(ids)) for key, ids in ids_by_key.items()}
    assert len(set(id_of.values())) == distinct

    with httpx.Client(base_url=hub.url, timeout=60) as http:
        board = http.get(f"/api/v1/scoreboards/{BOARD}").json()
        assert board["count"] == distinct
        listed: set[int] = set()
        offset = 0
        while True:
            r = http.get(f"/api/v1/scoreboards/{BOARD}/results",
                         params={"limit": 50, "offset": offset, "sort": "qps", "order": "desc"})
            assert r.status_code == 200, r.text
            page = r.json()
            assert page["total"] == distinct
            listed |= {item["id"] for item in page["items"]}
            offset += 50
            if offset >= page["total"]:
                break
        assert listed == set(id_of.values())
        sent = dict(_plan(0)) | dict(_plan(CLIENTS - 1))
        for key, body in sent.items():
            r = http.get(f"/api/v1/results/{id_of[key]}")
            assert r.status_code == 200, r.text
            full = r.json()
            assert full["metrics"] == body["metrics"], (key, full)
            assert full["config"] == body["config"], (key, full)


@pytest.mark.slow
def test_concurrent_submissions_sqlite(live_hub: Callable[..., LiveHub]) -> None:
    _hammer(live_hub())


@pytest.mark.slow
def test_concurrent_submissions_postgresql(live_hub: Callable[..., LiveHub], pg_url: str) -> None:
    _hammer(live_hub(db_url=pg_url))
