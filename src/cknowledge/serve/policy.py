"""What the REST layer decides without FastAPI: HTTP statuses, who may write, tokens.

Kept free of web imports so that it can be read, tested and reused on its own.
"""

from __future__ import annotations

import hmac
from typing import Any

from .. import api
from ..errors import CKError

#: ``access()`` return code → HTTP status. Codes not listed answer 400, except a
#: missing or non-integer code, which is the server's fault (500).
STATUS_BY_CODE: dict[int, int] = {
    0: 200,
    1: 500,   # CKError / internal error
    2: 400,   # InvalidInput
    3: 400,   # UnknownAction
    4: 400,   # UnknownAutomation
    5: 400,   # UnsafeName
    6: 422,   # MetaError
    7: 403,   # ReadOnly
    8: 409,   # AlreadyExists
    9: 400,   # Ambiguous
    10: 400,  # RepoError
    11: 400,  # ArchiveError
    12: 400,  # PluginError
    13: 401,  # AuthError
    14: 422,  # CommandFailed: the request was understood, the step it ran failed
    15: 502,  # DownloadError: an upstream server or the network failed
    16: 404,  # NotFound
    17: 422,  # ChecksumError
    18: 409,  # Unsatisfiable: the requirements conflict
    19: 500,  # CacheError
    32: 423,  # Locked
}

#: Actions the kernel resolves with ``for_write=True`` (mirrors ``Kernel.call``).
_FOR_WRITE_ACTIONS = ("add", "import")


def http_status(result: Any) -> int:
    """The HTTP status for one ``access()`` result dict."""
    code = result.get("return") if isinstance(result, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return 500
    return STATUS_BY_CODE.get(code, 400)


def action_writes(request: dict[str, Any], home: str | None) -> bool:
    """Whether ``request`` names an action marked ``writes=True``.

    The automation is resolved exactly as ``Kernel.call`` resolves it. When the
    automation or action is unknown (or the request is malformed) no write can
    happen, so no token is needed: ``access()`` answers with the proper error.
    An unexpected failure while looking it up fails closed (a token is needed).
    The caller must hold the kernel lock so that the answer stays true until the
    request runs.
    """
    action = request.get("action")
    if not isinstance(action, str) or not action:
        return False
    name = request.get("automation") or "kernel"
    try:
        kernel = api.kernel_for(home)
        cls = kernel.automation_class(name, for_write=action in _FOR_WRITE_ACTIONS)
        func = cls.actions().get(action)
    except CKError:
        return False
    except Exception:  # noqa: BLE001 - unknown state: ask for the token
        return True
    if func is None:
        return False
    marker = getattr(func, "__ck_action__", None) or {}
    return bool(marker.get("writes", True))


def token_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty or missing expected token matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def auth_error(expected: str | None, given: str | None) -> dict[str, Any]:
    """The ``access()``-shaped 401 body (never echoes either token)."""
    if not expected:
        message = "this server was started without a token, so it accepts no writes"
    elif not given:
        message = "this action writes: send 'Authorization: Bearer TOKEN' (ck serve prints it)"
    else:
        message = "the bearer token is not valid for this server"
    return {"return": 13, "error": message}
