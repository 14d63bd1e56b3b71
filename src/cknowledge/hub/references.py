"""Reference rows of the solutions shipped with cknowledge, put on their scoreboards.

A solution manifest (``builtin/solution/*/meta.yaml``) lists reference results: what the
benchmark gave on a named machine with the shipped defaults. ``ck hub serve`` posts them
as reference rows of the manifest's scoreboard (where the hub has that scoreboard), so a
new hub shows community results beside them from the start. They are submitted by the
user ``cknowledge-reference``, which has no usable token (nobody can post as it), and the
hub's deduplication makes seeding again at every start a no-op. The platform fingerprint
of a reference row is derived from its description (the machine itself is not here to
measure); its facts carry the description as the manifest gives it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from typing import Any

from .db import Database

REFERENCE_USER = "cknowledge-reference"


def manifests(builtin: str) -> list[tuple[str, dict[str, Any]]]:
    """``(name, meta)`` of every solution entry in the built-in repo that has references."""
    import yaml

    folder = os.path.join(builtin, "solution")
    out = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name, "meta.yaml")
        try:
            with open(path, encoding="utf-8") as fh:
                meta = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError):
            continue  # a broken shipped manifest is the solution's error, not the hub's
        if isinstance(meta, dict) and meta.get("reference") and meta.get("scoreboard"):
            out.append((name, meta))
    return out


def submissions(name: str, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The hub submissions of one manifest's reference rows."""
    out = []
    for ref in meta.get("reference") or []:
        if not isinstance(ref, dict) or not isinstance(ref.get("metrics"), dict):
            continue
        platform = str(ref.get("platform") or "")
        out.append({
            "solution": {"name": str(meta.get("alias") or name),
                         "version": str(meta.get("version") or "") or None},
            "components": [],
            "config": {str(k): v for k, v in (ref.get("config") or {}).items()},
            "metrics": {str(k): float(v) for k, v in ref["metrics"].items()},
            "platform": {"fingerprint": hashlib.sha256(platform.encode()).hexdigest()[:16],
                         "facts": {"description": platform,
                                   "measured": str(ref.get("measured") or ""),
                                   "command": str(ref.get("command") or "")}},
            "reference": True,
        })
    return out


def seed(db: Database, builtin: str) -> dict[str, int]:
    """Post the shipped reference rows; ``{"added": n, "present": m}``."""
    from sqlalchemy import select

    from ..errors import CKError
    from . import service
    from .models import Scoreboard, User
    from .schemas import Submission

    added = present = 0
    for name, meta in manifests(builtin):
        with db.write() as session:
            board = session.scalar(select(Scoreboard).where(
                Scoreboard.name == str(meta["scoreboard"])))
            if board is None:
                continue
            user = session.scalar(select(User).where(User.name == REFERENCE_USER))
            if user is None:
                user = User(name=REFERENCE_USER, admin=True,
                            token_sha256=hashlib.sha256(
                                secrets.token_bytes(32)).hexdigest())
                session.add(user)
                session.flush()
            for body in submissions(name, meta):
                try:
                    _, duplicate = service.submit_result(session, user, board.name,
                                                         Submission.model_validate(body))
                except (CKError, ValueError):
                    continue  # a row the scoreboard refuses is left out, not fatal
                if duplicate:
                    present += 1
                else:
                    added += 1
    return {"added": added, "present": present}
