"""Papers on the hub: reproductions submitted by other users appear on the paper's page
with a verdict per claim, badges follow the evidence, and private papers, components and
scoreboards leak nowhere: every API route of the OpenAPI spec and every web page, tried by
an outsider (no token, another user's token), answers exactly as for a name that does not
exist, and listings, searches, counts and plots hold nothing private."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.hub.conftest import Users, make_archive
from tests.hub.conftest_pg import BOARD, submission

MARK = "zzsecret"
PAPER_META = {
    "title": "A live paper", "authors": ["Alice"], "venue": "Test venue",
    "claims": [
        {"id": "acc", "figure": "Table 1", "title": "accuracy", "value": 86.7, "unit": "%",
         "tolerance": {"abs": 0.5}, "metric": "metrics.map",
         "workflow": {"action": "benchmark", "automation": "solution", "artifact": "s"}},
        {"id": "speed", "figure": "Table 1", "title": "speed", "value": 30.0,
         "tolerance": {"rel": 0.5}, "metric": "metrics.qps", "hardware": "same",
         "workflow": {"action": "benchmark", "automation": "solution", "artifact": "s"}}],
    "artifacts": [{"component": "dataset:open-data", "version": ">=1.0"}],
}


def publish(client: Any, headers: dict[str, str], cid: str, meta: dict[str, Any],
            private: bool = False, version: str = "1.0") -> Any:
    auto, name = cid.split(":", 1)
    r = client.post(f"/api/v1/components/{auto}/{name}/versions", headers=headers,
                    data={"version": version, "meta": json.dumps(meta), "deps": "[]",
                          "private": "true" if private else "false"},
                    files={"archive": ("e.tar.gz", make_archive(), "application/gzip")})
    assert r.status_code == 201, r.text
    return r


def reproduction(verdicts: dict[str, str], fp: str = "0123456789abcdef",
                 cpu: str = "Test CPU") -> dict[str, Any]:
    return {"paper_version": "1.0",
            "claims": {k: {"verdict": v, "measured": 1.0} for k, v in verdicts.items()},
            "platform": {"fingerprint": fp, "facts": {"os": "Linux", "cpu": cpu}},
            "complete": True, "cknowledge": "0.1.0"}


def badges(page: dict[str, Any]) -> dict[str, bool]:
    return {b["badge"]: b["earned"] for b in page["badges"]}


def test_a_second_users_reproduction_appears_on_the_page(hub_client: Any,
                                                          hub_users: Users) -> None:
    c, alice, bob = hub_client, hub_users.auth("alice"), hub_users.auth("bob")
    publish(c, alice, "paper:live", PAPER_META)
    page = c.get("/api/v1/papers/live").json()
    assert [x["id"] for x in page["claims"]] == ["acc", "speed"]
    assert page["command"] == "ck reproduce paper:live" and page["reproductions"] == 0
    assert badges(page) == {"available": False, "functional": False, "reproduced": False}

    # the author's own run makes it functional, not reproduced
    r = c.post("/api/v1/papers/live/reproductions", headers=alice,
               json=reproduction({"acc": "reproduced", "speed": "reproduced"}))
    assert r.status_code == 201
    page = c.get("/api/v1/papers/live").json()
    assert badges(page) == {"available": False, "functional": True, "reproduced": False}

    # bob reproduces one claim; the other is on another hardware class
    r = c.post("/api/v1/papers/live/reproductions", headers=bob,
               json=reproduction({"acc": "reproduced", "speed": "not_comparable"},
                                 fp="fedcba9876543210", cpu="Bob's CPU"))
    assert r.status_code == 201 and r.json()["duplicate"] is False
    again = c.post("/api/v1/papers/live/reproductions", headers=bob,
                   json=reproduction({"acc": "reproduced", "speed": "not_comparable"},
                                     fp="fedcba9876543210", cpu="Bob's CPU"))
    assert again.status_code == 200 and again.json() == {"id": r.json()["id"],
                                                         "duplicate": True}
    page = c.get("/api/v1/papers/live").json()
    assert page["reproductions"] == 2 and page["items"][0]["submitter"] == "bob"
    assert page["items"][0]["verdicts"] == {"acc": "reproduced", "speed": "not_comparable"}
    counts = {x["id"]: x["counts"] for x in page["claims"]}
    assert counts == {"acc": {"reproduced": 2},
                      "speed": {"reproduced": 1, "not_comparable": 1}}
    assert badges(page)["reproduced"] is False   # speed: only by its owner
    c.post("/api/v1/papers/live/reproductions", headers=bob,
           json=reproduction({"acc": "reproduced", "speed": "reproduced"}))
    assert badges(c.get("/api/v1/papers/live").json())["reproduced"] is True
    # made an owner, bob's runs are the authors' own: not evidence of reproduction
    c.post("/api/v1/components/paper/live/owners", headers=alice, json={"user": "bob"})
    assert badges(c.get("/api/v1/papers/live").json())["reproduced"] is False
    c.post("/api/v1/papers/live/reproductions", headers=hub_users.auth("admin"),
           json=reproduction({"acc": "reproduced", "speed": "reproduced"}))
    assert badges(c.get("/api/v1/papers/live").json())["reproduced"] is True

    # available once the listed artifact is published too
    publish(c, bob, "dataset:open-data", {"tags": ["d"]})
    assert badges(c.get("/api/v1/papers/live").json())["available"] is True

    html = c.get("/papers/live")
    assert html.status_code == 200
    assert "Bob&#39;s CPU" in html.text and "ck reproduce paper:live" in html.text
    assert re.search(r'data-badge="reproduced" data-earned="true"', html.text)
    listing = c.get("/api/v1/papers").json()
    assert listing["total"] == 1 and listing["items"][0]["reproductions"] == 4


def test_reproductions_are_checked(hub_client: Any, hub_users: Users) -> None:
    c, alice = hub_client, hub_users.auth("alice")
    publish(c, alice, "paper:p", PAPER_META)
    bad = c.post("/api/v1/papers/p/reproductions", headers=alice,
                 json=reproduction({"nope": "reproduced"}))
    assert bad.status_code == 422 and "no claim 'nope'" in bad.json()["error"]
    bad = c.post("/api/v1/papers/p/reproductions", headers=alice,
                 json=reproduction({"acc": "great"}))
    assert bad.status_code == 422 and "claims.acc.verdict" in bad.json()["error"]
    bad = c.post("/api/v1/papers/p/reproductions", json=reproduction({"acc": "reproduced"}))
    assert bad.status_code == 401
    missing = c.post("/api/v1/papers/none/reproductions", headers=alice,
                     json=reproduction({"acc": "reproduced"}))
    assert missing.status_code == 404


# -- private items: zero leaks ---------------------------------------------------------------

class World:
    """Private items of alice (a paper and a dataset) and of the admin (a scoreboard with a
    result), each shared with bob; eve is an outsider. Public twins exist beside them."""

    def __init__(self, c: Any, users: Users) -> None:
        self.c = c
        self.users = users
        admin, alice = users.auth("admin"), users.auth("alice")
        from cknowledge.hub.admin import add_user

        hub = c.app.state.hub
        self.eve = {"Authorization": "Bearer " + add_user(hub.db.url, hub.blobs.root, "eve")}
        meta = {**PAPER_META, "title": f"{MARK} paper", "abstract": MARK}
        publish(c, alice, f"paper:{MARK}-paper", meta, private=True)
        publish(c, alice, f"dataset:{MARK}-data", {"tags": [MARK], "description": MARK},
                private=True)
        publish(c, alice, "paper:open-paper", PAPER_META)
        publish(c, alice, "dataset:open-data", {"tags": ["open"]})
        board = {"name": f"{MARK}-board", "title": MARK, "private": True,
                 "metrics": [{"name": "qps", "better": "higher"},
                             {"name": "latency_p90_ms", "better": "lower"}]}
        assert c.post("/api/v1/scoreboards", headers=admin, json=board).status_code == 201
        sub = submission(1, tag=MARK)
        r = c.post(f"/api/v1/scoreboards/{MARK}-board/results", headers=admin, json=sub)
        assert r.status_code == 201, r.text
        self.result = r.json()["id"]
        public = c.post(f"/api/v1/scoreboards/{BOARD}/results", headers=admin,
                        json=submission(2))
        self.public_result = public.json()["id"]
        for path in (f"/api/v1/components/paper/{MARK}-paper/readers",
                     f"/api/v1/components/dataset/{MARK}-data/readers",
                     f"/api/v1/scoreboards/{MARK}-board/readers"):
            who = admin if "scoreboards" in path else alice
            assert c.post(path, headers=who, json={"user": "bob"}).status_code == 200
        r = c.post(f"/api/v1/papers/{MARK}-paper/reproductions", headers=users.auth("bob"),
                   json=reproduction({"acc": "reproduced", "speed": "reproduced"},
                                     cpu=MARK))
        assert r.status_code == 201


#: values of path parameters: the private item's, and a free name of the same shape
PRIVATE = {"automation": ["paper", "dataset"], "name": [f"{MARK}-paper", f"{MARK}-data",
                                                        f"{MARK}-board"],
           "version": ["1.0"]}
FREE = {f"{MARK}-paper": "nothing-paper", f"{MARK}-data": "nothing-data",
        f"{MARK}-board": "nothing-board"}


def _paths(template: str, result: int) -> list[tuple[str, str]]:
    """(URL with private names, the same URL with free names) for a route template."""
    names = re.findall(r"{(\w+)}", template)
    if names == ["result_id"]:
        return [(template.replace("{result_id}", str(result)),
                 template.replace("{result_id}", str(result + 10_000)))]
    out = []
    autos = PRIVATE["automation"] if "automation" in names else [None]
    for auto in autos:
        for name in PRIVATE["name"]:
            if auto == "paper" and name != f"{MARK}-paper" or \
                    auto == "dataset" and name != f"{MARK}-data":
                continue
            if auto is None and template.startswith("/api/v1/papers") and "paper" not in name:
                continue
            if auto is None and "scoreboards" in template and "board" not in name:
                continue
            if auto is None and ("/papers" in template) != ("paper" in name):
                continue
            url = template.replace("{automation}", auto or "").replace(
                "{version}", "1.0").replace("{name}", name)
            out.append((url, url.replace(name, FREE[name])))
    return out


def _body(path: str) -> dict[str, Any]:
    """A valid body for each kind of write (so the access check, not validation, answers)."""
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    if tail == "versions":
        return {"data": {"version": "9.0", "meta": "{}", "deps": "[]"},
                "files": {"archive": ("e.tar.gz", make_archive(), "application/gzip")}}
    bodies = {"owners": {"user": "eve"}, "readers": {"user": "eve"},
              "visibility": {"private": False}, "results": submission(7),
              "reproductions": reproduction({"acc": "reproduced"})}
    assert tail in bodies, f"no leak check for the write {path}: add its body here"
    return {"json": bodies[tail]}


def _same(a: Any, b: Any, private_name: str, free_name: str) -> None:
    """The answers for a private and a free name agree once the names are swapped."""
    assert a.status_code == b.status_code, (a.status_code, b.status_code, a.text[:300])
    if private_name.isdigit():   # a result id: only where the answer names it
        assert a.text.replace(f"no result {private_name}", f"no result {free_name}") == b.text
    else:
        assert a.text.replace(private_name, free_name) == b.text


@pytest.fixture
def world(hub_client: Any, hub_users: Users) -> World:
    return World(hub_client, hub_users)


def test_every_api_route_hides_private_items_from_outsiders(world: World) -> None:
    c = world.c
    spec = c.get("/openapi.json").json()
    outsiders = [{}, world.eve]
    tried = 0
    for template, methods in spec["paths"].items():
        for method in methods:
            if "{" not in template:
                continue   # listings: below
            for private_url, free_url in _paths(template, world.result):
                pname = next((n for n in FREE if n in private_url), str(world.result))
                fname = FREE.get(pname, str(world.result + 10_000))
                params = {"x": "qps", "y": "latency_p90_ms"} if template.endswith("pareto") \
                    else {}
                for who in outsiders:
                    if method == "get":
                        a = c.get(private_url, headers=who, params=params)
                        b = c.get(free_url, headers=who, params=params)
                        assert a.status_code == 404, (private_url, who, a.text)
                    else:
                        body = _body(template)
                        a = c.post(private_url, headers=who, **body)
                        if template.endswith("/versions") and who:
                            # publishing under a free name creates it: compare with what
                            # reading a free name answers
                            b = c.get(free_url.rsplit("/", 1)[0], headers=who)
                        else:
                            b = c.post(free_url, headers=who, **_body(template))
                        assert a.status_code in (401, 404), (private_url, a.status_code)
                    _same(a, b, pname, fname)
                    assert MARK not in a.text.replace(pname, "")
                    tried += 1
                # an invited reader sees it (so the check above can fail)
                if method == "get":
                    ok = c.get(private_url, headers=world.users.auth("bob"), params=params)
                    assert ok.status_code == 200, (private_url, ok.text[:300])
    assert tried >= 40, tried


def test_listings_searches_counts_and_plots_hold_nothing_private(world: World) -> None:
    c = world.c
    for who in ({}, world.eve):
        for url, params in (("/api/v1/components", {}), ("/api/v1/components", {"q": MARK}),
                            ("/api/v1/components", {"tag": MARK}),
                            ("/api/v1/components", {"automation": "paper"}),
                            ("/api/v1/scoreboards", {}), ("/api/v1/papers", {}),
                            (f"/api/v1/scoreboards/{BOARD}/results", {}),
                            (f"/api/v1/scoreboards/{BOARD}/pareto",
                             {"x": "qps", "y": "latency_p90_ms"}),
                            ("/", {}), ("/components", {"q": MARK}), ("/scoreboards", {}),
                            ("/papers", {}), (f"/scoreboards/{BOARD}", {}),
                            (f"/results/{world.public_result}", {})):
            r = c.get(url, headers=who, params=params)
            assert r.status_code == 200, (url, r.text[:300])
            if MARK in str(params):   # a search for it answers as for a word never seen
                absent = {k: v.replace(MARK, "qqabsent") for k, v in params.items()}
                other = c.get(url, headers=who, params=absent)
                assert r.text.replace(MARK, "qqabsent") == other.text, url
            else:
                assert MARK not in r.text, (url, who)
        comps = c.get("/api/v1/components", headers=who).json()
        assert comps["total"] == 2 and len(comps["items"]) == 2
        assert c.get("/api/v1/components", headers=who, params={"q": MARK}).json()["total"] == 0
        assert c.get("/api/v1/papers", headers=who).json()["total"] == 1
        boards = c.get("/api/v1/scoreboards", headers=who).json()["items"]
        assert [b["name"] for b in boards] == [BOARD]
        # a misspelled board name suggests only public names
        r = c.get(f"/api/v1/scoreboards/{MARK}-boar", headers=who)
        assert r.status_code == 404 and MARK not in r.text.replace(f"{MARK}-boar", "")
    bob = world.users.auth("bob")
    assert c.get("/api/v1/components", headers=bob).json()["total"] == 4
    assert c.get("/api/v1/papers", headers=bob).json()["total"] == 2
    assert len(c.get("/api/v1/scoreboards", headers=bob).json()["items"]) == 2


def test_web_pages_follow_the_login_cookie(world: World) -> None:
    c = world.c
    pages = [f"/papers/{MARK}-paper", f"/components/dataset/{MARK}-data",
             f"/scoreboards/{MARK}-board", f"/results/{world.result}"]
    for url in pages:
        assert c.get(url).status_code == 404
    from cknowledge.hub.access import COOKIE

    eve_token = world.eve["Authorization"].split()[1]
    for token, status in ((eve_token, 404), (world.users.tokens["bob"], 200)):
        c.cookies.set(COOKIE, token)
        for url in pages:
            r = c.get(url)
            assert r.status_code == status, (url, status)
        home = c.get("/").text
        assert (MARK in home) == (status == 200)
        c.cookies.clear()
    bad = c.post("/login", data={"token": "not-a-token"})
    assert bad.status_code == 401 and "not valid" in bad.text
    ok = c.post("/login", data={"token": world.users.tokens["bob"]}, follow_redirects=False)
    assert ok.status_code == 303 and "httponly" in ok.headers["set-cookie"].lower()
    c.cookies.clear()


def test_making_a_paper_public(world: World) -> None:
    c, alice = world.c, world.users.auth("alice")
    url = f"/api/v1/papers/{MARK}-paper"
    assert c.get(url).status_code == 404
    # bob reads it but may not change who sees it; eve cannot even see it
    r = c.post(f"/api/v1/components/paper/{MARK}-paper/visibility",
               headers=world.users.auth("bob"), json={"private": False})
    assert r.status_code == 403
    r = c.post(f"/api/v1/components/paper/{MARK}-paper/visibility", headers=alice,
               json={"private": False})
    assert r.status_code == 200 and r.json()["private"] is False
    page = c.get(url).json()
    assert page["reproductions"] == 1 and page["private"] is False


def test_every_web_page_hides_private_items_from_outsiders(world: World) -> None:
    """The pages are not in the OpenAPI spec: they are taken from the web router."""
    from cknowledge.hub.access import COOKIE
    from cknowledge.hub.routes_web import router

    c = world.c
    templates = sorted({r.path for r in router.routes
                        if "GET" in (getattr(r, "methods", None) or set())
                        and not r.path.startswith("/api/") and "{" in r.path
                        and not r.path.startswith("/static")})
    assert {"/papers/{name}", "/scoreboards/{name}", "/results/{result_id}",
            "/components/{automation}/{name}"} <= set(templates), templates
    eve = world.eve["Authorization"].split()[1]
    tried = 0
    for template in templates:
        for private_url, free_url in _paths(template, world.result):
            pname = next((n for n in FREE if n in private_url), str(world.result))
            fname = FREE.get(pname, str(world.result + 10_000))
            for cookie in (None, eve):
                c.cookies.clear()
                if cookie:
                    c.cookies.set(COOKIE, cookie)
                a, b = c.get(private_url), c.get(free_url)
                assert a.status_code == 404, (private_url, cookie)
                _same(a, b, pname, fname)
                tried += 1
            c.cookies.clear()
            c.cookies.set(COOKIE, world.users.tokens["bob"])
            assert c.get(private_url).status_code == 200, private_url
            c.cookies.clear()
    assert tried >= 10, tried


def test_migration_0004_keeps_stored_components_public(hub_db_url: str) -> None:
    """Components and scoreboards stored before 0004 stay public; downgrading drops the
    new tables and columns again."""
    import sqlalchemy as sa

    from cknowledge.hub.db import Database
    from tests.hub.test_migrations import _upgrade_to

    db = Database(hub_db_url)
    try:
        _upgrade_to(db, "0003")
        with db.writer.begin() as c:
            c.execute(sa.text("INSERT INTO components (id, automation, name, description, "
                              "tags, latest, created_at, updated_at) VALUES (1, 'paper', "
                              "'old', '', '[]', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.migrate()
        with db.read() as s:
            assert s.execute(sa.text("SELECT private FROM components")).scalars().all() \
                in ([False], [0])
            assert not any(s.execute(sa.text("SELECT private FROM scoreboards")).scalars())
        from alembic import command
        from alembic.config import Config

        from cknowledge.hub.db import MIGRATIONS

        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        with db.writer.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        tables = set(sa.inspect(db.reader).get_table_names())
        assert "reproductions" not in tables and "readers" not in tables
    finally:
        db.dispose()


def test_a_bad_token_on_a_read_is_refused_and_a_bad_cookie_is_the_public(world: World
                                                                         ) -> None:
    from cknowledge.hub.access import COOKIE

    c = world.c
    r = c.get("/api/v1/papers", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["return"] == 13
    c.cookies.set(COOKIE, "not-a-token")
    page = c.get("/papers")
    assert page.status_code == 200 and MARK not in page.text
    assert c.get(f"/papers/{MARK}-paper").status_code == 404
    c.cookies.clear()
    # the same token twice (the second from the viewer cache) reads the same
    bob = world.users.auth("bob")
    first = c.get("/api/v1/papers", headers=bob).json()
    assert c.get("/api/v1/papers", headers=bob).json() == first and first["total"] == 2
