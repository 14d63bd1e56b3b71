"""Request dispatch: the automation base class, discovery, and the kernel."""

from .automation import Automation, action

__all__ = ["Automation", "action"]
