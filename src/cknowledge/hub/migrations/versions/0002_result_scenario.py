"""Results get a ``scenario`` column (from their config), indexed per scoreboard, so that
scoreboards filter and list scenarios without reading every result's JSON.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("results", sa.Column("scenario", sa.String(200), nullable=False,
                                       server_default=""))
    results = sa.table("results", sa.column("config", sa.JSON),
                       sa.column("scenario", sa.String(200)))
    op.execute(sa.update(results).values(
        scenario=sa.func.coalesce(sa.func.substr(results.c.config["scenario"].as_string(),
                                                 1, 200), "")))
    op.create_index("ix_results_board_scenario", "results", ["scoreboard_id", "scenario", "id"])


def downgrade() -> None:
    op.drop_index("ix_results_board_scenario", "results")
    op.drop_column("results", "scenario")
