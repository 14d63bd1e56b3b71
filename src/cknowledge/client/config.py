"""Where the client finds its hub and token.

``cb login`` stores ``{"url", "token"}`` in ``$CK_HOME/client/hub.json`` (mode 0600).
The URL in use is, in order: the ``hub`` argument (``--hub``), ``$CK_HUB_URL``, the
stored URL, :data:`DEFAULT_URL`. The token is ``$CK_HUB_TOKEN``, else the stored token
when the URL in use is the stored one (a token belongs to one hub and is never sent to
another).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from ..errors import InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_URL = "http://127.0.0.1:8787"
URL_ENV = "CK_HUB_URL"
TOKEN_ENV = "CK_HUB_TOKEN"


@dataclass(frozen=True)
class HubSettings:
    """The hub to talk to, and the token for it (``None``: read-only use)."""

    url: str
    token: str | None
    source: str  # where the URL came from: "--hub", "$CK_HUB_URL", "login", "default"


def config_path(home: str) -> str:
    return os.path.join(home, "client", "hub.json")


def normalize_url(url: str) -> str:
    """``127.0.0.1:8787/`` → ``http://127.0.0.1:8787``; only http(s) URLs with a host (and
    a valid port) are accepted. The API's own path (``/api/v1``) at the end is dropped:
    the hub's URL is where its web pages are."""
    from urllib.parse import urlsplit

    text = str(url).strip()
    if not text:
        raise InvalidInput("the hub URL is empty; pass --hub=http://HOST:PORT")
    if "://" not in text:
        text = "http://" + text
    scheme = text.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise InvalidInput(f"the hub URL {url!r} must start with http:// or https://")
    bad = f"the hub URL {url!r} is not valid"
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise InvalidInput(f"{bad} (it holds a space or control character); pass "
                           "--hub=http://HOST:PORT")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0..65535
    except ValueError as exc:
        raise InvalidInput(f"{bad} ({exc}); pass --hub=http://HOST:PORT") from None
    if not parts.hostname:
        raise InvalidInput(f"the hub URL {url!r} names no host; pass --hub=http://HOST:PORT")
    if parts.query or parts.fragment:
        raise InvalidInput(f"{bad}: it may not have a query or fragment (?, #); pass "
                           "--hub=http://HOST:PORT")
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[:-len("/api/v1")].rstrip("/")
    return f"{scheme}://{parts.netloc}{path}"


def read_config(home: str) -> dict[str, Any]:
    """The stored login, or ``{}``; a damaged file is reported, not ignored."""
    path = config_path(home)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the hub login {path}: {exc}; run `cb login` again "
                           "or delete the file") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"the hub login {path} must hold a JSON object; run `cb login` again")
    return data


def write_config(home: str, url: str, token: str) -> str:
    """Store the login (mode 0600, replaced atomically); returns the file's path."""
    from ..store.metaio import atomic_write_text

    path = config_path(home)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic_write_text(path, json.dumps({"url": url, "token": token}) + "\n", mode=0o600)
    return path


def remove_config(home: str) -> bool:
    try:
        os.unlink(config_path(home))
    except FileNotFoundError:
        return False
    return True


def settings(home: str, hub: str | None = None,
             env: dict[str, str] | None = None) -> HubSettings:
    """The hub URL and token for one call (see the module's docstring for the order)."""
    env = dict(os.environ) if env is None else env
    stored = read_config(home)
    stored_url = normalize_url(stored["url"]) if isinstance(stored.get("url"), str) \
        and stored.get("url") else None
    if hub:
        url, source = normalize_url(hub), "--hub"
    elif env.get(URL_ENV):
        url, source = normalize_url(env[URL_ENV]), f"${URL_ENV}"
    elif stored_url:
        url, source = stored_url, "login"
    else:
        url, source = DEFAULT_URL, "default"
    token = env.get(TOKEN_ENV) or None
    if token is None and stored_url == url and isinstance(stored.get("token"), str):
        token = stored["token"] or None
    return HubSettings(url=url, token=token, source=source)
