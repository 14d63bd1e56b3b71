"""What the REST layer decides without FastAPI: HTTP statuses, who may write, tokens.

Kept free of web imports so that it can be read, tested and reused on its own.
"""

from __future__ import annotations

import hmac
import os
import re
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


#: Inputs that name something the server would run, contact or read, by input name, for
#: every automation and action. A REST request that gives one needs the token even when
#: its action does not write (docs/serve.md, "Inputs that need the token"):
#:
#: - ``executable``: a program the server would run (``soft detect --python=PATH``) or
#:   folders whose programs it would run (``--paths``); always needs the token;
#: - ``url``: a server the server would contact (``hub versions --hub=URL``): always;
#: - ``path``: a file or folder the server would read; needs the token unless it lies in
#:   the served CK home.
GUARDED_INPUTS: dict[str, str] = {
    "python": "executable", "paths": "executable", "compiler": "executable",
    "cc": "executable", "cxx": "executable", "command": "executable", "cmd": "executable",
    "hub": "url", "url": "url", "mirror": "url", "index_url": "url", "extra_index_url": "url",
    "db": "url",
    "file": "path", "path": "path", "root": "path", "dir": "path", "folder": "path",
    "out": "path", "output": "path", "lock": "path", "from_lock": "path", "cwd": "path",
}
#: Whatever the input's name, a value of these shapes is a URL or a path:
_URL_VALUE = re.compile(r"[A-Za-z0-9+.-]:/|^[/\\]{2}")
_PATH_VALUE = re.compile(r"^(~|\.{1,2}$)|[/\\]")
#: how deep input values are looked into (deeper values are guarded as a whole)
_MAX_DEPTH = 16


def guarded_input(request: dict[str, Any], home: str) -> str | None:
    """Why ``request`` needs the token although its action does not write, or None.

    An input needs it when its name is in :data:`GUARDED_INPUTS`, or when any text in its
    value (looked into lists and objects) reads as a URL (``scheme://``) or as a path
    that is not inside ``home`` (``/x``, ``~``, ``..``, ``a/b``, ``a\\b``). Deciding by
    name and shape, not by what one action does with the value, keeps the rule true for
    actions added later and for repo automations the server has never seen."""
    for key, value in request.items():   # "action" and "automation" too: names only
        kind = GUARDED_INPUTS.get(str(key))
        empty = value is None or (isinstance(value, (str, list, dict)) and not value)
        if kind in ("executable", "url") and not empty:
            what = "a program to run" if kind == "executable" else "a server to contact"
            return f"the input {key!r} names {what}"
        reason = _guarded_value(value, home, kind == "path", 0)
        if reason:
            return f"the input {key!r} {reason}"
    return None


def _guarded_value(value: Any, home: str, path_input: bool, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return "nests too deeply to be checked"
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        if _URL_VALUE.search(value):
            return "holds a URL"
        if (path_input and value) or _PATH_VALUE.search(value):
            if not _inside(value, home):
                return "names a path outside the CK home"
        return None
    else:
        return None
    for item in items:
        reason = _guarded_value(item, home, path_input, depth + 1)
        if reason:
            return reason
    return None


def _inside(value: str, home: str) -> bool:
    """Whether ``value``, read as a path, is an absolute path inside ``home`` (links
    resolved). Relative paths depend on the server's working folder: never inside."""
    if "\x00" in value or not os.path.isabs(value):
        return False
    try:
        real = os.path.realpath(value)
        root = os.path.realpath(home)
    except (OSError, ValueError):
        return False
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def token_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an empty or missing expected token matches nothing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def auth_error(expected: str | None, given: str | None,
               reason: str | None = None) -> dict[str, Any]:
    """The ``access()``-shaped 401 body (never echoes either token). ``reason``: why a
    request whose action does not write needs the token (:func:`guarded_input`)."""
    if given and expected:
        message = "the bearer token is not valid for this server"
    elif given:
        message = ("this server was started without a token, so no token is valid: send "
                   "reads without 'Authorization'")
    elif not expected:
        message = (f"{reason}, so it needs the token, and this server was started without one"
                   if reason else
                   "this server was started without a token, so it accepts no writes")
    elif reason:
        message = f"{reason}: send 'Authorization: Bearer TOKEN' (ck serve prints it)"
    else:
        message = "this action writes: send 'Authorization: Bearer TOKEN' (ck serve prints it)"
    return {"return": 13, "error": message}
