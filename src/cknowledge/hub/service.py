"""What the hub does, without HTTP: components and versions, owners, scoreboards,
results, Pareto fronts. Every function works inside one SQLAlchemy session (one short
transaction) and raises the typed errors of ``errors.py``."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from typing import Any

from packaging.version import InvalidVersion
from packaging.version import Version as Pep440
from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AlreadyExists, InvalidInput, NotFound
from ..versions import VersionRange
from .access import board_visible, can_see_component, component_visible
from .models import (Component, ComponentTag, ComponentVersion, Owner, Result, ResultMetric,
                     Scoreboard, User, utcnow)
from .problems import NotOwner
from .schemas import ScoreboardIn, Submission

MAX_LIMIT = 500
#: the largest offset a listing accepts (beyond any real table; keeps SQL integers small)
MAX_OFFSET = 1 << 40
#: the longest search text (``q``) and automation or tag filter of a component search;
#: SQLite refuses LIKE patterns over 50,000 bytes, and no name or tag is this long
MAX_QUERY = 400
#: the longest version text (the column holds 100 characters)
MAX_VERSION = 100
#: a filter that keeps under 1/SELECTIVE of a scoreboard is read through its own index
SELECTIVE = 20
PARETO_POINTS = 2000


def iso(value: dt.datetime | None) -> str | None:
    """UTC timestamps as ISO 8601 with 'Z' (SQLite hands them back without a zone)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def page(limit: int, offset: int) -> tuple[int, int]:
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidInput(f"hub: limit must be 1..{MAX_LIMIT}, not {limit}")
    if offset < 0 or offset > MAX_OFFSET:
        raise InvalidInput(f"hub: offset must be 0..{MAX_OFFSET}, not {offset}")
    return limit, offset


# -- components ---------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+@=-]{0,199}")


def check_component_name(automation: str, name: str) -> None:
    """UnsafeName (422) unless both are safe entry names (as the store checks them, and
    whole: no trailing newline)."""
    from ..errors import UnsafeName
    from ..store.cid import check_name

    for text, what in ((automation, "automation"), (name, "name")):
        try:
            check_name(text, what)
        except UnsafeName as exc:
            raise UnsafeName(f"hub: {exc.message}") from None
        if not _SAFE_NAME.fullmatch(text):
            raise UnsafeName(f"hub: the {what} {text!r} is not allowed: use letters, digits "
                             "and _ . + @ = -, starting with a letter, digit or _ (up to 200)")


def pep440(text: str) -> Pep440:
    """``text`` as a PEP 440 version (``packaging``): epochs, pre-, post- and
    dev-releases and local versions order as pip orders them. InvalidInput if it is not
    one."""
    try:
        return Pep440(text)
    except InvalidVersion:
        raise InvalidInput(f"hub: version {text!r} is not a PEP 440 version (write e.g. "
                           "1.2.0, 2.0rc1, 1.0.post1)") from None


def version_order(text: str) -> tuple[int, Pep440]:
    """A sort key of a stored version: PEP 440 order (a text that is no PEP 440 version,
    which publishing refuses, sorts first)."""
    try:
        return 1, Pep440(text)
    except InvalidVersion:
        return 0, Pep440("0")


def version_key(text: str) -> str:
    """The text every equal form of a version shares (``1.0`` == ``1.0.0`` == ``v1``,
    ``1.0-1`` == ``1.0.post1``; ``1.0+local`` is another version): the stored key that
    finds a version and keeps published versions unique."""
    from packaging.utils import canonicalize_version

    return canonicalize_version(pep440(text), strip_trailing_zero=True)


