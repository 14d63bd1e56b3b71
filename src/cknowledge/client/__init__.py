"""The hub client: publish and download components, submit results (httpx).

``cb login``, ``cb publish``, ``cb versions``, ``cb download`` and ``ck hub ...`` go
through the ``hub`` automation (:mod:`cknowledge.automations.hub`); Python code may call
:func:`submit_result` directly. Nothing here is imported by ``ck`` at start-up.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["submit_result"]


def submit_result(scoreboard: str, submission: dict[str, Any], hub: str | None = None,
                  home: str | None = None, retries: int = 3) -> dict[str, Any]:
    """Post ``submission`` to the hub's scoreboard ``scoreboard``.

    The hub is ``hub``, else ``$CK_HUB_URL``, else the one of ``cb login``; the token is
    ``$CK_HUB_TOKEN`` or the stored one. Connection failures where the request never
    reached the hub are retried ``retries`` times with backoff; nothing else is retried.
    Returns ``{"id", "duplicate", "hub", "scoreboard", "url", ...}`` and raises the
    errors of :mod:`cknowledge.errors` (``AuthError`` for a refused token,
    ``DownloadError`` when the hub cannot be reached, ``InvalidInput`` for a submission
    the hub refuses)."""
    from ..home import home_dir
    from .ops import submit

    return submit(home_dir(home), scoreboard, submission, hub=hub, retries=retries)
