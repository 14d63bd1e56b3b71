"""Who may read what: private components (papers among them) and private scoreboards are
visible only to their owners and invited readers.

Every read goes through these conditions: a listing or search adds ``*_visible(viewer)``
to its WHERE clause (so counts and totals never include what the viewer may not see), and
a lookup by name or id answers the same 404 for "does not exist" and "may not be seen".
The viewer comes from ``Authorization: Bearer TOKEN`` on the API and from the
``ck_hub_token`` cookie (set by the ``/login`` page) on web pages; no token is the public.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.orm import Session

from .auth import user_for_token
from .models import Component, Owner, Reader, Scoreboard, ScoreboardReader, User

#: the cookie the web pages read the viewer's token from
COOKIE = "ck_hub_token"


def viewer_for(session: Session, token: str | None) -> User | None:
    """The user of ``token``; None for no token (the public). A token that is not valid
    is refused (401) rather than quietly read as the public."""
    if not token:
        return None
    return user_for_token(session, token)


def cookie_viewer(session: Session, request: Any) -> User | None:
    """The viewer of a web page: the user of the login cookie, or None (no cookie, or a
    token no longer valid: the page is shown as to the public)."""
    from ..errors import AuthError

    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return user_for_token(session, token)
    except AuthError:
        return None


def component_visible(viewer: User | None) -> ColumnElement[bool]:
    """Components ``viewer`` may see: public ones, and private ones it owns or reads."""
    if viewer is None:
        return Component.private == false()
    return (Component.private == false()) | exists().where(
        Owner.component_id == Component.id, Owner.user_id == viewer.id) | exists().where(
        Reader.component_id == Component.id, Reader.user_id == viewer.id)


def board_visible(viewer: User | None) -> ColumnElement[bool]:
    """Scoreboards ``viewer`` may see: public ones, its own and those it was invited to."""
    if viewer is None:
        return Scoreboard.private == false()
    return (Scoreboard.private == false()) | (Scoreboard.owner_id == viewer.id) | exists(
    ).where(ScoreboardReader.scoreboard_id == Scoreboard.id,
            ScoreboardReader.user_id == viewer.id)


def can_see_component(session: Session, comp: Component, viewer: User | None) -> bool:
    if not comp.private:
        return True
    if viewer is None:
        return False
    return session.scalar(select(true()).where(component_visible(viewer),
                                               Component.id == comp.id)) is not None


def can_see_board(board: Scoreboard, session: Session, viewer: User | None) -> bool:
    if not board.private:
        return True
    if viewer is None:
        return False
    return session.scalar(select(true()).where(board_visible(viewer),
                                               Scoreboard.id == board.id)) is not None