def check_version(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_VERSION:
        raise InvalidInput(f"hub: version {text[:20]!r}... is longer than {MAX_VERSION} "
                           "characters; write e.g. 1.2.0")
    pep440(text)
    return text


def check_deps(deps: Any) -> list[dict[str, str]]:
    if not isinstance(deps, list):
        raise InvalidInput("hub: deps must be a JSON list of "
                           '{"component": "AUTOMATION:NAME", "range": ">=1.0"}')
    out = []
    for i, dep in enumerate(deps):
        if not isinstance(dep, dict) or not isinstance(dep.get("component"), str):
            raise InvalidInput(f"hub: deps[{i}] must be an object with 'component' "
                               "(AUTOMATION:NAME) and 'range'")
        comp = dep["component"]
        auto, sep, name = comp.partition(":")
        if not sep:
            raise InvalidInput(f"hub: deps[{i}].component {comp!r} must be AUTOMATION:NAME")
        check_component_name(auto, name)
        rng = dep.get("range", "") or ""
        if not isinstance(rng, str) or len(rng) > 400:
            raise InvalidInput(f"hub: deps[{i}].range must be a string like '>=1.0' (up to "
                               "400 characters)")
        try:
            VersionRange(rng)
        except (InvalidInput, ValueError) as exc:
            reason = exc.message if isinstance(exc, InvalidInput) else str(exc)
            raise InvalidInput(f"hub: deps[{i}].range {rng!r}: {reason}") from None
        out.append({"component": comp, "range": rng})
    return out


def _component(session: Session, automation: str, name: str) -> Component | None:
    return session.scalar(select(Component).where(Component.automation == automation,
                                                  Component.name == name))


def _require_component(session: Session, automation: str, name: str,
                       viewer: User | None = None) -> Component:
    """The component, or NotFound: also when it is private and ``viewer`` may not see it
    (the same answer, so nothing tells a private name from a free one)."""
    comp = session.scalar(select(Component).where(Component.automation == automation,
                                                  Component.name == name,
                                                  component_visible(viewer)))
    if comp is None:
        raise NotFound(f"hub: no component {automation}:{name} (search with "
                       "GET /api/v1/components?q=...)")
    return comp


def _owner_names(session: Session, comp: Component) -> list[str]:
    return list(session.scalars(select(User.name).join(Owner, Owner.user_id == User.id)
                                .where(Owner.component_id == comp.id).order_by(User.name)))


def _is_owner(session: Session, comp: Component, user: User) -> bool:
    return session.scalar(select(Owner.user_id).where(Owner.component_id == comp.id,
                                                      Owner.user_id == user.id)) is not None


def check_may_publish(session: Session, user: User, automation: str, name: str) -> None:
    """NotOwner (403) if the component exists and ``user`` does not own it."""
    comp = _component(session, automation, name)
    if comp is not None and not can_see_component(session, comp, user):
        _require_component(session, automation, name, user)
    if comp is not None and not _is_owner(session, comp, user):
        raise NotOwner(f"hub: {user.name} is not an owner of {automation}:{name}; an owner "
                       "can grant it (POST .../owners)")


def _tags(meta: dict[str, Any]) -> list[str]:
    tags = meta.get("tags", [])
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list):
        return []
    return sorted({str(t).strip() for t in tags if str(t).strip()})[:100]


def publish(session: Session, user: User, automation: str, name: str, version: str,
            meta: dict[str, Any], deps: list[dict[str, str]], sha256: str,
            size: int, private: bool = False) -> dict[str, Any]:
    """Record a new version (the archive is already checked and stored); a new component
    is ``private`` when asked (visible to its owners and readers only)."""
    key = version_key(version)
    comp = _component(session, automation, name)
    if comp is None:
        try:
            with session.begin_nested():
                comp = Component(automation=automation, name=name, description="", tags=[],
                                 latest="", private=private)
                session.add(comp)
                session.flush()
                session.add(Owner(component_id=comp.id, user_id=user.id))
                session.flush()
        except IntegrityError:   # another publisher created it just now
            comp = _require_component(session, automation, name, user)
    _require_component(session, automation, name, user)
    if not _is_owner(session, comp, user):
        raise NotOwner(f"hub: {user.name} is not an owner of {automation}:{name}; an owner "
                       "can grant it (POST .../owners)")
    exists_q = select(ComponentVersion.version).where(ComponentVersion.component_id == comp.id,
                                                      ComponentVersion.version_key == key)
    taken = session.scalar(exists_q)
    immutable = (f"hub: {automation}:{name} version {version} is published already "
                 f"{'(as ' + repr(taken) + ') ' if taken and taken != version else ''}"
                 "and published versions are immutable; publish a new version number")
    if taken is not None:
        raise AlreadyExists(immutable)
    try:
        with session.begin_nested():
            session.add(ComponentVersion(component_id=comp.id, version=version,
                                         version_key=key, sha256=sha256, size=size,
                                         meta=meta, deps=deps, publisher_id=user.id))
            session.flush()
    except IntegrityError:
        raise AlreadyExists(immutable) from None
    if not comp.latest or version_order(version) > version_order(comp.latest):
        comp.latest = version
        desc = meta.get("description") or meta.get("title") or ""
        comp.description = str(desc)[:10_000]
        comp.tags = _tags(meta)
        session.query(ComponentTag).filter(ComponentTag.component_id == comp.id).delete()
        session.add_all(ComponentTag(component_id=comp.id, tag=t[:200]) for t in comp.tags)
    comp.updated_at = utcnow()
    return {"automation": automation, "name": name, "version": version, "sha256": sha256,
            "size": size, "private": comp.private}


