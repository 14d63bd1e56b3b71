"""Schema upgrades keep what is stored: migration 0002 fills the new scenario column."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from cknowledge.hub.db import MIGRATIONS, Database


def test_scenario_column_is_filled_from_stored_results(hub_db_url: str) -> None:
    db = Database(hub_db_url)
    try:
        config = Config()
        config.set_main_option("script_location", MIGRATIONS)
        with db.writer.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
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
