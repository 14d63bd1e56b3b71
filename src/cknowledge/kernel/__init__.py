"""Request dispatch: the automation base class, discovery, and the kernel.

Submodules load on first use, so ``ck help`` and ``ck --version`` stay light.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .automation import Automation, action

__all__ = ["Automation", "action"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from . import automation

        return getattr(automation, name)
    raise AttributeError(name)