def grant_owner(session: Session, user: User, automation: str, name: str,
                grantee: str) -> dict[str, Any]:
    comp = _require_component(session, automation, name, user)
    if not _is_owner(session, comp, user):
        raise NotOwner(f"hub: only an owner of {automation}:{name} can add owners "
                       f"({user.name} is not one)")
    target = session.scalar(select(User).where(User.name == grantee))
    if target is None:
        raise NotFound(f"hub: no user {grantee!r} on this hub (an admin adds users with "
                       "'ck hub user add NAME')")
    if not _is_owner(session, comp, target):
        session.add(Owner(component_id=comp.id, user_id=target.id))
        session.flush()
    return {"automation": automation, "name": name, "owners": _owner_names(session, comp)}


def list_components(session: Session, q: str = "", automation: str = "", tag: str = "",
                    limit: int = 50, offset: int = 0,
                    viewer: User | None = None) -> dict[str, Any]:
    limit, offset = page(limit, offset)
    for what, text in (("q", q), ("automation", automation), ("tag", tag)):
        if len(text) > MAX_QUERY:
            raise InvalidInput(f"hub: the search {what} has {len(text)} characters; "
                               f"search with up to {MAX_QUERY}")
    conds: list[ColumnElement[bool]] = [component_visible(viewer)]
    if q:   # the text is matched as written: % and _ are not wildcards
        text = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{text}%"
        conds.append(Component.name.ilike(like, escape="\\")
                     | Component.description.ilike(like, escape="\\")
                     | Component.automation.ilike(like, escape="\\")
                     | exists().where(ComponentTag.component_id == Component.id,
                                      ComponentTag.tag.ilike(like, escape="\\")))
    if automation:
        conds.append(Component.automation == automation)
    if tag:
        conds.append(exists().where(ComponentTag.component_id == Component.id,
                                    ComponentTag.tag == tag))
    total = session.scalar(select(func.count()).select_from(Component).where(*conds)) or 0
    comps = list(session.scalars(select(Component).where(*conds)
                                 .order_by(Component.updated_at.desc(), Component.id.desc())
                                 .limit(limit).offset(offset)))
    owners: dict[int, str] = {}
    if comps:
        rows = session.execute(select(Owner.component_id, User.name)
                               .join(User, User.id == Owner.user_id)
                               .where(Owner.component_id.in_([c.id for c in comps]))
                               .order_by(User.name))
        for cid, uname in rows:
            owners.setdefault(cid, uname)
    items = [{"automation": c.automation, "name": c.name, "owner": owners.get(c.id, ""),
              "latest": c.latest, "tags": list(c.tags or []), "description": c.description,
              "updated_at": iso(c.updated_at)} for c in comps]
    return {"items": items, "total": total}


def get_component(session: Session, automation: str, name: str,
                  viewer: User | None = None) -> dict[str, Any]:
    comp = _require_component(session, automation, name, viewer)
    rows = list(session.execute(select(ComponentVersion, User.name)
                                .join(User, User.id == ComponentVersion.publisher_id)
                                .where(ComponentVersion.component_id == comp.id)).all())
    rows.sort(key=lambda r: version_order(r[0].version), reverse=True)
    versions = [{"version": v.version, "sha256": v.sha256, "size": v.size,
                 "published_at": iso(v.published_at), "publisher": publisher,
                 "deps": list(v.deps or [])} for v, publisher in rows]
    return {"automation": comp.automation, "name": comp.name,
            "owners": _owner_names(session, comp), "tags": list(comp.tags or []),
            "description": comp.description, "latest": comp.latest,
            "updated_at": iso(comp.updated_at), "versions": versions,
            "private": comp.private}


