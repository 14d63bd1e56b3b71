"""``hub``: the client side of a component hub, and its administration.

``cb login|publish|versions|download`` and ``ck hub VERB ...`` map onto these actions;
through ``access()`` they are ``{"action": "publish", "automation": "hub", "component":
"dataset:x", "version": "1.2.0"}`` and so on. ``ck hub serve`` runs the server in the
foreground and is a command-line verb only.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class HubAutomation(Automation):
    name = "hub"
    summary = "publish, find and download components; submit results (a component hub)"

    @classmethod
    def actions(cls) -> dict[str, Callable[..., Any]]:
        """Only the hub's own actions: there are no ``hub`` entries to add, find or copy."""
        own = {name for name, value in vars(HubAutomation).items()
               if getattr(value, "__ck_action__", None) is not None}
        return {k: v for k, v in super().actions().items() if k in own}

    @action
    def login(self, hub: str | None = None, token: str | None = None) -> dict[str, Any]:
        """Check a token with the hub and store the URL and token (--hub=URL --token=T)."""
        from ..client.ops import login

        return login(self.kernel.home, hub, token)

    @action
    def logout(self) -> dict[str, Any]:
        """Forget the stored hub login."""
        from ..client.ops import logout

        return logout(self.kernel.home)

    @action(writes=False)
    def whoami(self, hub: str | None = None) -> dict[str, Any]:
        """Ask the hub whom the token in use belongs to."""
        from ..client.ops import whoami

        return whoami(self.kernel.home, hub)

    @action(writes=False)
    def status(self, hub: str | None = None) -> dict[str, Any]:
        """The hub URL and login in use (without contacting the hub)."""
        from ..client.ops import status

        return status(self.kernel.home, hub)

    @action  # sends the stored token: REST callers need the server's token
    def publish(self, component: str, version: str, hub: str | None = None,
                dry_run: bool = False, private: bool = False) -> dict[str, Any]:
        """Pack an entry (AUTOMATION:[REPO:]NAME) and publish it as --version=X.Y.Z
        (--private: a new component only its owners and invited readers see)."""
        from ..client.ops import publish

        return publish(self.kernel.home, self.store, component, version, hub, dry_run,
                       private)

    @action
    def invite(self, component: str, user: str, hub: str | None = None) -> dict[str, Any]:
        """Let --user=NAME read the private AUTOMATION:NAME or scoreboard:NAME (owners)."""
        from ..client.papers import invite

        return invite(self.kernel.home, component, user, hub)

    @action
    def visibility(self, component: str, private: bool, hub: str | None = None
                   ) -> dict[str, Any]:
        """Make AUTOMATION:NAME or scoreboard:NAME --private=yes|no (owners)."""
        from ..client.papers import set_visibility

        return set_visibility(self.kernel.home, component, private, hub)

    @action
    def grant(self, component: str, user: str, hub: str | None = None) -> dict[str, Any]:
        """Make --user=NAME an owner of AUTOMATION:NAME on the hub (owners only)."""
        from ..client.ops import grant

        return grant(self.kernel.home, component, user, hub)

    @action(writes=False)
    def versions(self, component: str, hub: str | None = None) -> dict[str, Any]:
        """The published versions of AUTOMATION:NAME, newest first."""
        from ..client.ops import versions

        return versions(self.kernel.home, component, hub)

    @action(writes=False)
    def search(self, q: str | None = None, automation: str | None = None,
               tag: str | None = None, limit: int = 50, offset: int = 0,
               hub: str | None = None) -> dict[str, Any]:
        """Find components on the hub by text, automation or tag."""
        from ..client.ops import search

        return search(self.kernel.home, q, automation, tag, limit, offset, hub)

    @action
    def download(self, component: str, version: str | None = None, repo: str | None = None,
                 force: bool = False, hub: str | None = None) -> dict[str, Any]:
        """Install the newest AUTOMATION:NAME that --version (a range) admits, with its deps."""
        from ..client.ops import download

        return download(self.kernel.home, self.store, component, version, repo, force, hub,
                        echo=self.kernel.echo)

    @action
    def submit(self, scoreboard: str, submission: dict[str, Any] | None = None,
               file: str | None = None, hub: str | None = None) -> dict[str, Any]:
        """Submit a result (--submission=JSON or --file=result.json) to a scoreboard."""
        from ..client.ops import submit

        if (submission is None) == (file is None):
            raise InvalidInput("give the result as --submission=JSON or --file=FILE (one)")
        if file is not None:
            submission = _read_json(file)
        assert submission is not None
        bad = _non_finite(submission)
        if bad:
            raise InvalidInput(f"the submission's {bad[0]} is {bad[1]}: JSON has no NaN or "
                               "Infinity; give a number or leave it out")
        return submit(self.kernel.home, scoreboard, submission, hub)

    @action
    def add_user(self, name: str, admin: bool = False, db: str | None = None,
                 root: str | None = None) -> dict[str, Any]:
        """Create a hub user in the hub's database (server side); the token is shown once."""
        try:
            from ..hub.admin import add_user, default_paths
        except ImportError as exc:
            raise InvalidInput(f"'ck hub user add' needs the hub's server packages "
                               f"({exc.name or exc} is missing): pip install "
                               "'cknowledge[hub]'") from None
        default_db, default_root = default_paths(self.kernel.home)
        root = root or default_root
        if not db:
            db = default_db if root == default_root else _sqlite_url(root)
        token = add_user(db, root, name, admin=admin)
        return {"user": name, "admin": admin, "db": _hide_password(db), "token": token,
                "text": f"created hub user {name}{' (admin)' if admin else ''}\n"
                        f"token: {token}\n(shown once; the user logs in with "
                        "`cb login --hub=URL --token=TOKEN`)"}


def _sqlite_url(root: str) -> str:
    import os

    return "sqlite:///" + os.path.join(os.path.abspath(root), "hub.sqlite")


def _hide_password(url: str) -> str:
    """``postgresql+psycopg://u:secret@h/db`` → ``postgresql+psycopg://u:***@h/db``."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in creds:
        return url
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"


def _non_finite(value: Any, where: str = "") -> tuple[str, str] | None:
    """The first NaN or infinite number in ``value``: (its dotted path, its text), or None."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return where or "value", str(value)
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        found = _non_finite(item, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def _read_json(file: str) -> dict[str, Any]:
    import json

    try:
        with open(file, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        from ..errors import NotFound

        raise NotFound(f"result file {file} not found") from None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the result file {file}: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"the result file {file} must hold a JSON object")
    return data
