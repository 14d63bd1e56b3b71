"""The hub server (cKnowledge.io rebuilt): a versioned component registry with owners
and immutable versions, result submission with provenance, live scoreboards with Pareto
plots, a JSON API under ``/api/v1`` and server-rendered web pages.

``create_app(db_url, root)`` builds the FastAPI app; ``server.serve`` runs it;
``admin.add_user`` creates users and tokens. Web libraries are imported only here,
never by ``import cknowledge``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app as create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(name)
