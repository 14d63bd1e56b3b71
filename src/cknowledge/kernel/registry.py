"""Where automations come from: built-ins, repo entries, and plugin packages.

Lookup order for a name: the built-ins (a static table, nothing imported until used),
then ``automation`` entries in the registered repos (``meta.yaml`` names a Python file
and class inside the entry), then the entry-point group ``cknowledge.automations``
(``name = "package.module:Class"``). A plugin that fails to import is reported by
name (``PluginError``) and never stops the others from working.
"""

from __future__ import annotations

import os
import sys

from ..errors import PluginError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

if TYPE_CHECKING:
    from .automation import Automation

ENTRY_POINT_GROUP = "cknowledge.automations"

BUILTIN: dict[str, tuple[str, str]] = {
    # name: (module:Class, summary)
    "dataset": ("cknowledge.automations.components:Dataset", "data sets and their variants"),
    "model": ("cknowledge.automations.components:Model", "trained models with checksums"),
    "script": ("cknowledge.automations.script:ScriptAutomation", "portable workflow steps"),
    "program": ("cknowledge.automations.program:ProgramAutomation",
                "programs to compile, run and validate"),
    "soft": ("cknowledge.automations.soft:SoftAutomation", "software detection plugins"),
    "platform": ("cknowledge.automations.platform:PlatformAutomation", "OS, CPU, memory, GPUs and a stable fingerprint"),
    "package": ("cknowledge.automations.package:PackageAutomation", "installable packages"),
    "cache": ("cknowledge.automations.cache:CacheAutomation", "cached results of workflow steps"),
    "experiment": ("cknowledge.automations.experiment:ExperimentAutomation", "recorded runs and results"),
    "solution": ("cknowledge.automations.components:Solution", "benchmark solution manifests"),
    "repo": ("cknowledge.automations.repo:RepoAutomation", "repos of entries (git or folders)"),
    "docker": ("cknowledge.automations.docker:DockerAutomation",
               "containers: images of components built from their locks, runs inside them"),
    "automation": ("cknowledge.automations.automation:AutomationAutomation",
                   "user-defined automations (Python classes in repos)"),
    "hub": ("cknowledge.automations.hub:HubAutomation",
            "publish, find and download components; submit results (a component hub)"),
    "paper": ("cknowledge.automations.paper:PaperAutomation",
              "live papers: claims that reproduce with one command, badges from evidence"),
    "kernel": ("cknowledge.automations.kernel:KernelAutomation",
               "version, help, import of archives"),
    "submission": ("cknowledge.automations.submission:SubmissionAutomation",
                   "MLPerf submission trees: run MLCommons' submission checker on one"),
}


def import_object(spec: str) -> Any:
    import importlib

    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def entry_points() -> dict[str, Any]:
    """Plugin entry points by name, read from the installed distributions (slow: ~50 ms)."""
    from importlib.metadata import entry_points as eps

    return {ep.name: ep for ep in eps(group=ENTRY_POINT_GROUP)}


def _path_key() -> str:
    lines = []
    for folder in sys.path:
        try:
            stamp = str(os.stat(folder or ".").st_mtime_ns)
        except OSError:
            stamp = "-"
        lines.append(f"{folder}\t{stamp}")
    return "\n".join(lines)


def plugin_table(home: str) -> dict[str, str]:
    """Plugin name → ``module:Class``, cached under the home.

    Installing or removing a distribution changes the mtime of its ``site-packages``
    folder, which is part of the cache key, so the cache cannot go stale. The cache is
    plain text (the key, a blank line, then ``name<TAB>value`` lines): reading it must
    cost ``ck help`` nothing."""
    import zlib

    key = _path_key()
    # one cache file per import path (a script and `python -m` see different sys.path[0])
    paths = "\0".join(line.rsplit("\t", 1)[0] for line in key.splitlines()).encode()
    cache = os.path.join(home, "index", f"plugins-{zlib.crc32(paths):08x}.txt")
    try:
        with open(cache, encoding="utf-8") as fh:
            head, sep, body = fh.read().partition("\n\n")
        if sep and head == key:
            return dict(line.split("\t", 1) for line in body.splitlines() if "\t" in line)
    except (OSError, ValueError):
        pass
    table = {name: ep.value for name, ep in entry_points().items()}
    try:
        from ..store.metaio import atomic_write_text

        os.makedirs(os.path.dirname(cache), exist_ok=True)
        atomic_write_text(cache, key + "\n\n" + "".join(f"{n}\t{v}\n" for n, v in table.items()))
    except OSError:
        pass
    return table


def load_plugin(name: str, value: str) -> type[Automation]:
    from .automation import Automation

    try:
        cls = import_object(value.split("[", 1)[0].strip())
    except Exception as exc:
        raise PluginError(f"plugin automation {name!r} ({value}) failed to load: "
                          f"{type(exc).__name__}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Automation)):
        raise PluginError(f"plugin automation {name!r} ({value}) is not an Automation class")
    return cls


def repo_automations(home: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``automation`` entries of every repo, read from the folders (they are few)."""
    from ..errors import CKError
    from ..store.metaio import find_meta_file, read_meta
    from ..store.repos import RepoRegistry

    found: list[dict[str, Any]] = []
    warnings: list[str] = []
    try:
        repos = RepoRegistry(home).all()
    except CKError as exc:
        return found, [exc.message]
    for repo in repos:
        folder = os.path.join(repo.path, "automation")
        try:
            names = sorted(e.name for e in os.scandir(folder) if e.is_dir() and e.name[0] != ".")
        except OSError:
            continue
        for name in names:
            meta_file = find_meta_file(os.path.join(folder, name))
            if meta_file is None:
                continue
            try:
                meta = read_meta(meta_file)
            except CKError as exc:
                warnings.append(exc.message)
                continue
            found.append({"name": name, "summary": str(meta.get("summary", "")),
                          "source": f"repo {repo.name}"})
    return found, warnings


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
