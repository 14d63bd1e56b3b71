"""The hub server's JSON API: auth, publishing, versions, downloads, scoreboards, results,
Pareto fronts, migrations. Runs on SQLite, and on PostgreSQL where one can be started."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import tarfile
from typing import Any

import pytest

from tests.hub.conftest import MAX_UPLOAD, make_archive
from tests.hub.conftest_pg import BOARD, submission

RESULTS = f"/api/v1/scoreboards/{BOARD}/results"


def _blobs(root: str) -> list[str]:
    out = []
    for base, _, files in os.walk(os.path.join(root, "blobs")):
        out += [os.path.join(base, f) for f in files]
    return out


# -- migrations ---------------------------------------------------------------------------

def test_migrations_on_empty_db_are_idempotent(hub_db_url: str, hub_root: str) -> None:
    from sqlalchemy import inspect, text

    from cknowledge.hub.db import Database

    db = Database(hub_db_url)
    try:
        db.migrate()
        db.migrate()
        tables = set(inspect(db.reader).get_table_names())
        assert {"users", "components", "versions", "owners", "scoreboards", "results",
                "result_metrics", "alembic_version"} <= tables
        with db.reader.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars() \
                .all() == ["0004"]
            names = conn.execute(text("SELECT name FROM scoreboards")).scalars().all()
        assert names == [BOARD]
    finally:
        db.dispose()
    from cknowledge.hub import create_app

    create_app(hub_db_url, hub_root).state.hub.db.dispose()   # a restart migrates nothing


def test_sqlite_uses_wal(hub_client: Any, hub_db_url: str) -> None:
    if not hub_db_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    from sqlalchemy import text

    with hub_client.app.state.hub.db.reader.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


# -- auth ---------------------------------------------------------------------------------

def test_whoami_and_401(hub_client: Any, hub_users: Any) -> None:
    r = hub_client.get("/api/v1/whoami")
    assert r.status_code == 401 and r.json()["return"] == 13
    assert r.headers["www-authenticate"] == "Bearer"
    r = hub_client.get("/api/v1/whoami", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "not valid" in r.json()["error"]
    assert hub_client.get("/api/v1/whoami", headers=hub_users.auth("admin")).json() == \
        {"user": "admin", "admin": True}
    assert hub_client.get("/api/v1/whoami", headers=hub_users.auth("alice")).json() == \
        {"user": "alice", "admin": False}


def test_tokens_are_stored_hashed(hub_client: Any, hub_users: Any) -> None:
    from sqlalchemy import text

    with hub_client.app.state.hub.db.reader.connect() as conn:
        stored = {n: t for n, t in conn.execute(text("SELECT name, token_sha256 FROM users"))}
    for name, token in hub_users.tokens.items():
        assert stored[name] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in stored.values()


def test_writes_need_a_valid_token(hub_client: Any, hub_users: Any, hub_publish: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        assert hub_publish(headers, "dataset:x", "1.0.0").status_code == 401
        assert hub_client.post(RESULTS, json=submission(1), headers=headers).status_code == 401
        r = hub_client.post("/api/v1/scoreboards", headers=headers,
                            json={"name": "b", "metrics": [{"name": "m", "better": "higher"}]})
        assert r.status_code == 401
        r = hub_client.post("/api/v1/components/dataset/x/owners", json={"user": "bob"},
                            headers=headers)
        assert r.status_code == 401
    assert hub_client.get("/api/v1/components").json()["total"] == 0
    assert hub_client.get(f"/api/v1/scoreboards/{BOARD}").json()["count"] == 0


def test_add_user_rejects_duplicates_and_bad_names(hub_db_url: str, hub_root: str) -> None:
    from cknowledge.errors import AlreadyExists, InvalidInput
    from cknowledge.hub.admin import add_user, default_paths

    token = add_user(hub_db_url, hub_root, "carol")
    assert len(token) >= 40
    with pytest.raises(AlreadyExists):
        add_user(hub_db_url, hub_root, "carol")
    with pytest.raises(InvalidInput):
        add_user(hub_db_url, hub_root, "../x")
    url, root = default_paths("/tmp/somehome")
    assert root == "/tmp/somehome/hub" and url == "sqlite:////tmp/somehome/hub/hub.sqlite"


# -- publishing -----------------------------------------------------------------------------

def test_publish_owner_grant_and_immutable(hub_client: Any, hub_users: Any,
                                           hub_publish: Any) -> None:
    alice, bob = hub_users.auth("alice"), hub_users.auth("bob")
    r = hub_publish(alice, "model:resnet", "1.0.0",
                    meta={"tags": ["image", "classification"], "description": "ResNet-50"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["automation"] == "model" and body["version"] == "1.0.0"
    assert body["size"] > 0 and len(body["sha256"]) == 64
    info = hub_client.get("/api/v1/components/model/resnet").json()
    assert info["owners"] == ["alice"] and info["tags"] == ["classification", "image"]
    assert info["description"] == "ResNet-50"

    r = hub_publish(bob, "model:resnet", "1.1.0")
    assert r.status_code == 403 and r.json()["return"] == 7 and "owner" in r.json()["error"]
    r = hub_client.post("/api/v1/components/model/resnet/owners", json={"user": "alice"},
                        headers=bob)
    assert r.status_code == 403
    r = hub_client.post("/api/v1/components/model/resnet/owners", json={"user": "nobody"},
                        headers=alice)
    assert r.status_code == 404
    r = hub_client.post("/api/v1/components/model/resnet/owners", json={"user": "bob"},
                        headers=alice)
    assert r.status_code == 200 and r.json()["owners"] == ["alice", "bob"]
    assert hub_publish(bob, "model:resnet", "1.1.0").status_code == 201

    for again in ("1.0.0", "1.0", "1.1.0"):          # 1.0 is the same version as 1.0.0
        r = hub_publish(alice, "model:resnet", again, archive=make_archive(
            {"meta.json": b"{}", "changed.txt": b"other content"}))
        assert r.status_code == 409 and r.json()["return"] == 8, r.text
        assert "immutable" in r.json()["error"]
    versions = hub_client.get("/api/v1/components/model/resnet").json()["versions"]
    assert [(v["version"], v["publisher"]) for v in versions] == [("1.1.0", "bob"),
                                                                  ("1.0.0", "alice")]


@pytest.mark.parametrize("field,value,needle", [
    ("version", "not a version", "PEP 440"),
    ("meta", "{broken", "not valid JSON"),
    ("meta", "[1, 2]", "JSON object"),
    ("deps", '{"a": 1}', "JSON list"),
    ("deps", '[{"component": "nocolon", "range": ">=1"}]', "AUTOMATION:NAME"),
    ("deps", '[{"component": "model:x", "range": ">>1"}]', "version range"),
])
def test_publish_rejects_bad_fields(hub_client: Any, hub_users: Any, field: str, value: str,
                                    needle: str) -> None:
    data = {"version": "1.0.0", "meta": "{}", "deps": "[]", field: value}
    r = hub_client.post("/api/v1/components/model/x/versions", headers=hub_users.auth("alice"),
                        data=data, files={"archive": ("a.tar.gz", make_archive(), "x")})
    assert r.status_code == 422, r.text
    assert needle in r.json()["error"]
    assert _blobs(hub_client.app.state.hub.blobs.root) == []


def test_publish_rejects_unsafe_names(hub_client: Any, hub_users: Any, hub_publish: Any) -> None:
    r = hub_publish(hub_users.auth("alice"), "model:.git", "1.0.0")
    assert r.status_code == 422


def _symlink(tf: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("link")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    tf.addfile(info)


def _hardlink(tf: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("hard")
    info.type = tarfile.LNKTYPE
    info.linkname = "meta.json"
    tf.addfile(info)


def _device(tf: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("dev")
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    tf.addfile(info)


@pytest.mark.parametrize("archive,needle", [
    (lambda: make_archive({"meta.json": b"{}", "/etc/evil": b"x"}), "relative"),
    (lambda: make_archive({"meta.json": b"{}", "../evil": b"x"}), "relative"),
    (lambda: make_archive({"meta.json": b"{}", "a/../../evil": b"x"}), "relative"),
    (lambda: make_archive(extra=_symlink), "link"),
    (lambda: make_archive(extra=_hardlink), "link"),
    (lambda: make_archive(extra=_device), "special"),
    (lambda: make_archive({"readme.txt": b"no meta"}), "meta file"),
    (lambda: make_archive({"sub/meta.json": b"{}"}), "meta file"),
    (lambda: b"this is not a tar.gz at all", "readable"),
])
def test_unsafe_archives_are_refused_and_nothing_is_stored(
        hub_client: Any, hub_users: Any, hub_publish: Any, archive: Any, needle: str) -> None:
    r = hub_publish(hub_users.auth("alice"), "model:evil", "1.0.0", archive=archive())
    assert r.status_code == 422, r.text
    assert r.json()["return"] == 11 and needle in r.json()["error"]
    assert hub_client.get("/api/v1/components/model/evil").status_code == 404
    state = hub_client.app.state.hub
    assert _blobs(state.blobs.root) == [] and os.listdir(state.blobs.tmp) == []


def test_oversize_upload_is_413(hub_client: Any, hub_users: Any, hub_publish: Any) -> None:
    big = make_archive({"meta.json": b"{}", "data.bin": os.urandom(MAX_UPLOAD + 1024)})
    assert len(big) > MAX_UPLOAD
    r = hub_publish(hub_users.auth("alice"), "dataset:big", "1.0.0", archive=big)
    assert r.status_code == 413 and r.json()["return"] == 2, r.text
    huge = make_archive({"meta.json": b"{}", "data.bin": os.urandom(4 * MAX_UPLOAD)})
    r = hub_publish(hub_users.auth("alice"), "dataset:big", "1.0.0", archive=huge)
    assert r.status_code == 413
    assert hub_client.get("/api/v1/components/dataset/big").status_code == 404
    assert _blobs(hub_client.app.state.hub.blobs.root) == []


def test_unpacked_size_and_member_count_are_bounded(tmp_path: Any) -> None:
    from cknowledge.errors import ArchiveError
    from cknowledge.hub.problems import TooLarge
    from cknowledge.hub.storage import check_archive

    path = tmp_path / "zeros.tar.gz"
    path.write_bytes(make_archive({"meta.json": b"{}", "zeros": bytes(2_000_000)}))
    assert os.path.getsize(path) < 20_000           # compresses well: a bomb in miniature
    with pytest.raises(TooLarge):
        check_archive(str(path), max_unpacked=1_000_000)
    assert "zeros" in check_archive(str(path), max_unpacked=3_000_000)
    many = tmp_path / "many.tar.gz"
    many.write_bytes(make_archive({"meta.json": b"{}", **{f"f{i}": b"" for i in range(30)}}))
    with pytest.raises(ArchiveError, match="more than 20 members"):
        check_archive(str(many), max_unpacked=10**6, max_members=20)


def test_versions_order_download_and_checksum(hub_client: Any, hub_users: Any,
                                              hub_publish: Any) -> None:
    alice = hub_users.auth("alice")
    archives = {}
    for i, v in enumerate(["1.0.0", "2.0rc1", "1.10.0", "1.2.0", "2.0.0", "1.2.0.post1"]):
        archives[v] = make_archive({"meta.json": b"{}", "v.txt": f"{v}-{i}".encode()})
        deps = [{"component": "dataset:coco", "range": ">=1.0"}] if v == "2.0.0" else []
        assert hub_publish(alice, "model:m", v, archive=archives[v], deps=deps).status_code == 201
    info = hub_client.get("/api/v1/components/model/m").json()
    assert [v["version"] for v in info["versions"]] == \
        ["2.0.0", "2.0rc1", "1.10.0", "1.2.0.post1", "1.2.0", "1.0.0"]
    assert info["latest"] == "2.0.0"
    assert info["versions"][0]["deps"] == [{"component": "dataset:coco", "range": ">=1.0"}]
    listed = hub_client.get("/api/v1/components").json()["items"][0]
    assert listed["latest"] == "2.0.0" and listed["owner"] == "alice"
    for v, data in archives.items():
        r = hub_client.get(f"/api/v1/components/model/m/versions/{v}/archive")
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "application/gzip"
        sha = hashlib.sha256(data).hexdigest()
        assert r.headers["x-checksum-sha256"] == sha
        stored = os.path.join(hub_client.app.state.hub.blobs.root, "blobs", sha[:2], sha)
        assert open(stored, "rb").read() == data
    assert hub_client.get("/api/v1/components/model/m/versions/9.9/archive").status_code == 404
    assert hub_client.get("/api/v1/components/model/none/versions/1.0/archive").status_code \
        == 404


def test_same_content_is_stored_once(hub_client: Any, hub_users: Any, hub_publish: Any) -> None:
    data = make_archive()
    for cid in ("model:a", "model:b"):
        assert hub_publish(hub_users.auth("alice"), cid, "1.0.0", archive=data).status_code == 201
    assert len(_blobs(hub_client.app.state.hub.blobs.root)) == 1


def test_component_search(hub_client: Any, hub_users: Any, hub_publish: Any) -> None:
    alice = hub_users.auth("alice")
    hub_publish(alice, "dataset:coco", "1.0.0", meta={"tags": ["images", "detection"],
                                                      "description": "Common Objects"})
    hub_publish(alice, "model:retinanet", "1.0.0", meta={"tags": ["detection"]})
    hub_publish(alice, "script:build", "1.0.0", meta={"tags": "tool,build"})

    def names(**q: Any) -> list[str]:
        body = hub_client.get("/api/v1/components", params=q).json()
        return sorted(f"{i['automation']}:{i['name']}" for i in body["items"])

    assert names(q="objects") == ["dataset:coco"]
    assert names(q="RETINA") == ["model:retinanet"]
    assert names(tag="detection") == ["dataset:coco", "model:retinanet"]
    assert names(automation="script") == ["script:build"]
    assert names(tag="build") == ["script:build"]
    assert names(q="nothing-like-this") == []
    page = hub_client.get("/api/v1/components", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = hub_client.get("/api/v1/components", params={"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    assert hub_client.get("/api/v1/components", params={"limit": 0}).status_code == 422


# -- scoreboards and results ------------------------------------------------------------------

def test_scoreboards_builtin_and_create(hub_client: Any, hub_users: Any) -> None:
    boards = hub_client.get("/api/v1/scoreboards").json()["items"]
    assert [b["name"] for b in boards] == [BOARD]
    assert {m["name"]: m["better"] for m in boards[0]["metrics"]} == \
        {"qps": "higher", "latency_p90_ms": "lower", "map": "higher"}
    spec = {"name": "matmul", "title": "Matrix multiply", "description": "GFLOPS",
            "metrics": [{"name": "gflops", "unit": "GFLOP/s", "better": "higher"},
                        {"name": "energy_j", "better": "lower"}],
            "config_keys": ["n"], "required": ["gflops"]}
    r = hub_client.post("/api/v1/scoreboards", json=spec, headers=hub_users.auth("alice"))
    assert r.status_code == 403
    r = hub_client.post("/api/v1/scoreboards", json=spec, headers=hub_users.auth("admin"))
    assert r.status_code == 201 and r.json()["name"] == "matmul"
    r = hub_client.post("/api/v1/scoreboards", json=spec, headers=hub_users.auth("admin"))
    assert r.status_code == 409
    bad = {**spec, "name": "other", "required": ["nope"]}
    r = hub_client.post("/api/v1/scoreboards", json=bad, headers=hub_users.auth("admin"))
    assert r.status_code == 422 and "nope" in r.json()["error"]
    info = hub_client.get("/api/v1/scoreboards/matmul").json()
    assert info["count"] == 0 and info["required"] == ["gflops"] and info["config_keys"] == ["n"]
    r = hub_client.get("/api/v1/scoreboards/matmull")
    assert r.status_code == 404 and "matmul" in r.json()["error"]   # did you mean


@pytest.mark.parametrize("change,status,needle", [
    (lambda s: s["metrics"].pop("qps"), 422, "metrics.qps"),
    (lambda s: s["platform"].update(fingerprint="XYZ"), 422, "platform.fingerprint"),
    (lambda s: s.pop("solution"), 422, "solution"),
    (lambda s: s.update(unexpected=1), 422, "unexpected"),
    (lambda s: s["metrics"].update(qps="fast"), 422, "metrics.qps"),
    (lambda s: s["components"].append({"component": "no-colon", "version": "1"}), 422,
     "components.2.component"),
    (lambda s: s.update(reference=True), 403, "admin"),
])
def test_submission_validation(hub_client: Any, hub_users: Any, change: Any, status: int,
                               needle: str) -> None:
    body = submission(1)
    change(body)
    r = hub_client.post(RESULTS, json=body, headers=hub_users.auth("alice"))
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]
    assert hub_client.get(f"/api/v1/scoreboards/{BOARD}").json()["count"] == 0


def test_submit_to_unknown_scoreboard_is_404(hub_client: Any, hub_users: Any) -> None:
    r = hub_client.post("/api/v1/scoreboards/nope/results", json=submission(1),
                        headers=hub_users.auth("alice"))
    assert r.status_code == 404 and r.json()["return"] == 16


def test_dedup(hub_client: Any, hub_users: Any) -> None:
    body = submission(7)
    first = hub_client.post(RESULTS, json=body, headers=hub_users.auth("alice"))
    assert first.status_code == 201 and first.json()["duplicate"] is False
    again = hub_client.post(RESULTS, json=body, headers=hub_users.auth("bob"))
    assert again.status_code == 200 and again.json() == {"id": first.json()["id"],
                                                         "duplicate": True}
    later = copy.deepcopy(body)
    later["experiment"]["recorded_at"] = "2030-01-01T00:00:00Z"   # volatile: same result
    later = {k: later[k] for k in reversed(list(later))}          # key order does not count
    assert hub_client.post(RESULTS, json=later, headers=hub_users.auth("alice")).json()[
        "duplicate"] is True
    other = copy.deepcopy(body)
    other["metrics"]["qps"] += 1
    r = hub_client.post(RESULTS, json=other, headers=hub_users.auth("alice"))
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]
    assert hub_client.get(f"/api/v1/scoreboards/{BOARD}").json()["count"] == 2


def _fill(hub_client: Any, hub_users: Any, n: int = 14) -> list[dict[str, Any]]:
    posted = []
    for i in range(n):
        body = submission(i)
        if i % 5 == 4:
            body["metrics"].pop("map")              # an optional metric may be missing
        ref = i in (0, 9)
        body["reference"] = ref
        who = "admin" if ref else ("alice", "bob")[i % 2]
        r = hub_client.post(RESULTS, json=body, headers=hub_users.auth(who))
        assert r.status_code == 201, r.text
        posted.append({**body, "id": r.json()["id"]})
    return posted


def _all(hub_client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = hub_client.get(RESULTS, params={**params, "limit": 4, "offset": offset}).json()
        items += page["items"]
        offset += 4
        if offset >= page["total"]:
            assert len(items) == page["total"]
            return items


def test_results_sort_filter_paginate(hub_client: Any, hub_users: Any) -> None:
    posted = _fill(hub_client, hub_users)
    default = hub_client.get(RESULTS).json()
    assert default["total"] == 14 and default["sort"] == "qps" and default["order"] == "desc"
    qps = [r["metrics"]["qps"] for r in default["items"]]
    assert qps == sorted((p["metrics"]["qps"] for p in posted), reverse=True)
    lat = [r["metrics"]["latency_p90_ms"] for r in _all(hub_client, sort="latency_p90_ms")]
    assert lat == sorted(p["metrics"]["latency_p90_ms"] for p in posted)   # lower is better
    up = [r["metrics"]["qps"] for r in _all(hub_client, sort="qps", order="asc")]
    assert up == sorted(qps)
    by_map = _all(hub_client, sort="map", order="asc")
    have = [r["metrics"]["map"] for r in by_map if "map" in r["metrics"]]
    assert have == sorted(have) and len(have) == 12
    assert all("map" not in r["metrics"] for r in by_map[12:])          # missing ones last
    newest = _all(hub_client, sort="submitted_at")
    assert [r["id"] for r in newest] == sorted((p["id"] for p in posted), reverse=True)

    def ids(**q: Any) -> set[int]:
        return {r["id"] for r in _all(hub_client, **q)}

    fp = posted[1]["platform"]["fingerprint"]
    assert ids(platform=fp) == {p["id"] for p in posted if p["platform"]["fingerprint"] == fp}
    assert ids(backend="tvm") == {p["id"] for p in posted if p["config"]["backend"] == "tvm"}
    assert ids(version="1.1.0") == {p["id"] for p in posted
                                    if p["solution"]["version"] == "1.1.0"}
    assert ids(reference="true") == {posted[0]["id"], posted[9]["id"]}
    assert len(ids(reference="false")) == 12
    both = ids(backend="pytorch", version="1.1.0", sort="latency_p90_ms")
    assert both == {p["id"] for p in posted if p["config"]["backend"] == "pytorch"
                    and p["solution"]["version"] == "1.1.0"}
    item = default["items"][0]
    assert set(item) >= {"id", "submitter", "submitted_at", "solution_version",
                         "platform_fingerprint", "platform_summary", "config", "metrics",
                         "reference"}
    assert item["platform_summary"].startswith("Linux")
    for bad in ({"sort": "nope"}, {"order": "sideways"}, {"reference": "maybe"},
                {"limit": 100000}, {"offset": -1}):
        r = hub_client.get(RESULTS, params=bad)
        assert r.status_code == 422, (bad, r.text)


def test_result_detail(hub_client: Any, hub_users: Any) -> None:
    body = submission(3)
    body["lockfile"] = {"format": 1, "steps": [{"name": "detect,python", "version": "3.11"}]}
    rid = hub_client.post(RESULTS, json=body, headers=hub_users.auth("bob")).json()["id"]
    full = hub_client.get(f"/api/v1/results/{rid}").json()
    assert full["submitter"] == "bob" and full["submitted_at"].endswith("Z")
    for key in ("solution", "components", "config", "metrics", "statistics", "platform",
                "lockfile", "experiment"):
        assert full[key] == body[key], key
    assert full["scoreboard"] == BOARD and full["id"] == rid
    assert hub_client.get("/api/v1/results/999999").status_code == 404
    assert hub_client.get("/api/v1/results/abc").status_code == 422


def test_pareto_front(hub_client: Any, hub_users: Any) -> None:
    posted = _fill(hub_client, hub_users, n=20)
    out = hub_client.get(f"/api/v1/scoreboards/{BOARD}/pareto",
                         params={"x": "qps", "y": "latency_p90_ms"}).json()
    pts = {p["id"]: (p["metrics"]["qps"], p["metrics"]["latency_p90_ms"]) for p in posted}

    def dominated(a: tuple[float, float]) -> bool:
        return any(b[0] >= a[0] and b[1] <= a[1] and b != a for b in pts.values())

    assert set(out["front"]) == {i for i, p in pts.items() if not dominated(p)}
    assert len(out["points"]) == 20 and out["total"] == 20
    assert {p["id"] for p in out["points"] if p["front"]} == set(out["front"])
    only = hub_client.get(f"/api/v1/scoreboards/{BOARD}/pareto",
                          params={"x": "qps", "y": "map", "backend": "tvm"}).json()
    assert {p["id"] for p in only["points"]} <= {p["id"] for p in posted
                                                 if p["config"]["backend"] == "tvm"}
    r = hub_client.get(f"/api/v1/scoreboards/{BOARD}/pareto", params={"x": "qps", "y": "zz"})
    assert r.status_code == 422 and "zz" in r.json()["error"]


def test_openapi_lists_the_api(hub_client: Any) -> None:
    paths = hub_client.get("/openapi.json").json()["paths"]
    for p in ("/api/v1/whoami", "/api/v1/components", "/api/v1/components/{automation}/{name}",
              "/api/v1/components/{automation}/{name}/versions",
              "/api/v1/components/{automation}/{name}/owners",
              "/api/v1/components/{automation}/{name}/versions/{version}/archive",
              "/api/v1/scoreboards", "/api/v1/scoreboards/{name}",
              "/api/v1/scoreboards/{name}/results", "/api/v1/scoreboards/{name}/pareto",
              "/api/v1/results/{result_id}"):
        assert p in paths, p
    r = hub_client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["return"] == 16


def test_json_body_limit(hub_client: Any, hub_users: Any) -> None:
    body = submission(1)
    body["lockfile"] = {"pad": "x" * (5 * 1024 * 1024)}
    r = hub_client.post(RESULTS, content=json.dumps(body), headers={
        **hub_users.auth("alice"), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_chunked_upload_over_limit_is_413(hub_client: Any, hub_users: Any) -> None:
    """Without a Content-Length the running byte count still stops the upload."""
    archive = make_archive({"meta.json": b"{}", "d": os.urandom(2 * MAX_UPLOAD)})
    boundary = "ckboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n1.0.0\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"archive\"; "
            f"filename=\"a.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Any:
        yield head
        stream = io.BytesIO(archive)
        while chunk := stream.read(65536):
            yield chunk
        yield tail

    r = hub_client.post("/api/v1/components/dataset/chunked/versions", content=chunks(),
                        headers={**hub_users.auth("alice"),
                                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413, r.text
