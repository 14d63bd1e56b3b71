"""Where cknowledge keeps its state: ``$CK_HOME`` (default: the platform's user data dir)."""

from __future__ import annotations

import os


def home_dir(explicit: str | None = None) -> str:
    """The home folder: ``explicit``, else ``$CK_HOME``, else platformdirs' user data dir."""
    path = explicit or os.environ.get("CK_HOME")
    if not path:
        from platformdirs import user_data_dir

        path = user_data_dir("cknowledge", appauthor=False)
    return os.path.abspath(os.path.expanduser(path))


def builtin_repo_dir() -> str:
    """The read-only repo shipped in the package (``$CK_BUILTIN_REPO`` points elsewhere:
    for developing the built-in entries, and for tests that need it empty)."""
    return os.environ.get("CK_BUILTIN_REPO") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "builtin")
