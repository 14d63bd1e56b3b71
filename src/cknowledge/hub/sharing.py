"""Who may read a private item, as its owners decide: make a component (a paper among
them) or a scoreboard private or public, and invite readers (``access.py`` applies it to
every read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from .models import Reader, ScoreboardReader, User, utcnow
from .problems import NotOwner
from .service import _board, _is_owner, _require_component

def set_component_private(session: Session, user: User, automation: str, name: str,
                          private: bool) -> dict[str, Any]:
    """Make a component private or public (owners only)."""
    comp = _require_component(session, automation, name, user)
    if not _is_owner(session, comp, user):
        raise NotOwner(f"hub: only an owner of {automation}:{name} can change who sees it")
    comp.private = private
    comp.updated_at = utcnow()
    return {"automation": automation, "name": name, "private": private}


def add_component_reader(session: Session, user: User, automation: str, name: str,
                         reader: str) -> dict[str, Any]:
    """Invite ``reader`` to read a (private) component (owners only)."""
    comp = _require_component(session, automation, name, user)
    if not _is_owner(session, comp, user):
        raise NotOwner(f"hub: only an owner of {automation}:{name} can invite readers")
    target = _user_named(session, reader)
    if session.get(Reader, (comp.id, target.id)) is None:
        session.add(Reader(component_id=comp.id, user_id=target.id))
        session.flush()
    readers = list(session.scalars(select(User.name).join(Reader, Reader.user_id == User.id)
                                   .where(Reader.component_id == comp.id)
                                   .order_by(User.name)))
    return {"automation": automation, "name": name, "readers": readers}


def set_board_private(session: Session, user: User, name: str,
                      private: bool) -> dict[str, Any]:
    """Make a scoreboard private or public (its creator or an admin)."""
    board = _board(session, name, user)
    if board.owner_id != user.id and not user.admin:
        raise NotOwner(f"hub: only the owner of scoreboard {name!r} can change who sees it")
    board.private = private
    return {"name": name, "private": private}


def add_board_reader(session: Session, user: User, name: str, reader: str) -> dict[str, Any]:
    """Invite ``reader`` to read a (private) scoreboard (its creator or an admin)."""
    board = _board(session, name, user)
    if board.owner_id != user.id and not user.admin:
        raise NotOwner(f"hub: only the owner of scoreboard {name!r} can invite readers")
    target = _user_named(session, reader)
    if session.get(ScoreboardReader, (board.id, target.id)) is None:
        session.add(ScoreboardReader(scoreboard_id=board.id, user_id=target.id))
        session.flush()
    readers = list(session.scalars(
        select(User.name).join(ScoreboardReader, ScoreboardReader.user_id == User.id)
        .where(ScoreboardReader.scoreboard_id == board.id).order_by(User.name)))
    return {"name": name, "readers": readers}


def _user_named(session: Session, name: str) -> User:
    target = session.scalar(select(User).where(User.name == name))
    if target is None:
        raise NotFound(f"hub: no user {name!r} on this hub (an admin adds users with "
                       "'ck hub user add NAME')")
    return target