def find_version(session: Session, automation: str, name: str,
                 version: str, viewer: User | None = None) -> ComponentVersion:
    comp = _require_component(session, automation, name, viewer)
    try:
        if len(version) > MAX_VERSION:
            raise InvalidInput("too long")
        key = version_key(version)
    except (InvalidInput, ValueError):
        raise NotFound(f"hub: {automation}:{name} has no version {version!r}") from None
    found = session.scalar(select(ComponentVersion).where(
        ComponentVersion.component_id == comp.id, ComponentVersion.version_key == key))
    if found is None:
        raise NotFound(f"hub: {automation}:{name} has no version {version!r} (list them "
                       f"with GET /api/v1/components/{automation}/{name})")
    return found


def recent_components(session: Session, limit: int = 10,
                      viewer: User | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = list_components(session, limit=limit,
                                                  viewer=viewer)["items"]
    return items


# -- scoreboards --------------------------------------------------------------------------

def _board(session: Session, name: str, viewer: User | None = None) -> Scoreboard:
    """The scoreboard, or NotFound (also for a private one ``viewer`` may not see)."""
    board = session.scalar(select(Scoreboard).where(Scoreboard.name == name,
                                                    board_visible(viewer)))
    if board is None:
        known = list(session.scalars(select(Scoreboard.name).where(board_visible(viewer))
                                     .order_by(Scoreboard.name)))
        from ..errors import suggest

        raise NotFound(f"hub: no scoreboard {name!r}{suggest(name, known)} "
                       "(list them with GET /api/v1/scoreboards)")
    return board


def board_dict(board: Scoreboard, count: int) -> dict[str, Any]:
    return {"name": board.name, "title": board.title, "description": board.description,
            "metrics": list(board.metrics), "config_keys": list(board.config_keys),
            "required": list(board.required), "count": count,
            "created_at": iso(board.created_at), "private": board.private}


def list_scoreboards(session: Session, viewer: User | None = None) -> dict[str, Any]:
    boards = list(session.scalars(select(Scoreboard).where(board_visible(viewer))
                                  .order_by(Scoreboard.name)))
    ids = [b.id for b in boards]
    counts = {bid: n for bid, n in session.execute(select(Result.scoreboard_id, func.count())
                                                   .where(Result.scoreboard_id.in_(ids))
                                                   .group_by(Result.scoreboard_id))}
    return {"items": [{"name": b.name, "title": b.title, "metrics": list(b.metrics),
                       "count": counts.get(b.id, 0)} for b in boards]}


def get_scoreboard(session: Session, name: str,
                   viewer: User | None = None) -> tuple[Scoreboard, dict[str, Any]]:
    board = _board(session, name, viewer)
    count = session.scalar(select(func.count()).select_from(Result)
                           .where(Result.scoreboard_id == board.id)) or 0
    return board, board_dict(board, count)


def create_scoreboard(session: Session, user: User, spec: ScoreboardIn) -> dict[str, Any]:
    if not user.admin:
        raise NotOwner(f"hub: only an admin can create scoreboards ({user.name} is not one)")
    if session.scalar(select(Scoreboard.id).where(Scoreboard.name == spec.name)) is not None:
        raise AlreadyExists(f"hub: scoreboard {spec.name!r} exists already; pick another name")
    board = Scoreboard(name=spec.name, title=spec.title or spec.name,
                       description=spec.description, private=spec.private, owner_id=user.id,
                       metrics=[m.model_dump() for m in spec.metrics],
                       config_keys=list(spec.config_keys), required=list(spec.required))
    try:
        with session.begin_nested():
            session.add(board)
            session.flush()
    except IntegrityError:
        raise AlreadyExists(f"hub: scoreboard {spec.name!r} exists already") from None
    return board_dict(board, 0)


def _platform_summary(facts: dict[str, Any]) -> str:
    if isinstance(facts.get("description"), str) and facts["description"].strip():
        return str(facts["description"]).strip()[:400]  # a machine described in words
    parts = []
    for key in ("os", "arch", "cpu", "gpu", "accelerator"):
        value = facts.get(key)
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        if value:
            parts.append(str(value))
    return " · ".join(parts)[:400]


def submit_result(session: Session, user: User, name: str,
                  submission: Submission) -> tuple[int, bool]:
    """Store one result; ``(id, duplicate)``. The same submission is stored once."""
    board = _board(session, name, user)
    missing = [m for m in board.required if m not in submission.metrics]
    if missing:
        raise InvalidInput(f"hub: metrics.{missing[0]} is required by scoreboard "
                           f"{board.name!r} (required: {', '.join(board.required)})")
    if submission.reference and not user.admin:
        raise NotOwner("hub: only an admin can post reference results "
                       f"({user.name} is not one); send \"reference\": false")
    digest = submission.digest(board.name)
    existing = session.scalar(select(Result.id).where(Result.submission_sha256 == digest))
    if existing is not None:
        return existing, True
    metric_names = {m["name"] for m in board.metrics}
    body = submission.model_dump(mode="json", exclude_none=True)
    row = Result(scoreboard_id=board.id, submission_sha256=digest, submitter_id=user.id,
                 solution_name=submission.solution.name,
                 solution_version=submission.solution.version,
                 platform_fingerprint=submission.platform.fingerprint,
                 platform_summary=_platform_summary(submission.platform.facts),
                 backend=str(submission.config.get("backend") or "")[:200],
                 scenario=str(submission.config.get("scenario") or "")[:200],
                 reference=submission.reference, config=dict(submission.config),
                 metrics=dict(submission.metrics), body=body)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            session.add_all(ResultMetric(result_id=row.id, metric=m, scoreboard_id=board.id,
                                         value=float(v))
                            for m, v in submission.metrics.items() if m in metric_names)
            session.flush()
    except IntegrityError:   # the same result, posted at the same moment by another request
        again = session.scalar(select(Result.id).where(Result.submission_sha256 == digest))
        if again is None:
            raise
        return again, True
    return row.id, False


class Filters:
    """The filters of a results query (each empty = not filtered)."""

    def __init__(self, platform: str = "", backend: str = "", version: str = "",
                 reference: str = "", scenario: str = "") -> None:
        self.platform = platform
        self.backend = backend
        self.version = version
        self.scenario = scenario
        ref = (reference or "").strip().lower()
        if ref not in ("", "true", "false", "1", "0", "yes", "no"):
            raise InvalidInput(f"hub: reference must be true or false, not {reference!r}")
        self.reference: bool | None = None if not ref else ref in ("true", "1", "yes")

    def conditions(self, board: Scoreboard) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [Result.scoreboard_id == board.id]
        if self.platform:
            conds.append(Result.platform_fingerprint == self.platform)
        if self.backend:
            conds.append(Result.backend == self.backend)
        if self.version:
            conds.append(Result.solution_version == self.version)
        if self.scenario:
            conds.append(SCENARIO == self.scenario)
        if self.reference is not None:
            conds.append(Result.reference == self.reference)
        return conds

    def query(self) -> dict[str, str]:
        out = {"platform": self.platform, "backend": self.backend, "version": self.version,
               "scenario": self.scenario}
        if self.reference is not None:
            out["reference"] = "true" if self.reference else "false"
        return {k: v for k, v in out.items() if v}


#: the ``scenario`` of a result's config (MLPerf-style scoreboards filter on it)
SCENARIO = Result.scenario


def metric_spec(board: Scoreboard, metric: str) -> dict[str, str]:
    for m in board.metrics:
        if m["name"] == metric:
            return m
    names = ", ".join(m["name"] for m in board.metrics)
    raise InvalidInput(f"hub: scoreboard {board.name!r} has no metric {metric!r} "
                       f"(metrics: {names})")


_ROW_COLUMNS = (Result.id, User.name, Result.submitted_at, Result.solution_name,
                Result.solution_version, Result.platform_fingerprint, Result.platform_summary,
                Result.config, Result.metrics, Result.reference)


def _item(row: Any) -> dict[str, Any]:
    return {"id": row[0], "submitter": row[1], "submitted_at": iso(row[2]),
            "solution_name": row[3], "solution_version": row[4],
            "platform_fingerprint": row[5], "platform_summary": row[6],
            "config": row[7], "metrics": row[8], "reference": bool(row[9])}


def query_results(session: Session, board: Scoreboard, filters: Filters,
                  sort: str = "", order: str = "", limit: int = 50,
                  offset: int = 0) -> dict[str, Any]:
    """One page of a scoreboard's results, sorted by a metric (default: the first, best
    first) or by ``submitted_at``; rows without the sort metric come last."""
    limit, offset = page(limit, offset)
    sort = sort or board.metrics[0]["name"]
    conds = filters.conditions(board)
    total = session.scalar(select(func.count()).select_from(Result).where(*conds)) or 0
    if sort in ("submitted_at", "id"):
        order = order or "desc"
        _check_order(order)
        key = Result.id.desc() if order == "desc" else Result.id.asc()
        rows = session.execute(select(*_ROW_COLUMNS).join(User, User.id == Result.submitter_id)
                               .where(*conds).order_by(key).limit(limit).offset(offset)).all()
        return {"items": [_item(r) for r in rows], "total": total, "sort": sort,
                "order": order}
    spec = metric_spec(board, sort)
    order = order or ("desc" if spec["better"] == "higher" else "asc")
    _check_order(order)
    rm = ResultMetric
    joined = and_(rm.result_id == Result.id, rm.metric == sort, rm.scoreboard_id == board.id)
    value: Any = rm.value
    if filters.query():
        board_total = session.scalar(select(func.count()).select_from(Result)
                                     .where(Result.scoreboard_id == board.id)) or 0
        if total * SELECTIVE < board_total:
            # few rows match: read them through the filter's index and sort them, rather
            # than walk the whole metric index looking for matches ("+ 0" keeps the
            # planner off the metric index)
            value = rm.value + 0
            joined = and_(rm.result_id == Result.id, rm.metric == sort,
                          (rm.scoreboard_id + 0) == board.id)
    keys = (value.desc(), rm.result_id.desc()) if order == "desc" else \
        (value.asc(), rm.result_id.asc())
    rows = session.execute(select(*_ROW_COLUMNS).select_from(rm).join(Result, joined)
                           .join(User, User.id == Result.submitter_id).where(*conds)
                           .order_by(*keys).limit(limit).offset(offset)).all()
    items = [_item(r) for r in rows]
    if len(items) < limit and sort not in board.required:
        with_metric = session.scalar(select(func.count()).select_from(rm).join(Result, joined)
                                     .where(*conds)) or 0
        rest_offset = max(offset - with_metric, 0)
        lacking = ~exists().where(rm.result_id == Result.id, rm.metric == sort)
        more = session.execute(select(*_ROW_COLUMNS).join(User, User.id == Result.submitter_id)
                               .where(*conds, lacking).order_by(Result.id.desc())
                               .limit(limit - len(items)).offset(rest_offset)).all()
        items.extend(_item(r) for r in more)
    return {"items": items, "total": total, "sort": sort, "order": order}


def _check_order(order: str) -> None:
    if order not in ("asc", "desc"):
        raise InvalidInput(f"hub: order must be asc or desc, not {order!r}")


def facets(session: Session, board: Scoreboard, limit: int = 200) -> dict[str, Any]:
    """The values the filter selects offer: platforms (with a summary), backends, versions,
    scenarios."""
    def distinct(column: Any) -> list[str]:
        return [v for v in session.scalars(select(column).where(Result.scoreboard_id == board.id)
                                           .group_by(column).order_by(column).limit(limit)) if v]

    platforms = []
    for fp in distinct(Result.platform_fingerprint):
        summary = session.scalar(select(Result.platform_summary).where(
            Result.scoreboard_id == board.id, Result.platform_fingerprint == fp).limit(1))
        platforms.append({"fingerprint": fp, "summary": summary or ""})
    return {"platforms": platforms, "backends": distinct(Result.backend),
            "versions": distinct(Result.solution_version), "scenarios": distinct(SCENARIO)}


def get_result(session: Session, result_id: int,
               viewer: User | None = None) -> dict[str, Any]:
    row = session.execute(select(Result, User.name, Scoreboard.name)
                          .join(User, User.id == Result.submitter_id)
                          .join(Scoreboard, Scoreboard.id == Result.scoreboard_id)
                          .where(Result.id == result_id, board_visible(viewer))).first()
    if row is None:
        raise NotFound(f"hub: no result {result_id} (results are listed under "
                       "GET /api/v1/scoreboards/NAME/results)")
    result, submitter, board = row
    return {**result.body, "id": result.id, "scoreboard": board, "submitter": submitter,
            "submitted_at": iso(result.submitted_at), "submission_sha256":
            result.submission_sha256}


_PARETO_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
_PARETO_LOCK = threading.Lock()


def pareto(session: Session, board: Scoreboard, x: str, y: str,
           filters: Filters) -> dict[str, Any]:
    """``pareto_front``, remembered until the scoreboard gets a new result (results are
    only ever added, so the newest id tells whether an answer is still true)."""
    newest = session.scalar(select(func.max(Result.id))
                            .where(Result.scoreboard_id == board.id)) or 0
    key = (str(session.get_bind().engine.url), board.id, x, y,
           tuple(sorted(filters.query().items())), newest)
    with _PARETO_LOCK:
        hit = _PARETO_CACHE.get(key)
    if hit is not None:
        return hit
    out = pareto_front(session, board, x, y, filters)
    with _PARETO_LOCK:
        if len(_PARETO_CACHE) >= 64:
            _PARETO_CACHE.pop(next(iter(_PARETO_CACHE)))
        _PARETO_CACHE[key] = out
    return out


def pareto_front(session: Session, board: Scoreboard, x: str, y: str,
                 filters: Filters) -> dict[str, Any]:
    """The Pareto front of two metrics (in their better directions) and a bounded set of
    points to plot: the front plus an even sample of the rest.

    The front is found in the database: ordered by x (best first), a point is on it when
    its y beats the best y of every point before it (a window function)."""
    sx, sy = metric_spec(board, x), metric_spec(board, y)
    gx = 1.0 if sx["better"] == "higher" else -1.0
    gy = 1.0 if sy["better"] == "higher" else -1.0
    mx, my = ResultMetric.__table__.alias("mx"), ResultMetric.__table__.alias("my")
    base = (select(mx.c.result_id.label("rid"), (mx.c.value * gx).label("gx"),
                   (my.c.value * gy).label("gy"))
            .join(my, and_(my.c.result_id == mx.c.result_id, my.c.metric == y))
            .where(mx.c.scoreboard_id == board.id, mx.c.metric == x))
    if filters.query():
        base = base.join(Result, Result.id == mx.c.result_id).where(*filters.conditions(board))
    pts = base.subquery()
    best_before = func.max(pts.c.gy).over(
        order_by=(pts.c.gx.desc(), pts.c.gy.desc(), pts.c.rid.asc()), rows=(None, -1))
    ranked = select(pts.c.rid, pts.c.gx, pts.c.gy, best_before.label("best")).subquery()
    front_rows = session.execute(
        select(ranked.c.rid).where((ranked.c.best.is_(None)) | (ranked.c.gy > ranked.c.best))
        .order_by(ranked.c.gx.desc()).limit(PARETO_POINTS)).all()
    front = [int(r[0]) for r in front_rows]
    total = session.scalar(select(func.count()).select_from(pts)) or 0
    chosen = set(front)
    room = PARETO_POINTS - len(chosen)
    if total and room > 0:
        step = max(total // room, 1)
        sample = select(pts.c.rid).where(pts.c.rid % step == 0) if step > 1 else \
            select(pts.c.rid)
        chosen.update(int(r[0]) for r in session.execute(sample.limit(room)))
    ids = sorted(chosen)
    details: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in session.execute(select(Result.id, Result.solution_version,
                                          Result.platform_summary, Result.backend,
                                          Result.reference, Result.metrics)
                                   .where(Result.id.in_(chunk))):
            details[row[0]] = row
    on_front = set(front)
    points = [{"id": rid, "x": details[rid][5].get(x), "y": details[rid][5].get(y),
               "front": rid in on_front, "solution_version": details[rid][1],
               "platform_summary": details[rid][2], "backend": details[rid][3],
               "reference": bool(details[rid][4])} for rid in ids if rid in details]
    return {"x": sx, "y": sy, "front": front, "points": points, "total": total}

