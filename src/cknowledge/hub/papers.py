"""Papers on the hub: a paper is the component ``paper:NAME`` (published with ``cb publish``,
its claims in the published meta); reproductions are submitted by anyone with a token and
shown on the paper's page with a verdict per claim; badges are computed from the evidence
(``cknowledge.papers.badges``). Visibility follows the paper component's."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..papers import badges as rules
from .access import component_visible
from .models import (Component, ComponentVersion, Owner, Reproduction, ReproductionVerdict,
                     User)
from .schemas import ReproductionIn
from .service import _platform_summary, _require_component, iso, page, version_order


def _paper(session: Session, name: str, viewer: User | None) -> Component:
    return _require_component(session, "paper", name, viewer)


def _latest_meta(session: Session, comp: Component) -> dict[str, Any]:
    rows = list(session.execute(select(ComponentVersion.version, ComponentVersion.meta)
                                .where(ComponentVersion.component_id == comp.id)).all())
    if not rows:
        return {}
    rows.sort(key=lambda r: version_order(r[0]), reverse=True)
    meta = rows[0][1]
    return meta if isinstance(meta, dict) else {}


def _claims(meta: dict[str, Any]) -> list[dict[str, Any]]:
    claims = meta.get("claims")
    return [c for c in claims if isinstance(c, dict) and isinstance(c.get("id"), str)] \
        if isinstance(claims, list) else []


def submit_reproduction(session: Session, user: User, name: str,
                        body: ReproductionIn) -> tuple[int, bool]:
    """Store one reproduction of ``paper:NAME``; ``(id, duplicate)``."""
    comp = _paper(session, name, user)
    known = [c["id"] for c in _claims(_latest_meta(session, comp))]
    unknown = [c for c in body.claims if c not in known]
    if unknown:
        raise InvalidInput(f"hub: paper {name!r} has no claim {unknown[0]!r} (claims: "
                           f"{', '.join(known) or 'none'})")
    digest = body.digest(name, user.name)
    found = session.scalar(select(Reproduction.id)
                           .where(Reproduction.submission_sha256 == digest))
    if found is not None:
        return found, True
    verdicts = {cid: v.verdict for cid, v in body.claims.items()}
    row = Reproduction(paper_id=comp.id, submission_sha256=digest, submitter_id=user.id,
                       paper_version=body.paper_version,
                       platform_fingerprint=body.platform.fingerprint,
                       platform_summary=_platform_summary(body.platform.facts),
                       complete=body.complete and set(verdicts) == set(known),
                       reproduced=sum(1 for v in verdicts.values() if v == "reproduced"),
                       claims=len(verdicts), verdicts=verdicts,
                       body=body.model_dump(mode="json", exclude_none=True))
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            session.add_all(ReproductionVerdict(reproduction_id=row.id, claim=cid,
                                                paper_id=comp.id, submitter_id=user.id,
                                                verdict=v) for cid, v in verdicts.items())
            session.flush()
    except IntegrityError:
        again = session.scalar(select(Reproduction.id)
                               .where(Reproduction.submission_sha256 == digest))
        if again is None:
            raise
        return again, True
    return row.id, False


def list_reproductions(session: Session, name: str, viewer: User | None, limit: int = 50,
                       offset: int = 0) -> dict[str, Any]:
    """One page of a paper's reproductions, newest first."""
    limit, offset = page(limit, offset)
    comp = _paper(session, name, viewer)
    return _reproductions(session, comp, limit, offset)


def _reproductions(session: Session, comp: Component, limit: int,
                   offset: int) -> dict[str, Any]:
    total = session.scalar(select(func.count()).select_from(Reproduction)
                           .where(Reproduction.paper_id == comp.id)) or 0
    rows = session.execute(
        select(Reproduction.id, User.name, Reproduction.submitted_at,
               Reproduction.paper_version, Reproduction.platform_fingerprint,
               Reproduction.platform_summary, Reproduction.verdicts, Reproduction.complete,
               Reproduction.reproduced, Reproduction.claims)
        .join(User, User.id == Reproduction.submitter_id)
        .where(Reproduction.paper_id == comp.id)
        .order_by(Reproduction.id.desc()).limit(limit).offset(offset)).all()
    items = [{"id": r[0], "submitter": r[1], "submitted_at": iso(r[2]), "paper_version": r[3],
              "platform_fingerprint": r[4], "platform_summary": r[5], "verdicts": r[6],
              "complete": bool(r[7]), "reproduced": r[8], "claims": r[9]} for r in rows]
    return {"items": items, "total": total}


_TALLY: dict[tuple[Any, ...], tuple[dict[str, dict[str, int]], dict[str, int]]] = {}
_TALLY_LOCK = threading.Lock()


def _tally(session: Session, comp: Component
           ) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """``_counts`` and ``_by_others``, remembered until the paper gets a new reproduction
    or its owners change (reproductions are only ever added, so the newest id and the
    owners tell whether an answer is still true)."""
    newest = session.scalar(select(func.max(Reproduction.id))
                            .where(Reproduction.paper_id == comp.id)) or 0
    owners = tuple(session.scalars(select(Owner.user_id).where(Owner.component_id == comp.id)
                                   .order_by(Owner.user_id)))
    key = (str(session.get_bind().engine.url), comp.id, newest, owners)
    with _TALLY_LOCK:
        hit = _TALLY.get(key)
    if hit is not None:
        return hit
    out = (_counts(session, comp), _by_others(session, comp))
    with _TALLY_LOCK:
        if len(_TALLY) >= 256:
            _TALLY.pop(next(iter(_TALLY)))
        _TALLY[key] = out
    return out


