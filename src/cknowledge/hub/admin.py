"""Server-side administration: default locations and user creation (``ck hub user add``)."""

from __future__ import annotations

import os

from ..home import home_dir


def default_paths(home: str | None = None) -> tuple[str, str]:
    """``(db_url, root)`` of the hub in CK home ``home``: ``$CK_HOME/hub`` and the SQLite
    file ``hub.sqlite`` in it."""
    root = os.path.join(str(home_dir(home)), "hub")
    return f"sqlite:///{os.path.join(root, 'hub.sqlite')}", root


def add_user(db_url: str, root: str, name: str, admin: bool = False) -> str:
    """Create user ``name`` (an admin if ``admin``) and return its token, shown only once.

    Runs the migrations first, so it works on a fresh database."""
    from .db import Database
    from .auth import create_user

    os.makedirs(root, exist_ok=True)
    db = Database(db_url)
    try:
        db.migrate()
        with db.write() as session:
            return create_user(session, name, admin=admin)
    finally:
        db.dispose()
