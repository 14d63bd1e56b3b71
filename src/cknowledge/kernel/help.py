"""What ``ck help`` shows: the automations, or one automation's actions and inputs."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

from ..errors import CKError
from ..store.cid import ArtifactRef
from .registry import BUILTIN, entry_points

if TYPE_CHECKING:
    from .kernel import Kernel


def describe(kernel: Kernel, topic: str | None = None) -> dict[str, Any]:
    if topic:
        name, _, action = topic.partition(":")
        action = action or ""
        cls = kernel.automation_class(name)
        actions = cls.describe()
        if action:
            if action not in actions:
                from ..errors import UnknownAction, suggest

                raise UnknownAction(f"automation {name!r} has no action {action!r}"
                                    f"{suggest(action, actions)}")
            actions = {action: actions[action]}
        return {"automation": name, "summary": cls.summary, "actions": actions}
    autos: list[dict[str, Any]] = [
        {"name": n, "summary": s, "source": "builtin"} for n, (_, s) in BUILTIN.items()
    ]
    warnings: list[str] = []
    try:
        for entry in kernel.store.find("automation", ArtifactRef(), with_meta=True):
            meta = entry.get("meta") or {}
            autos.append({"name": entry["name"], "summary": str(meta.get("summary", "")),
                          "source": f"repo {entry['repo']}"})
    except CKError as exc:  # a broken registry must not hide the built-ins
        warnings.append(exc.message)
    for name, ep in entry_points().items():
        autos.append({"name": name, "summary": "", "source": f"plugin {ep.value}"})
    result: dict[str, Any] = {"automations": autos}
    if warnings:
        result["warnings"] = warnings
    return result
