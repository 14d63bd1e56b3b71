"""cknowledge: Collective Knowledge, rebuilt — reusable components with one API.

    import cknowledge
    cknowledge.access({"action": "find", "automation": "dataset", "tags": "image"})
"""

from __future__ import annotations

TYPE_CHECKING = False

__version__ = "0.1.0"
__all__ = ["__version__", "access", "Automation", "action", "Kernel"]

if TYPE_CHECKING:
    from typing import Any

    from .kernel.automation import Automation, action
    from .kernel.kernel import Kernel


def access(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request; always return a dict with ``return`` (0 = success) and ``error``."""
    from .api import access as _access

    return _access(request)


def __getattr__(name: str) -> Any:
    if name in ("Automation", "action"):
        from .kernel import automation

        return getattr(automation, name)
    if name == "Kernel":
        from .kernel.kernel import Kernel

        return Kernel
    raise AttributeError(name)
