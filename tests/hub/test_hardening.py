"""Hostile requests to the hub: writes are authenticated before their bodies are judged,
malformed JSON is 400, booleans are not metrics, searches are bounded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hub.conftest import make_archive
from tests.hub.conftest_pg import BOARD, submission

RESULTS = f"/api/v1/scoreboards/{BOARD}/results"
#: every write route of the API with a body it would refuse (422)
WRITES = [
    ("/api/v1/scoreboards", {"name": "../x"}),
    (RESULTS, {"nonsense": 1}),
    ("/api/v1/components/dataset/x/owners", {"user": ""}),
]


@pytest.mark.parametrize(("path", "body"), WRITES)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "Basic abc"}])
def test_writes_are_authenticated_before_their_bodies(hub_client: Any, path: str,
                                                      body: dict[str, Any],
                                                      headers: dict[str, str]) -> None:
    for kwargs in ({"json": body}, {"content": b"{not json"}, {"content": b""}):
        r = hub_client.post(path, headers={**headers, "Content-Type": "application/json"},
                            **kwargs)
        assert r.status_code == 401, (kwargs, r.text)
        assert r.json()["return"] == 13 and r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_publish_is_authenticated_before_its_form(hub_client: Any,
                                                  headers: dict[str, str]) -> None:
    r = hub_client.post("/api/v1/components/dataset/x/versions", headers=headers,
                        data={"meta": "{"}, files={"other": ("a", b"x")})
    assert r.status_code == 401, r.text


def test_malformed_json_is_400_with_a_valid_token(hub_client: Any, hub_users: Any) -> None:
    for path, _ in WRITES:
        r = hub_client.post(path, content=b'{"a": ', headers={
            **hub_users.auth("admin"), "Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        assert r.json()["return"] == 2 and "not valid JSON" in r.json()["error"]


def test_a_valid_token_still_gets_422_for_a_bad_body(hub_client: Any, hub_users: Any) -> None:
    r = hub_client.post(RESULTS, json={"nonsense": 1}, headers=hub_users.auth("alice"))
    assert r.status_code == 422 and "nonsense" in r.json()["error"]


@pytest.mark.parametrize("change", [
    lambda s: s["metrics"].update(qps=True),
    lambda s: s["metrics"].update(map=False),
    lambda s: s["statistics"]["qps"].update(mean=True),
    lambda s: s["statistics"]["qps"].update(n=True),
])
def test_a_boolean_is_not_a_metric(hub_client: Any, hub_users: Any, change: Any) -> None:
    body = submission(1)
    change(body)
    r = hub_client.post(RESULTS, json=body, headers=hub_users.auth("alice"))
    assert r.status_code == 422, r.text
    assert "boolean" in r.json()["error"]
    assert hub_client.get(f"/api/v1/scoreboards/{BOARD}").json()["count"] == 0


def test_integer_metrics_are_still_numbers(hub_client: Any, hub_users: Any) -> None:
    body = submission(1)
    body["metrics"]["qps"] = 100
    r = hub_client.post(RESULTS, json=body, headers=hub_users.auth("alice"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("key", ["q", "automation", "tag"])
def test_a_huge_search_is_422_not_503(hub_client: Any, key: str) -> None:
    for text in ("a" * 50_001, "%" * 20_000, "_" * 401):
        r = hub_client.get("/api/v1/components", params={key: text})
        assert r.status_code == 422, (key, len(text), r.status_code)
        assert r.json()["return"] == 2 and "400" in r.json()["error"]
    page = hub_client.get("/components", params={key: "a" * 50_001})
    assert page.status_code == 422
    assert hub_client.get("/api/v1/components", params={key: "a" * 400}).status_code == 200


_MIGRATE = """
import sys, time
from cknowledge.hub.db import Database
db = Database(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))   # all start at the same moment
db.migrate()
"""


def test_concurrent_first_starts_on_postgresql_migrate_once(pg_cluster: Any) -> None:
    """Server processes started at once on a new PostgreSQL database: the advisory lock
    makes them migrate one after the other; none fails, the schema is at head once."""
    import subprocess
    import sys
    import time

    import sqlalchemy as sa

    from cknowledge.hub.db import Database

    for _ in range(2):
        name = pg_cluster.create_db()
        url = pg_cluster.url(name)
        db = Database(url)
        try:
            at = str(time.time() + 4)
            procs = [subprocess.Popen([sys.executable, "-c", _MIGRATE, url, at],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                     for _ in range(4)]
            outs = [(p.wait(120), p.stdout.read().decode() if p.stdout else "")
                    for p in procs]
            assert [rc for rc, _ in outs] == [0] * 4, [out for _, out in outs]
            with db.read() as s:
                assert s.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
                assert s.execute(sa.text("SELECT count(*) FROM scoreboards")).scalar() == 1
        finally:
            db.dispose()
            pg_cluster.drop_db(name)


# -- PEP 440 versions ---------------------------------------------------------------------

def test_versions_are_ordered_and_keyed_by_pep440(hub_client: Any, hub_users: Any,
                                                 hub_publish: Any) -> None:
    alice = hub_users.auth("alice")
    for v in ["2.0", "1!0.5", "2.0.post1", "2.0rc1", "2.0rc1.post1", "2.0.dev1", "2.0+local.1",
              "2.0.post1.dev1"]:
        r = hub_publish(alice, "model:p", v, archive=make_archive({"meta.json": b"{}",
                                                                   "v": v.encode()}))
        assert r.status_code == 201, (v, r.text)
    info = hub_client.get("/api/v1/components/model/p").json()
    assert [v["version"] for v in info["versions"]] == [
        "1!0.5", "2.0.post1", "2.0.post1.dev1", "2.0+local.1", "2.0", "2.0rc1.post1",
        "2.0rc1", "2.0.dev1"]
    assert info["latest"] == "1!0.5"   # an epoch outranks every version without one
    for same, stored in (("2.0.0", "2.0"), ("2.0-1", "2.0.post1"), ("v2.0", "2.0"),
                         ("0!2.0", "2.0"), ("2.0RC1", "2.0rc1")):
        r = hub_publish(alice, "model:p", same)
        assert r.status_code == 409 and stored in r.json()["error"], (same, r.text)
        found = hub_client.get(f"/api/v1/components/model/p/versions/{same}/archive")
        assert found.status_code == 200 and \
            _member(found.content, "v") == stored.encode(), same
    assert hub_client.get("/api/v1/components/model/p/versions/2.0+other/archive"
                          ).status_code == 404


def _member(archive: bytes, name: str) -> bytes:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
        member = tf.extractfile(name)
        assert member is not None
        return member.read()


def test_the_client_resolves_in_pep440_order() -> None:
    from cknowledge.client.resolve import Range, Version, resolve

    published = ["1.0", "1!0.1", "2.0.post1", "2.0", "2.0rc1", "2.0+local", "2.1.dev1"]

    def fetch(ident: str) -> dict[str, Any]:
        return {"versions": [{"version": v, "deps": []} for v in published]}

    def chosen(rng: str | None = None) -> str:
        return resolve(fetch, "model:m", rng)[0].version.text

    assert chosen() == "1!0.1"                     # the epoch wins
    assert chosen("<1!0") == "2.0.post1"           # then the post-release
    assert chosen("==2.0") == "2.0+local"          # == admits local versions (PEP 440)
    assert chosen("<2.0") == "1.0"                 # <V excludes V's pre-releases (PEP 440)
    assert chosen("<2.1") == "2.0.post1"           # 2.1.dev1 is a pre-release: not chosen
    assert chosen(">=2.1.dev1,<1!0") == "2.1.dev1"   # unless the range names one
    assert chosen(">2.0.post1,<1!0") == "2.1.dev1"   # nothing else fits
    assert sorted(map(Version, published))[-1].text == "1!0.1"
    assert Version("1.0-1") == Version("1.0.post1") and Version("1.0") != Version("1.0+x")
    assert Range(">=1.0,<2").admits(Version("1.5")) and not Range("<2").admits(Version("1!1"))
    assert Range("~=1.0").admits(Version("1.9"))


@pytest.mark.parametrize("module", ["uvicorn", "fastapi", "sqlalchemy", "python_multipart"])
def test_hub_serve_without_its_packages_is_one_line(tmp_path: Any, module: str) -> None:
    """``ck hub serve`` where a server package is missing: one line naming the extra."""
    import os
    import subprocess
    import sys

    from tests.conftest import SRC

    blocked = [module, "multipart"] if module == "python_multipart" else [module]
    code = ("import sys\n"
            f"for m in {blocked!r}: sys.modules[m] = None\n"
            "from cknowledge.cli.main import main\n"
            "sys.exit(main(['hub', 'serve', '--port=0']))\n")
    env = dict(os.environ, CK_HOME=str(tmp_path / "home"),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    package = "python-multipart" if module == "python_multipart" else module
    assert lines[0] == (f"ck: error: 'ck hub serve' needs the hub's server packages "
                        f"({package} is missing): pip install 'cknowledge[hub]'")
    assert not (tmp_path / "home" / "hub").exists()


@pytest.mark.parametrize(("url", "key"), [
    ("/api/v1/components?tagg=x", "tagg"), ("/api/v1/scoreboards?x=1", "x"),
    (f"/api/v1/scoreboards/{BOARD}/results?sortt=qps", "sortt"),
    (f"/api/v1/scoreboards/{BOARD}/pareto?x=qps&y=map&z=1", "z"),
    ("/api/v1/whoami?user=admin", "user"),
])
def test_unknown_query_parameters_are_refused(hub_client: Any, url: str, key: str) -> None:
    r = hub_client.get(url)
    assert r.status_code == 422, r.text
    assert r.json()["return"] == 2 and repr(key) in r.json()["error"]


def test_known_query_parameters_still_work(hub_client: Any) -> None:
    assert hub_client.get("/api/v1/components?q=x&tag=y&limit=5&offset=0").status_code == 200
    r = hub_client.get(f"/api/v1/scoreboards/{BOARD}/results?sort=qps&order=desc&limit=5")
    assert r.status_code == 200


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_write_body_that_is_not_json_is_415(hub_client: Any, hub_users: Any,
                                              ctype: str | None) -> None:
    import json

    headers = {**hub_users.auth("alice"), **({"Content-Type": ctype} if ctype else {})}
    r = hub_client.post(RESULTS, content=json.dumps(submission(1)).encode(), headers=headers)
    assert r.status_code == 415 and r.json()["return"] == 2, r.text
    assert "application/json" in r.json()["error"]
    r = hub_client.post(RESULTS, content=b"{}", headers={**headers, "Authorization": "Bearer x"})
    assert r.status_code == 401   # authenticated first
    r = hub_client.post("/api/v1/components/dataset/x/versions", json={"version": "1.0"},
                        headers=hub_users.auth("alice"))
    assert r.status_code == 415 and "multipart/form-data" in r.json()["error"]
