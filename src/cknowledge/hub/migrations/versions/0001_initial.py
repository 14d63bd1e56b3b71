"""The hub's first schema: users, components and versions, scoreboards and results;
seeds the built-in ``mlperf-object-detection`` scoreboard.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("admin", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "components",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("automation", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("latest", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("automation", "name", name="uq_components_name"),
    )
    op.create_index("ix_components_updated_at", "components", ["updated_at"])
    op.create_table(
        "component_tags",
        sa.Column("component_id", sa.Integer,
                  sa.ForeignKey("components.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(200), primary_key=True),
    )
    op.create_index("ix_component_tags_tag", "component_tags", ["tag"])
    op.create_table(
        "owners",
        sa.Column("component_id", sa.Integer,
                  sa.ForeignKey("components.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("component_id", sa.Integer,
                  sa.ForeignKey("components.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("version_key", sa.String(400), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("deps", sa.JSON, nullable=False),
        sa.Column("publisher_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("published_at", TZ, nullable=False),
        sa.UniqueConstraint("component_id", "version_key", name="uq_versions_key"),
    )
    op.create_index("ix_versions_component_id", "versions", ["component_id"])
    scoreboards = op.create_table(
        "scoreboards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("config_keys", sa.JSON, nullable=False),
        sa.Column("required", sa.JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scoreboard_id", sa.Integer,
                  sa.ForeignKey("scoreboards.id", ondelete="CASCADE"), nullable=False),
        sa.Column("submission_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("submitter_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("solution_name", sa.String(200), nullable=False),
        sa.Column("solution_version", sa.String(100), nullable=False),
        sa.Column("platform_fingerprint", sa.String(16), nullable=False),
        sa.Column("platform_summary", sa.String(400), nullable=False),
        sa.Column("backend", sa.String(200), nullable=False),
        sa.Column("reference", sa.Boolean, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
    )
    for name, cols in (("ix_results_board_id", ["id"]),
                       ("ix_results_board_platform", ["platform_fingerprint", "id"]),
                       ("ix_results_board_backend", ["backend", "id"]),
                       ("ix_results_board_version", ["solution_version", "id"]),
                       ("ix_results_board_reference", ["reference", "id"])):
        op.create_index(name, "results", ["scoreboard_id", *cols])
    op.create_table(
        "result_metrics",
        sa.Column("result_id", sa.Integer, sa.ForeignKey("results.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("metric", sa.String(100), primary_key=True),
        sa.Column("scoreboard_id", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_index("ix_result_metrics_sort", "result_metrics",
                    ["scoreboard_id", "metric", "value", "result_id"])
    op.bulk_insert(scoreboards, [{
        "name": "mlperf-object-detection",
        "title": "MLPerf inference: object detection",
        "description": "Object detection (MLPerf inference style) on any platform: queries "
                       "per second, 90th-percentile latency and accuracy (mAP) by scenario "
                       "and backend.",
        "metrics": [{"name": "qps", "unit": "queries/s", "better": "higher"},
                    {"name": "latency_p90_ms", "unit": "ms", "better": "lower"},
                    {"name": "map", "unit": "mAP", "better": "higher"}],
        "config_keys": ["scenario", "backend", "count"],
        "required": ["qps", "latency_p90_ms"],
        "created_at": dt.datetime.now(dt.timezone.utc),
    }])


def downgrade() -> None:
    for table in ("result_metrics", "results", "scoreboards", "versions", "owners",
                  "component_tags", "components", "users"):
        op.drop_table(table)
