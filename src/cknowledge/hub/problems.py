"""The hub's error answers: ``{"return": code, "error": "one line"}`` with the ck codes
of ``errors.py`` and the HTTP status of ``serve.policy.STATUS_BY_CODE``, except where
the hub's API names a more precise one (invalid input is 422, too large is 413).
No web imports here."""

from __future__ import annotations

from typing import Any

from ..errors import CKError, InvalidInput, ReadOnly
from ..serve.policy import STATUS_BY_CODE


class NotOwner(ReadOnly):
    """A write the token's user may not make (not an owner, not an admin): 403."""


class DatabaseUnavailable(CKError):
    """The hub's database cannot be opened or reached (a server down, a file that cannot
    be created): 503."""

    status = 503


class TooLarge(InvalidInput):
    """An upload or body over the server's limit: 413."""

    status = 413


#: the hub answers request problems with 422 (its OpenAPI says so), the rest as ``ck serve``
_HUB_STATUS: dict[int, int] = {**STATUS_BY_CODE, 2: 422, 3: 422, 4: 422, 5: 422, 9: 422,
                               10: 422, 11: 422}


def status_of(exc: CKError) -> int:
    """The HTTP status for ``exc``."""
    explicit = getattr(exc, "status", None)
    if isinstance(explicit, int):
        return explicit
    return _HUB_STATUS.get(exc.code, 400)


def body_of(exc: CKError) -> dict[str, Any]:
    """The JSON body for ``exc``: its code and one line."""
    return {"return": exc.code, "error": " ".join(exc.message.split())}