def _counts(session: Session, comp: Component) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    rv = ReproductionVerdict
    for claim, verdict, n in session.execute(
            select(rv.claim, rv.verdict, func.count()).where(rv.paper_id == comp.id)
            .group_by(rv.claim, rv.verdict)):
        out.setdefault(claim, {})[verdict] = n
    return out


def _by_others(session: Session, comp: Component) -> dict[str, int]:
    """Claim → reproductions by non-owners that found it reproduced."""
    rv = ReproductionVerdict
    not_owner = ~exists().where(Owner.component_id == comp.id,
                                Owner.user_id == rv.submitter_id)
    return {claim: n for claim, n in session.execute(
        select(rv.claim, func.count()).where(rv.paper_id == comp.id,
                                             rv.verdict == "reproduced", not_owner)
        .group_by(rv.claim))}


def _functional(session: Session, comp: Component, claim_ids: list[str]) -> dict[str, Any]:
    rv = ReproductionVerdict
    ok = session.scalar(
        select(Reproduction.id).where(
            Reproduction.paper_id == comp.id, Reproduction.complete.is_(True),
            ~exists().where(rv.reproduction_id == Reproduction.id, rv.verdict == "failed"))
        .limit(1))
    if ok is not None:
        return {"badge": "functional", "earned": True,
                "evidence": f"every claim's workflow ran to completion (reproduction {ok})"}
    return {"badge": "functional", "earned": False,
            "evidence": "no reproduction has run every claim to completion"
            if claim_ids else "the paper has no claims"}


def _artifacts(session: Session, meta: dict[str, Any],
               viewer: User | None) -> list[dict[str, Any]]:
    """The listed artifacts with the version the hub has: ``public`` whether the public
    can download it (the *available* badge), ``published`` the newest version ``viewer``
    may see (None when none, or when it is private and not theirs to read)."""
    from .access import can_see_component

    out = []
    for item in meta.get("artifacts") or []:
        if not isinstance(item, dict) or not isinstance(item.get("component"), str):
            continue
        auto, _, name = item["component"].partition(":")
        comp = session.scalar(select(Component).where(Component.automation == auto,
                                                      Component.name == name))
        seen = comp is not None and (not comp.private or
                                     can_see_component(session, comp, viewer))
        out.append({"component": item["component"], "version": item.get("version") or "",
                    "role": item.get("role") or "",
                    "published": comp.latest if seen and comp is not None and comp.latest
                    else None,
                    "public": bool(comp is not None and not comp.private and comp.latest)})
    return out


def paper_page(session: Session, name: str, viewer: User | None, limit: int = 50,
               offset: int = 0) -> dict[str, Any]:
    """Everything the paper's page shows: the paper, its claims with verdict counts, the
    artifacts with versions, the badges and one page of reproductions."""
    limit, offset = page(limit, offset)
    comp = _paper(session, name, viewer)
    meta = _latest_meta(session, comp)
    claims = _claims(meta)
    ids = [c["id"] for c in claims]
    counts, by_others = _tally(session, comp)
    artifacts = _artifacts(session, meta, viewer)
    badges = [rules.available(bool(comp.latest),
                              {a["component"]: a["public"] for a in artifacts}, comp.private),
              _functional(session, comp, ids), rules.reproduced(ids, by_others)]
    repro = _reproductions(session, comp, limit, offset)
    keep = ("title", "authors", "venue", "year", "doi", "arxiv", "abstract", "hardware",
            "checklist", "expected_minutes")
    return {"name": comp.name, "latest": comp.latest, "private": comp.private,
            **{k: meta.get(k) for k in keep if k in meta},
            "claims": [{**{k: c.get(k) for k in ("id", "figure", "title", "unit", "value",
                                                 "tolerance", "hardware")},
                        "counts": counts.get(c["id"], {})} for c in claims],
            "artifacts": artifacts, "badges": badges, "reproductions": repro["total"],
            "items": repro["items"], "command": f"ck reproduce paper:{comp.name}"}


def list_papers(session: Session, viewer: User | None, limit: int = 50,
                offset: int = 0) -> dict[str, Any]:
    limit, offset = page(limit, offset)
    conds = [Component.automation == "paper", component_visible(viewer)]
    total = session.scalar(select(func.count()).select_from(Component).where(*conds)) or 0
    comps = list(session.scalars(select(Component).where(*conds)
                                 .order_by(Component.updated_at.desc(), Component.id.desc())
                                 .limit(limit).offset(offset)))
    counts = dict(session.execute(
        select(Reproduction.paper_id, func.count())
        .where(Reproduction.paper_id.in_([c.id for c in comps]))
        .group_by(Reproduction.paper_id)).all()) if comps else {}
    items = [{"name": c.name, "title": c.description, "latest": c.latest,
              "reproductions": counts.get(c.id, 0), "updated_at": iso(c.updated_at)}
             for c in comps]
    return {"items": items, "total": total}

