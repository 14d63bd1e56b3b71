"""``package``: install what detection did not find, each install in its own cache entry."""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class PackageAutomation(Automation):
    name = "package"
    summary = "installable packages"
    meta_file = "meta.yaml"

    @action
    def install(self, artifact: str | None = None, tags: list[str] | None = None,
                version: str | None = None, dry_run: bool = False, quiet: bool = False
                ) -> dict[str, Any]:
        """Install a package (by --tags or package:NAME, --version=RANGE) into the cache,
        with its dependencies; an install that is cached already is reused."""
        from ..workflow import run

        return run(self.kernel, self.name, artifact, tags, version, {}, None, dry_run=dry_run,
                   on_line=self.kernel.output(quiet))
