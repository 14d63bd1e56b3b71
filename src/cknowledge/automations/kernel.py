"""Actions that belong to no automation: version, help, import of archives."""

from __future__ import annotations


from .. import __version__
from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any


class KernelAutomation(Automation):
    name = "kernel"
    summary = "version, help, import of archives"

    @action(writes=False)
    def version(self) -> dict[str, Any]:
        """The cknowledge version."""
        return {"version": __version__}

    @action(writes=False)
    def help(self, artifact: str | None = None, topic: str | None = None) -> dict[str, Any]:
        """Automations (no argument) or one automation's actions and inputs."""
        from ..kernel.help import describe

        return describe(self.kernel, topic or artifact)

    @action(name="import")
    def import_(self, file: str, repo: str | None = None, overwrite: bool = False) -> dict[str, Any]:
        """Import entries from an archive made by 'ck export' (.zip or .tar.gz)."""
        from ..store.archive import import_archive

        return {"list": import_archive(self.store, file, repo=repo, overwrite=overwrite)}
