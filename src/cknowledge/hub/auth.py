"""Users and bearer tokens: tokens are random, stored only as sha256 hex, compared in
constant time, never logged or echoed."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import AlreadyExists, AuthError, InvalidInput
from .models import User

_USER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user_name(name: str) -> str:
    if not isinstance(name, str) or not _USER_RE.fullmatch(name):
        raise InvalidInput(f"hub: user name {name!r} is not valid: use letters, digits, "
                           "'_', '.', '-' (up to 100, starting with a letter or digit)")
    return name


def create_user(session: Session, name: str, admin: bool = False) -> str:
    """Add user ``name`` and return its new token (the only time it is seen in clear)."""
    check_user_name(name)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AlreadyExists(f"hub: user {name!r} exists already; pick another name")
    token = secrets.token_urlsafe(32)
    session.add(User(name=name, token_sha256=token_hash(token), admin=admin))
    try:
        session.flush()
    except IntegrityError:
        raise AlreadyExists(f"hub: user {name!r} exists already; pick another name") from None
    return token


def user_for_token(session: Session, token: str | None) -> User:
    """The user whose token this is; AuthError (401) for a missing or unknown token."""
    if not token:
        raise AuthError("hub: this request writes: send 'Authorization: Bearer TOKEN' "
                        "(an admin creates users and tokens with 'ck hub user add NAME')")
    digest = token_hash(token)
    user = session.scalar(select(User).where(User.token_sha256 == digest))
    if user is None or not hmac.compare_digest(user.token_sha256, digest):
        raise AuthError("hub: the bearer token is not valid on this hub "
                        "(ask an admin for one: 'ck hub user add NAME')")
    return user
