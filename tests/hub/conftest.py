"""Fixtures of the hub server tests: a hub app on SQLite (and on PostgreSQL where a server
can be started, see conftest_pg.py), users with tokens, archives and submissions."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from tests.hub.conftest_pg import pg_cluster, pg_url  # noqa: E402,F401 - fixtures for hub_db_url

#: the upload limit of the test hubs (small, so that 413 is cheap to provoke)
MAX_UPLOAD = 256 * 1024


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def hub_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL of a fresh, empty hub database: SQLite, then PostgreSQL (skipped
    where no PostgreSQL server can be started)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hubroot' / 'hub.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def hub_root(tmp_path: Path) -> str:
    path = tmp_path / "hubroot"
    path.mkdir(exist_ok=True)
    return str(path)


@pytest.fixture
def hub_app(hub_db_url: str, hub_root: str) -> Iterator[Any]:
    from cknowledge.hub import create_app

    app = create_app(hub_db_url, hub_root, max_upload=MAX_UPLOAD)
    yield app
    app.state.hub.db.dispose()


@pytest.fixture
def hub_client(hub_app: Any) -> Iterator[Any]:
    """A FastAPI TestClient of ``hub_app`` (lifespan run)."""
    from fastapi.testclient import TestClient

    with TestClient(hub_app) as client:
        yield client


class Users:
    """Tokens of the test users: ``admin`` (an admin), ``alice`` and ``bob``."""

    def __init__(self, db_url: str, root: str) -> None:
        from cknowledge.hub.admin import add_user

        self.tokens = {name: add_user(db_url, root, name, admin=(name == "admin"))
                       for name in ("admin", "alice", "bob")}

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def hub_users(hub_app: Any, hub_db_url: str, hub_root: str) -> Users:
    return Users(hub_db_url, hub_root)


def make_archive(files: dict[str, bytes] | None = None,
                 extra: Callable[[tarfile.TarFile], None] | None = None) -> bytes:
    """A .tar.gz of an entry folder: ``files`` (relative name -> content; default a
    meta.json), then ``extra(tf)`` may add unusual members."""
    files = {"meta.json": b'{"tags": ["demo"]}'} if files is None else files
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if extra:
            extra(tf)
    return buf.getvalue()


@pytest.fixture
def hub_archive() -> Callable[..., bytes]:
    """``hub_archive(files=None, extra=None) -> bytes``: see ``make_archive``."""
    return make_archive


@pytest.fixture
def hub_publish(hub_client: Any) -> Callable[..., Any]:
    """``hub_publish(token_headers, "automation:name", version, archive=None, meta=None,
    deps=None) -> response``."""
    import json

    def _publish(headers: dict[str, str], cid: str, version: str,
                 archive: bytes | None = None, meta: dict[str, Any] | None = None,
                 deps: list[dict[str, str]] | None = None) -> Any:
        auto, name = cid.split(":", 1)
        data = {"version": version, "meta": json.dumps(meta or {"tags": ["demo"]}),
                "deps": json.dumps(deps or [])}
        return hub_client.post(f"/api/v1/components/{auto}/{name}/versions", headers=headers,
                               data=data, files={"archive": ("entry.tar.gz",
                                                             archive or make_archive(),
                                                             "application/gzip")})

    return _publish
