"""PostgreSQL: the throwaway test cluster itself, and the hub on PostgreSQL."""

from __future__ import annotations

import os

import pytest

from tests.hub.conftest_pg import PgCluster, start_cluster


def test_cluster_starts_connects_and_stops() -> None:
    """A cluster of our own: loopback only, SQLAlchemy + psycopg 3 connect with the password,
    a wrong password is refused, and stop() removes the server and its folder."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    try:
        cluster = start_cluster()
    except FileNotFoundError as e:
        if os.environ.get("CK_REQUIRE_PG") == "1":
            raise
        pytest.skip(str(e))
    try:
        assert cluster.host == "127.0.0.1"
        db = cluster.create_db()
        engine = sqlalchemy.create_engine(cluster.url(db))
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE TABLE t (id serial primary key, v text)"))
            conn.execute(sqlalchemy.text("INSERT INTO t (v) VALUES ('a'), ('b')"))
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT count(*) FROM t")).scalar() == 2
            addr = conn.execute(sqlalchemy.text("SELECT inet_server_addr()::text")).scalar()
            assert str(addr).startswith("127.0.0.1")
            assert conn.execute(sqlalchemy.text("SHOW listen_addresses")).scalar() == "127.0.0.1"
            assert conn.dialect.driver == "psycopg"
        engine.dispose()
        bad = PgCluster(host=cluster.host, port=cluster.port, user=cluster.user,
                        password="wrong")
        import psycopg

        with pytest.raises(psycopg.OperationalError, match="password"):
            bad.connect()
        cluster.drop_db(db)
    finally:
        cluster.stop()
    assert cluster.tmp is None or not os.path.exists(cluster.tmp)
    import psycopg

    with pytest.raises(psycopg.OperationalError):
        cluster.connect()


def test_pg_url_is_a_fresh_database(pg_url: str) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(pg_url)
    with engine.connect() as conn:
        n = conn.execute(sqlalchemy.text(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'")).scalar()
    engine.dispose()
    assert n == 0


def test_hub_on_postgresql(pg_url: str, tmp_path) -> None:
    """The hub's migrations on PostgreSQL: tables and the built-in scoreboard are created,
    a second start is a no-op, and results are stored, deduplicated, sorted and filtered."""
    from fastapi.testclient import TestClient

    from cknowledge.hub import create_app
    from cknowledge.hub.admin import add_user
    from tests.hub.conftest_pg import BOARD, submission

    root = tmp_path / "hub"
    token = add_user(pg_url, str(root), "alice")
    headers = {"Authorization": f"Bearer {token}"}
    for start in range(2):   # the second start finds the schema at head
        with TestClient(create_app(pg_url, str(root))) as client:
            assert client.get("/api/v1/whoami", headers=headers).json() == \
                {"user": "alice", "admin": False}
            boards = {b["name"]: b for b in client.get("/api/v1/scoreboards").json()["items"]}
            assert BOARD in boards
            if start == 0:
                assert boards[BOARD]["count"] == 0
                for i in range(12):
                    r = client.post(f"/api/v1/scoreboards/{BOARD}/results", json=submission(i),
                                    headers=headers)
                    assert r.status_code == 201, r.text
                again = client.post(f"/api/v1/scoreboards/{BOARD}/results",
                                    json=submission(3), headers=headers)
                assert again.status_code == 200 and again.json()["duplicate"] is True
                assert client.post(f"/api/v1/scoreboards/{BOARD}/results",
                                   json=submission(99)).status_code == 401
            assert client.get(f"/api/v1/scoreboards/{BOARD}").json()["count"] == 12
            page = client.get(f"/api/v1/scoreboards/{BOARD}/results",
                              params={"sort": "latency_p90_ms", "order": "asc",
                                      "backend": "pytorch"}).json()
            want = sorted(submission(i)["metrics"]["latency_p90_ms"] for i in range(12)
                          if submission(i)["config"]["backend"] == "pytorch")
            assert page["total"] == len(want) == 4
            assert [item["metrics"]["latency_p90_ms"] for item in page["items"]] == want


def test_out_of_range_numbers_on_postgresql(pg_url: str, tmp_path) -> None:
    """PostgreSQL's INTEGER is 32-bit: ids and offsets beyond it are a 404/422, not a 500."""
    from fastapi.testclient import TestClient

    from cknowledge.hub import create_app
    from tests.hub.conftest_pg import BOARD

    with TestClient(create_app(pg_url, str(tmp_path / "hub")), raise_server_exceptions=False) \
            as client:
        failed: list[str] = []
        for path in ("/api/v1/results/3000000000", "/results/3000000000",
                     f"/api/v1/scoreboards/{BOARD}/results?offset=3000000000",
                     f"/scoreboards/{BOARD}?offset=3000000000",
                     "/api/v1/components?offset=3000000000"):
            r = client.get(path)
            if r.status_code >= 500:
                failed.append(f"{path} -> {r.status_code}")
    assert not failed, failed
