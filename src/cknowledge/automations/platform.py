"""The platform automation: facts about this machine and its stable fingerprint."""

from __future__ import annotations


from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class PlatformAutomation(Automation):
    name = "platform"
    summary = "OS, CPU, memory, GPUs and a stable fingerprint"

    @action(writes=False)
    def detect(self, refresh: bool = False) -> dict[str, Any]:
        """OS, distribution, kernel, CPU, memory, GPUs (NVML), Python, and a fingerprint."""
        from ..detect.platform import platform_facts

        return platform_facts(refresh=refresh)
