"""Papers and private items: reproductions of a paper (one row each, plus one row per claim
with its verdict, indexed for the paper page's counts and badges); components and
scoreboards may be private (visible to their owners and invited readers only).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("components", sa.Column("private", sa.Boolean, nullable=False,
                                          server_default=sa.false()))
    op.add_column("scoreboards", sa.Column("private", sa.Boolean, nullable=False,
                                           server_default=sa.false()))
    # the user who created the scoreboard (null for those made before): a plain column,
    # as SQLite adds no foreign key to an existing table
    op.add_column("scoreboards", sa.Column("owner_id", sa.Integer, nullable=True))
    op.create_table(
        "readers",
        sa.Column("component_id", sa.Integer,
                  sa.ForeignKey("components.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "scoreboard_readers",
        sa.Column("scoreboard_id", sa.Integer,
                  sa.ForeignKey("scoreboards.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_readers_user", "readers", ["user_id", "component_id"])
    op.create_index("ix_scoreboard_readers_user", "scoreboard_readers",
                    ["user_id", "scoreboard_id"])
    op.create_index("ix_components_private", "components", ["private", "id"])
    op.create_table(
        "reproductions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("paper_id", sa.Integer, sa.ForeignKey("components.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("submission_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("submitter_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("paper_version", sa.String(100), nullable=False),
        sa.Column("platform_fingerprint", sa.String(16), nullable=False),
        sa.Column("platform_summary", sa.String(400), nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("reproduced", sa.Integer, nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("verdicts", sa.JSON, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    op.create_index("ix_reproductions_paper", "reproductions", ["paper_id", "id"])
    op.create_table(
        "reproduction_verdicts",
        sa.Column("reproduction_id", sa.Integer,
                  sa.ForeignKey("reproductions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("claim", sa.String(64), primary_key=True),
        sa.Column("paper_id", sa.Integer, nullable=False),
        sa.Column("submitter_id", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
    )
    op.create_index("ix_reproduction_verdicts_count", "reproduction_verdicts",
                    ["paper_id", "claim", "verdict", "submitter_id"])


def downgrade() -> None:
    op.drop_table("reproduction_verdicts")
    op.drop_table("reproductions")
    op.drop_index("ix_components_private", "components")
    op.drop_table("scoreboard_readers")
    op.drop_table("readers")
    op.drop_column("scoreboards", "owner_id")
    op.drop_column("scoreboards", "private")
    op.drop_column("components", "private")
