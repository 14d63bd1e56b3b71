"""``script``: portable workflow steps (``ck run script --tags=...`` / ``ck run script:NAME``)."""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ScriptAutomation(Automation):
    name = "script"
    summary = "portable workflow steps"
    meta_file = "meta.yaml"

    @action
    def run(self, artifact: str | None = None, tags: list[str] | None = None,
            version: str | None = None, env: dict[str, Any] | None = None,
            dry_run: bool = False, lock: str | None = None, from_lock: str | None = None,
            quiet: bool = False, **inputs: Any) -> dict[str, Any]:
        """Run a step and its dependencies: --tags=a,b,_variation, --version=RANGE, --INPUT=x,
        --env.K=V; --dry-run prints the resolved graph; --lock=FILE writes it; --from-lock=FILE
        reproduces it."""
        from ..workflow import run

        return run(self.kernel, self.name, artifact, tags, version, inputs, env, dry_run=dry_run,
                   lock=lock, from_lock=from_lock, on_line=self.kernel.output(quiet))
