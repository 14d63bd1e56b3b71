"""Where automations come from: built-ins, repo entries, and plugin packages.

Lookup order for a name: the built-ins (a static table, nothing imported until used),
then ``automation`` entries in the registered repos (``meta.yaml`` names a Python file
and class inside the entry), then the entry-point group ``cknowledge.automations``
(``name = "package.module:Class"``). A plugin that fails to import is reported by
name (``PluginError``) and never stops the others from working.
"""

from __future__ import annotations

import importlib
import os
import sys
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

from ..errors import PluginError

if TYPE_CHECKING:
    from .automation import Automation

ENTRY_POINT_GROUP = "cknowledge.automations"

BUILTIN: dict[str, tuple[str, str]] = {
    # name: (module:Class, summary)
    "dataset": ("cknowledge.automations.components:Dataset", "data sets and their variants"),
    "model": ("cknowledge.automations.components:Model", "trained models with checksums"),
    "script": ("cknowledge.automations.components:Script", "portable workflow steps"),
    "program": ("cknowledge.automations.components:Program",
                "programs to compile, run and validate"),
    "soft": ("cknowledge.automations.components:Soft", "software detection plugins"),
    "package": ("cknowledge.automations.components:Package", "installable packages"),
    "experiment": ("cknowledge.automations.components:Experiment", "recorded runs and results"),
    "solution": ("cknowledge.automations.components:Solution", "benchmark solution manifests"),
    "repo": ("cknowledge.automations.repo:RepoAutomation", "repos of entries (git or folders)"),
    "automation": ("cknowledge.automations.automation:AutomationAutomation",
                   "user-defined automations (Python classes in repos)"),
    "kernel": ("cknowledge.automations.kernel:KernelAutomation",
               "version, help, import of archives"),
}


def import_object(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def entry_points() -> dict[str, Any]:
    """Plugin entry points by name (scanned only when a name is not found otherwise)."""
    from importlib.metadata import entry_points as eps

    return {ep.name: ep for ep in eps(group=ENTRY_POINT_GROUP)}


def load_plugin(name: str, ep: Any) -> type[Automation]:
    from .automation import Automation

    try:
        cls = ep.load()
    except Exception as exc:
        raise PluginError(f"plugin automation {name!r} ({ep.value}) failed to load: "
                          f"{type(exc).__name__}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Automation)):
        raise PluginError(f"plugin automation {name!r} ({ep.value}) is not an Automation class")
    return cls


def load_repo_automation(name: str, entry: dict[str, Any]) -> type[Automation]:
    """Import the class that an ``automation`` entry defines."""
    from .automation import Automation

    meta = entry.get("meta") or {}
    module_file = os.path.join(entry["path"], str(meta.get("module", "automation.py")))
    if not os.path.isfile(module_file):
        raise PluginError(f"automation {name!r}: module file {module_file} is missing")
    import importlib.util

    mod_name = f"cknowledge_repo_automations.{entry['uid']}"
    try:
        spec = importlib.util.spec_from_file_location(mod_name, module_file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise PluginError(f"automation {name!r} ({module_file}) failed to load: "
                          f"{type(exc).__name__}: {exc}") from None
    class_name = meta.get("class")
    if class_name:
        cls = getattr(module, str(class_name), None)
    else:
        found = [v for v in vars(module).values() if isinstance(v, type)
                 and issubclass(v, Automation) and v.__module__ == mod_name]
        cls = found[0] if len(found) == 1 else None
    if not (isinstance(cls, type) and issubclass(cls, Automation)):
        raise PluginError(f"automation {name!r} ({module_file}) defines no Automation class"
                          + (f" named {class_name!r}" if class_name else ""))
    return cls
