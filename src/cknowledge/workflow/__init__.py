"""Portable workflow steps: ``ck run script``, dry runs, lock files.

    run(kernel, kinds=("script",), artifact=None, tags=[...], inputs={...}, env={...})

resolves the step and its dependencies (``resolve.py``), computes the content keys
(``cache/keys.py``), and runs what is not cached (``engine.py``). ``dry_run`` prints the
resolved graph instead; ``lock`` writes the resolved versions, repo commits and cache keys
to a YAML file; ``from_lock`` reproduces a lock file exactly or says what differs.
"""

from __future__ import annotations

import os

from ..errors import InvalidInput, NotFound, Unsatisfiable
from ..store.cid import ArtifactRef, parse_artifact
from ..store.legacy import normalize_tags
from ..versions import VersionRange
from .engine import Engine, Node, walk
from .resolve import Requirement
from .spec import split_variation_tags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel

LOCK_FORMAT = 1


def root_requirement(kernel: Kernel, kind: str, artifact: str | None, tags: Any,
                     version: str | None) -> Requirement:
    plain, variations = split_variation_tags(normalize_tags(tags))
    range_ = VersionRange(version or "")
    if artifact:
        base, _, extra = artifact.partition(",")  # script:NAME,_var also works
        if extra:
            variations += split_variation_tags(normalize_tags(extra))[1]
        ref = parse_artifact(base)
        entry = kernel.store.load(kind, ArtifactRef(ref.repo, ref.name))
        entry["automation"] = kind
        return Requirement(plain, variations, range_, entry=entry, kinds=(kind,))
    if not plain:
        raise InvalidInput(f"name the {kind} to run ({kind}:NAME) or select it with --tags")
    return Requirement(plain, variations, range_, kinds=(kind,))


