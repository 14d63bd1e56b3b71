"""Who may read what: private components (papers among them) and private scoreboards are
visible only to their owners and invited readers.

Every read goes through these conditions: a listing or search adds ``*_visible(viewer)``
to its WHERE clause (so counts and totals never include what the viewer may not see), and
a lookup by name or id answers the same 404 for "does not exist" and "may not be seen".
The viewer comes from ``Authorization: Bearer TOKEN`` on the API and from the
``ck_hub_token`` cookie (set by the ``/login`` page) on web pages; no token is the public.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.orm import Session

from .auth import token_hash, user_for_token
from .models import Component, Owner, Reader, Scoreboard, ScoreboardReader, User

#: the cookie the web pages read the viewer's token from
COOKIE = "ck_hub_token"


#: token sha256 (and database) → (expiry, user id, name, admin): reads look a token up once
#: a minute, not at every request (users and tokens are only ever added)
_VIEWERS: dict[tuple[str, str], tuple[float, int, str, bool]] = {}
_VIEWERS_LOCK = threading.Lock()
VIEWER_TTL = 60.0


def viewer_for(session: Session, token: str | None) -> User | None:
    """The user of ``token``; None for no token (the public). A token that is not valid
    is refused (401) rather than quietly read as the public. The answer is a detached
    ``User`` with ``id``, ``name`` and ``admin``, remembered for ``VIEWER_TTL`` seconds."""
    if not token:
        return None
    key = (str(session.get_bind().engine.url), token_hash(token))
    now = time.monotonic()
    with _VIEWERS_LOCK:
        hit = _VIEWERS.get(key)
    if hit is not None and hit[0] > now:
        return User(id=hit[1], name=hit[2], admin=hit[3])
    user = user_for_token(session, token)
    with _VIEWERS_LOCK:
        if len(_VIEWERS) >= 4096:
            _VIEWERS.clear()
        _VIEWERS[key] = (now + VIEWER_TTL, user.id, user.name, user.admin)
    return User(id=user.id, name=user.name, admin=user.admin)


def cookie_viewer(session: Session, request: Any) -> User | None:
    """The viewer of a web page: the user of the login cookie, or None (no cookie, or a
    token no longer valid: the page is shown as to the public)."""
    from ..errors import AuthError

    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return viewer_for(session, token)
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
