"""What ``ck help`` shows: the automations, or one automation's actions and inputs."""

from __future__ import annotations


from .registry import BUILTIN, plugin_table, repo_automations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

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
    return describe_automations(kernel.home)


def describe_automations(home: str) -> dict[str, Any]:
    """All automations (built-in, repo, plugin) without starting a kernel: ``ck help`` is fast."""
    autos: list[dict[str, Any]] = [
        {"name": n, "summary": s, "source": "builtin"} for n, (_, s) in BUILTIN.items()
    ]
    found, warnings = repo_automations(home)
    autos.extend(found)
    for name, value in plugin_table(home).items():
        autos.append({"name": name, "summary": "", "source": f"plugin {value}"})
    result: dict[str, Any] = {"automations": autos}
    if warnings:
        result["warnings"] = warnings
    return result