def run(kernel: Kernel, kind: str, artifact: str | None, tags: Any, version: str | None,
        inputs: dict[str, Any], env: dict[str, str] | None, dry_run: bool = False,
        lock: str | None = None, from_lock: str | None = None,
        on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    root = root_requirement(kernel, kind, artifact, tags, version)
    explicit = {str(k): "" if v is None else str(v) for k, v in (env or {}).items()}
    locked = read_lock(from_lock) if from_lock else None
    engine = Engine(kernel, on_line)
    top = engine.plan(root, inputs, explicit, locked["by_ident"] if locked else None)
    if locked:
        differences = compare(top, locked)
        if differences:
            raise Unsatisfiable(f"{from_lock} cannot be reproduced here: " + "; ".join(differences))
    graph = describe(engine, top)
    if lock:
        write_lock(lock, top, graph)
    if dry_run:
        return {"dry_run": True, "graph": graph, "text": render_tree(graph),
                **({"lock": lock_path(lock)} if lock else {})}
    result = engine.execute(top, inputs, None)
    out = {"name": top.cand.entry["name"], "key": top.key, "version": result.get("version"),
           "cached": result.get("cached", False), "path": result.get("path"),
           "new_env": result.get("new_env", {}), "variations": top.variations,
           "deps": {n.cand.ident: {"kind": n.kind, "name": n.cand.entry["name"],
                                   "version": str(n.cand.version) if n.cand.version else None,
                                   "key": n.key, "cached": bool((n.result or {}).get("cached")),
                                   "skipped": n.result is None}
                    for n in walk(top) if n is not top}}
    if lock:
        out["lock"] = lock_path(lock)
    return out


# -- dry run ---------------------------------------------------------------------------------
def describe(engine: Engine, node: Node, name: str | None = None) -> dict[str, Any]:
    if node.kind == "soft":
        status = "detected"
    elif node.cacheable:
        hit = engine.cache.lookup(node.kind, node.key, remove_invalid=False)
        status = "cached" if hit else ("will install" if node.kind == "package" else "will run")
    else:
        status = "will run (not cached)"
    found = node.cand.found or {}
    return {"name": name, "kind": node.kind, "entry": node.cand.entry["name"],
            "uid": node.cand.entry["uid"], "repo": node.cand.entry.get("repo"),
            "ident": node.cand.ident,
            "version": str(node.cand.version) if node.cand.version else None,
            "path": found.get("path"), "variations": node.variations, "key": node.key,
            "parts": node.parts, "status": status,
            "deps": [describe(engine, child, n) for n, child in node.children]}


def render_tree(graph: dict[str, Any]) -> str:
    lines: list[str] = []

    def label(g: dict[str, Any]) -> str:
        text = f"{g['kind']}:{g['entry']}"
        if g["variations"]:
            text += "," + ",".join("_" + v for v in g["variations"])
        if g["version"]:
            text += f" {g['version']}"
        if g["path"]:
            text += f" ({g['path']})"
        return f"{text}  [{g['status']}] {g['key'][:12]}"

    def walk_tree(g: dict[str, Any], prefix: str, last: bool, top: bool) -> None:
        name = f"{g['name']}: " if g["name"] and g["name"] != g["ident"] else ""
        lines.append(label(g) if top else f"{prefix}{'└── ' if last else '├── '}{name}{label(g)}")
        deps = g["deps"]
        for i, child in enumerate(deps):
            walk_tree(child, prefix + ("" if top else ("    " if last else "│   ")),
                      i == len(deps) - 1, False)

    walk_tree(graph, "", True, True)
    return "\n".join(lines)


# -- lock files ------------------------------------------------------------------------------
def _commit(path: str | None) -> str | None:
    if not path:
        return None
    import subprocess

    top = path
    while top and top != os.path.dirname(top):
        if os.path.isdir(os.path.join(top, ".git")):
            try:
                out = subprocess.run(["git", "-C", top, "rev-parse", "HEAD"], capture_output=True,
                                     text=True, stdin=subprocess.DEVNULL, timeout=30)
            except (OSError, subprocess.SubprocessError):
                return None
            return out.stdout.strip() or None
        top = os.path.dirname(top)
    return None


def write_lock(path: str, top: Node, graph: dict[str, Any]) -> None:
    from ..store.metaio import atomic_write_text, dump_text

    nodes = []
    for node in walk(top):
        entry = node.cand.entry
        nodes.append({"ident": node.cand.ident, "kind": node.kind, "name": entry["name"],
                      "uid": entry["uid"], "repo": entry.get("repo"),
                      "repo_commit": _commit(entry.get("path")),
                      "version": str(node.cand.version) if node.cand.version else None,
                      "path": (node.cand.found or {}).get("path"),
                      "variations": node.variations, "key": node.key, "parts": node.parts})
    data = {"cknowledge_lock": LOCK_FORMAT, "root": top.cand.ident, "nodes": nodes}
    atomic_write_text(lock_path(path), dump_text(data, lock_path(path)))


def lock_path(path: str) -> str:
    """Where ``--lock=PATH`` writes: PATH, with ``.yaml`` added when it has no extension."""
    return os.path.abspath(path if path.endswith((".yaml", ".yml", ".json")) else path + ".yaml")


def read_lock(path: str) -> dict[str, Any]:
    from ..store.metaio import read_meta

    if not os.path.isfile(path):
        raise NotFound(f"lock file {path} not found")
    data = read_meta(path)
    if data.get("cknowledge_lock") != LOCK_FORMAT or not isinstance(data.get("nodes"), list):
        raise InvalidInput(f"{path} is not a cknowledge lock file")
    nodes = data["nodes"]
    if not all(isinstance(n, dict) and isinstance(n.get("ident"), str) for n in nodes):
        raise InvalidInput(f"{path}: every node of a lock file needs an 'ident'")
    data["by_ident"] = {n["ident"]: n for n in nodes}
    return data


def compare(top: Node, locked: dict[str, Any]) -> list[str]:
    """What differs between the plan and the lock file, part by part."""
    out = []
    by_ident = locked["by_ident"]
    for node in walk(top):
        want = by_ident.get(node.cand.ident)
        label = f"{node.kind}:{node.cand.entry['name']}"
        if want is None:
            out.append(f"{label} is not in the lock file")
            continue
        if want.get("key") != node.key:
            parts = [p for p, d in (node.parts or {}).items()
                     if (want.get("parts") or {}).get(p) != d]
            out.append(f"{label}: its {', '.join(parts) or 'key'} changed")
    missing = set(by_ident) - {n.cand.ident for n in walk(top)}
    out.extend(f"{ident} (in the lock file) is no longer needed" for ident in sorted(missing))
    return out
