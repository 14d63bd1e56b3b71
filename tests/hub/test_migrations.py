"""Schema upgrades keep what is stored: migration 0002 fills the new scenario column,
0003 keys versions by PEP 440."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from cknowledge.hub.db import MIGRATIONS, Database


def _upgrade_to(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with db.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_scenario_column_is_filled_from_stored_results(hub_db_url: str) -> None:
    db = Database(hub_db_url)
    try:
        _upgrade_to(db, "0001")
        with db.writer.begin() as c:
            c.execute(sa.text("INSERT INTO users (id, name, token_sha256, admin, created_at) "
                              "VALUES (1, 'u', 'x', false, CURRENT_TIMESTAMP)"))
            board = c.execute(sa.text("SELECT id FROM scoreboards")).scalar()
            for i, cfg in enumerate(({"scenario": "Offline"}, {"backend": "x"}), 1):
                c.execute(sa.text(
                    "INSERT INTO results (id, scoreboard_id, submission_sha256, submitter_id, "
                    "submitted_at, solution_name, solution_version, platform_fingerprint, "
                    "platform_summary, backend, reference, config, metrics, body) VALUES "
                    "(:id, :b, :h, 1, CURRENT_TIMESTAMP, 's', '1', '0123456789abcdef', '', "
                    "'', false, :cfg, '{}', '{}')"),
                    {"id": i, "b": board, "h": f"{i:064x}", "cfg": json.dumps(cfg)})
        db.migrate()   # to head: 0002 adds and fills the column
        db.migrate()   # and again: nothing to do
        with db.read() as s:
            got = dict(s.execute(sa.text("SELECT id, scenario FROM results ORDER BY id")).all())
        assert got == {1: "Offline", 2: ""}
    finally:
        db.dispose()


def test_migration_0003_rekeys_stored_versions(hub_db_url: str) -> None:
    """0003 keys stored versions by PEP 440 and chooses each component's latest again;
    of two versions PEP 440 holds equal, the older takes the new key."""
    from cknowledge.hub.service import find_version, version_key
    from cknowledge.versions import Version

    db = Database(hub_db_url)
    try:
        _upgrade_to(db, "0002")
        old = ["1.0", "1!0.5", "2.0", "1.0-1", "1.0.post1", "3.0+local"]   # the old keys
        with db.writer.begin() as c:
            c.execute(sa.text("INSERT INTO users (id, name, token_sha256, admin, created_at) "
                              "VALUES (1, 'u', 'x', false, CURRENT_TIMESTAMP)"))
            c.execute(sa.text("INSERT INTO components (id, automation, name, description, "
                              "tags, latest, created_at, updated_at) VALUES (1, 'model', 'm', '', '[]', "
                              "'3.0+local', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for i, v in enumerate(old, 1):
                c.execute(sa.text(
                    "INSERT INTO versions (id, component_id, version, version_key, sha256, "
                    "size, meta, deps, publisher_id, published_at) VALUES (:i, 1, :v, :k, "
                    "'0', 1, '{}', '[]', 1, CURRENT_TIMESTAMP)"),
                    {"i": i, "v": v, "k": json.dumps(Version(v).key, separators=(",", ":"))})
        db.migrate()
        db.migrate()
        with db.read() as s:
            keys = dict(s.execute(sa.text("SELECT version, version_key FROM versions")).all())
            latest = s.execute(sa.text("SELECT latest FROM components")).scalar()
            assert latest == "1!0.5"
            assert keys["1!0.5"] == version_key("1!0.5") and keys["2.0"] == "2"
            assert keys["1.0-1"] == version_key("1.0.post1")   # the older of the two
            assert keys["1.0.post1"] != keys["1.0-1"]           # the later keeps its own
            assert find_version(s, "model", "m", "1.0.0").version == "1.0"
            assert find_version(s, "model", "m", "1!0.5.0").version == "1!0.5"
            assert find_version(s, "model", "m", "3.0+local").version == "3.0+local"
    finally:
        db.dispose()
