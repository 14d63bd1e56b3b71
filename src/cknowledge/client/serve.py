"""``ck hub serve [--db=URL] [--root=DIR] [--host=127.0.0.1] [--port=8787] [--references=no]``.

Runs the hub server in the foreground (the server itself is :mod:`cknowledge.hub`).
Without options it serves ``$CK_HOME/hub`` with the SQLite file ``hub.sqlite`` in it; a
``--root`` alone puts the SQLite file there too. Returns the process exit code.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
_OPTIONS = {"action", "automation", "db", "root", "host", "port", "references"}


def _err(message: str) -> None:
    sys.stderr.write(f"ck: error: {message}\n")


def resolve_options(request: dict[str, Any], home: str) -> tuple[str, str, str, int]:
    """``(db_url, root, host, port)`` from the parsed options. Raises ``ValueError``."""
    from ..hub.admin import default_paths

    unknown = sorted(k for k in request if k not in _OPTIONS)
    if unknown:
        raise ValueError(f"'ck hub serve' has no option {unknown[0]!r}; its options: --db, "
                         "--root, --host, --port, --references")
    for key in ("db", "root", "host"):
        if key in request and (not isinstance(request[key], str) or not request[key]):
            raise ValueError(f"--{key} needs a value: --{key}=VALUE")
    default_db, default_root = default_paths(home)
    root = os.path.abspath(request["root"]) if request.get("root") else default_root
    db = request.get("db") or (default_db if root == default_root else
                               "sqlite:///" + os.path.join(root, "hub.sqlite"))
    from ..serve.cli import parse_port

    port = parse_port(request.get("port", DEFAULT_PORT))
    return str(db), root, str(request.get("host") or DEFAULT_HOST), port


#: the packages the hub server imports, each with its import names (python-multipart is
#: ``python_multipart``, in older releases ``multipart``)
SERVER_MODULES: dict[str, tuple[str, ...]] = {
    "fastapi": ("fastapi",), "uvicorn": ("uvicorn",), "sqlalchemy": ("sqlalchemy",),
    "alembic": ("alembic",), "jinja2": ("jinja2",),
    "python-multipart": ("python_multipart", "multipart")}


def missing_server_module() -> str | None:
    """The first package of :data:`SERVER_MODULES` that cannot be imported, or None."""
    import importlib

    for package, names in SERVER_MODULES.items():
        for name in names:
            try:
                importlib.import_module(name)
                break
            except ImportError:
                continue
        else:
            return package
    return None


def _needs_extra(package: str) -> None:
    _err(f"'ck hub serve' needs the hub's server packages ({package} is missing): "
         "pip install 'cknowledge[hub]'")


def hub_serve_main(request: dict[str, Any]) -> int:
    from ..home import home_dir

    missing = missing_server_module()
    if missing:
        _needs_extra(missing)
        return 1
    try:
        from ..hub.server import serve
    except ImportError as exc:
        _needs_extra(exc.name or str(exc))
        return 1
    try:
        db, root, host, port = resolve_options(request, home_dir(None))
    except ValueError as exc:
        _err(str(exc))
        return 2
    from ..errors import CKError

    refs = str(request.get("references", "yes")).strip().lower()
    if refs not in ("yes", "no", "true", "false", "1", "0"):
        _err(f"--references must be yes or no, not {request.get('references')!r}")
        return 2
    try:
        serve(db, root, host, port, references=refs in ("yes", "true", "1"))
    except CKError as exc:
        _err(exc.message)
        return min(exc.code, 255)
    except ImportError as exc:   # a server package that imports but is broken
        _needs_extra(exc.name or str(exc))
        return 1
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        _err(f"the hub cannot serve on {host}:{port}: {exc}")
        return 1
    return 0
