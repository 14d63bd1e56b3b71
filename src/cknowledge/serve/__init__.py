"""``ck serve``: the REST layer over ``cknowledge.access()``.

``serve.app`` builds the FastAPI application (``create_app``); ``serve.cli`` binds the
socket and runs uvicorn (``serve_main``). Nothing here is imported on the CLI's
start-up path, and this package's ``__init__`` imports neither FastAPI nor uvicorn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve_main"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "serve_main":
        from .cli import serve_main

        return serve_main
    raise AttributeError(name)
