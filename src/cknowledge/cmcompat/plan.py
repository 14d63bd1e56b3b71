"""``ck run script ... --dry-run`` for CM/MLC scripts: the dependency tree, nothing run.

Each script is found and its variations resolved as a run would; its dependency lists are
then walked with the env known before any hook runs (``default_env``, ``env``, variations,
inputs): a dependency whose ``enable_if_env``/``skip_if_env`` conditions are off for that
env is left out, and one that depends on what a hook sets may be shown or left out wrongly
— the run decides. A dependency that finds no script, or a variation that does not exist,
is reported with its reason instead of failing the whole tree.
"""

from __future__ import annotations

import copy

from ..errors import CKError
from .inside import ck_native as native
from .runner import Runner, flavor
from .runner import what as what_of
from .variations import DEP_LISTS, RunState, apply_variations, choose, merge_adr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel

MAX_DEPTH = 12


def plan(kernel: Kernel, request: dict[str, Any]) -> dict[str, Any]:
    runner = Runner(kernel)
    problems: list[str] = []
    root = _node(runner, request, dict(request.get("env") or {}), 0, problems, set(), None)
    if root.get("error"):
        from ..errors import NotFound

        raise NotFound(root["error"])
    return {"dry_run": True, "graph": root, "text": "\n".join(_render(root, 0)),
            "unresolved": problems}


def _node(runner: Runner, req: dict[str, Any], env: dict[str, Any], depth: int,
          problems: list[str], seen: set[tuple[str, str]], prefer: str | None) -> dict[str, Any]:
    try:
        artifact, tags, variations, excluded = what_of(req)
    except CKError as exc:
        return {"tags": str(req.get("tags")), "error": exc.message}
    what = f"script:{artifact}" if artifact else ",".join(
        tags + ["_" + v for v in variations] + ["-" + e for e in excluded])
    try:
        entry = runner.find(artifact, tags, excluded, variations, prefer)
        prefix = flavor(entry) or "CM"
        name = f"{entry['repo']}:{entry['name']}"
        meta = copy.deepcopy(entry["meta"] or {})
        for key, value in (meta.get("default_env") or {}).items():
            env.setdefault(key, value)
        env.update(meta.get("env") or {})
        adr = dict(req.get("add_deps_recursive") or {})
        run = RunState(prefix, env, {}, {}, {}, meta, adr, req)
        chosen, _ = choose(meta, variations, f"script {name}")
        apply_variations(run, chosen, f"script {name}")
        run.update_deps(dict(req.get("add_deps") or {}))
        run.update_deps(adr)
        native.substitute(env)
    except (CKError, native.ScriptError) as exc:
        message = getattr(exc, "message", str(exc))
        problems.append(f"{what}: {message}")
        return {"tags": what, "error": message}
    label = name + "".join(",_" + v for v in chosen if not v.startswith("-"))
    node: dict[str, Any] = {"script": label, "flavor": prefix, "cache": bool(run.cache or
                                                                          meta.get("cache")),
                            "deps": []}
    ident = (name, ",".join(sorted(chosen)))
    if ident in seen or depth >= MAX_DEPTH:
        node["repeated"] = True
        return node
    seen = seen | {ident}
    for key in DEP_LISTS:
        for dep in run.meta[key]:
            if not isinstance(dep, dict) or not dep.get("tags"):
                continue
            try:
                if native.dep_skipped(dep, env, prefix):
                    continue
            except native.ScriptError as exc:
                problems.append(f"{label}: {exc.message}")
                continue
            sub = {k: v for k, v in dep.items() if k not in ("env",)}
            sub["add_deps_recursive"] = copy.deepcopy(adr)
            merge_adr(sub["add_deps_recursive"], {})
            child_env = dict(env)
            child_env.update(dep.get("env") or {})
            child = _node(runner, sub, child_env, depth + 1, problems, seen, prefix)
            child["list"] = key
            node["deps"].append(child)
    return node


def _render(node: dict[str, Any], depth: int) -> list[str]:
    pad = "  " * depth
    if node.get("error"):
        return [f"{pad}{node['tags']}: UNRESOLVED ({node['error']})"]
    extra = (" (cacheable)" if node.get("cache") else "") + (" ..." if node.get("repeated") else "")
    where = f"[{node['list']}] " if node.get("list") and node["list"] != "deps" else ""
    lines = [f"{pad}{where}script:{node['script']}{extra}"]
    for child in node.get("deps", []):
        lines += _render(child, depth + 1)
    return lines
