"""The hub's tables (SQLAlchemy 2 typed ORM); the migrations create exactly these.

Results are stored once each in ``results`` (the submission as sent, plus the columns the
scoreboard filters on) and once per scoreboard metric in ``result_metrics``, whose index
``(scoreboard_id, metric, value)`` lets a page of 50 sorted rows be read without
sorting the whole scoreboard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Component(Base):
    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("automation", "name", name="uq_components_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    automation: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    latest: Mapped[str] = mapped_column(String(100), default="")
    #: visible to its owners and readers only (migration 0004)
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)


class ComponentTag(Base):
    __tablename__ = "component_tags"

    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"),
                                              primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class Owner(Base):
    __tablename__ = "owners"

    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"),
                                              primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)


class ComponentVersion(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("component_id", "version_key", name="uq_versions_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"),
                                              index=True)
    version: Mapped[str] = mapped_column(String(100))
    #: the version's comparison key as text: 1.0 and 1.0.0 are the same version
    version_key: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deps: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    publisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Scoreboard(Base):
    __tablename__ = "scoreboards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(400), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: [{"name", "unit", "better": "higher"|"lower"}]
    metrics: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    config_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: visible to its owner and readers only; the user who created it (migration 0004)
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Result(Base):
    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_board_id", "scoreboard_id", "id"),
        Index("ix_results_board_platform", "scoreboard_id", "platform_fingerprint", "id"),
        Index("ix_results_board_backend", "scoreboard_id", "backend", "id"),
        Index("ix_results_board_version", "scoreboard_id", "solution_version", "id"),
        Index("ix_results_board_reference", "scoreboard_id", "reference", "id"),
        Index("ix_results_board_scenario", "scoreboard_id", "scenario", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scoreboard_id: Mapped[int] = mapped_column(ForeignKey("scoreboards.id", ondelete="CASCADE"))
    #: sha256 of the canonical submission (volatile fields left out): one row per result
    submission_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    solution_name: Mapped[str] = mapped_column(String(200))
    solution_version: Mapped[str] = mapped_column(String(100))
    platform_fingerprint: Mapped[str] = mapped_column(String(16))
    platform_summary: Mapped[str] = mapped_column(String(400), default="")
    backend: Mapped[str] = mapped_column(String(200), default="")
    #: the config's ``scenario`` (migration 0002)
    scenario: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reference: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ResultMetric(Base):
    __tablename__ = "result_metrics"
    __table_args__ = (
        Index("ix_result_metrics_sort", "scoreboard_id", "metric", "value", "result_id"),
    )

    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"),
                                           primary_key=True)
    metric: Mapped[str] = mapped_column(String(100), primary_key=True)
    scoreboard_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)


class Reader(Base):
    """A user invited to read a private component (migration 0004)."""

    __tablename__ = "readers"

    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"),
                                              primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)


class ScoreboardReader(Base):
    """A user invited to read a private scoreboard (migration 0004)."""

    __tablename__ = "scoreboard_readers"

    scoreboard_id: Mapped[int] = mapped_column(ForeignKey("scoreboards.id", ondelete="CASCADE"),
                                               primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)


class Reproduction(Base):
    """One reproduction of a paper (a ``paper`` component), as ``ck reproduce --submit``
    sends it (migration 0004)."""

    __tablename__ = "reproductions"
    __table_args__ = (Index("ix_reproductions_paper", "paper_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"))
    submission_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paper_version: Mapped[str] = mapped_column(String(100))
    platform_fingerprint: Mapped[str] = mapped_column(String(16))
    platform_summary: Mapped[str] = mapped_column(String(400), default="")
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    #: how many claims this reproduction found reproduced, of how many it ran
    reproduced: Mapped[int] = mapped_column(Integer, default=0)
    claims: Mapped[int] = mapped_column(Integer, default=0)
    verdicts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReproductionVerdict(Base):
    """One claim's verdict in one reproduction: the paper page counts and the badges read
    these through their index, not the reproductions' JSON."""

    __tablename__ = "reproduction_verdicts"
    __table_args__ = (Index("ix_reproduction_verdicts_count", "paper_id", "claim", "verdict",
                            "submitter_id"),)

    reproduction_id: Mapped[int] = mapped_column(
        ForeignKey("reproductions.id", ondelete="CASCADE"), primary_key=True)
    claim: Mapped[str] = mapped_column(String(64), primary_key=True)
    paper_id: Mapped[int] = mapped_column(Integer)
    submitter_id: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20))
