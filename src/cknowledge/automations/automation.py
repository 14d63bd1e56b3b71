"""User-defined automations: an ``automation`` entry holds a Python class with actions.

``ck add automation:NAME`` writes a working template (``automation.py``) into the new
entry; from then on ``ck ACTION NAME`` calls its actions.
"""

from __future__ import annotations

import os

from ..kernel.automation import Automation, action
from ..store.metaio import atomic_write_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

TEMPLATE = '''"""The {name} automation."""

from cknowledge import Automation, action


class {cls}(Automation):
    summary = "{summary}"

    @action(writes=False)
    def hello(self, who: str = "world") -> dict:
        """Say hello (an example action: edit or replace it)."""
        return {{"message": f"hello, {{who}}, from {name}"}}
'''


class AutomationAutomation(Automation):
    name = "automation"
    summary = "user-defined automations (Python classes in repos)"

    @action
    def add(self, artifact: str | None = None, tags: list[str] | None = None,
            meta: dict[str, Any] | None = None, uid: str | None = None,
            repo: str | None = None, summary: str = "a user-defined automation") -> dict[str, Any]:
        """Create an automation entry with a template automation.py to edit."""
        body = dict(meta or {})
        body.setdefault("module", "automation.py")
        body.setdefault("summary", summary)
        result = super().add(artifact=artifact, tags=tags, meta=body, uid=uid, repo=repo)
        module = os.path.join(result["path"], str(body["module"]))
        if not os.path.exists(module):
            cls = "".join(p.capitalize() for p in result["name"].replace("-", "_").split("_")) or "Auto"
            atomic_write_text(module, TEMPLATE.format(name=result["name"], cls=cls,
                                                      summary=body["summary"]))
        return result
