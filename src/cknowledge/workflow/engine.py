"""The workflow engine: resolve a step's dependency graph, then run it bottom-up.

``plan()`` resolves everything first (a conflict stops the run before any step starts);
``Node.key`` is computed from the declared parts (``cache/keys.py``) once the children's
keys are known; ``execute()`` walks the graph depth-first, and each node resolves as a
valid cached result, a detection, or a run/install whose result lands in the cache.
"""

from __future__ import annotations

import os

from ..cache.keys import key_parts, make_key
from ..cache.store import CacheStore
from ..errors import CKError, InvalidInput
from .resolve import Candidate, Provider, Requirement, resolve
from .spec import ScriptSpec
from .steps import recorded_paths, run_script

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel


class Node:
    """One resolved step of the graph."""

    def __init__(self, cand: Candidate) -> None:
        self.cand = cand
        self.children: list[tuple[str, Node]] = []   # (name the parent uses, child)
        self.spec = ScriptSpec(cand.entry, cand.kind) if cand.kind != "soft" else None
        self.variations = (self.spec.choose_variations(cand.variations)
                           if self.spec is not None and cand.kind == "script" else [])
        self.env: dict[str, str] = {}
        self.parts: dict[str, str] | None = None
        self.key = ""
        self.result: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return self.cand.kind

    @property
    def cacheable(self) -> bool:
        return self.kind == "package" or (self.spec is not None and self.spec.cache)


class Engine:
    def __init__(self, kernel: Kernel, on_line: Callable[[str], None] | None = None) -> None:
        self.kernel = kernel
        self.cache = CacheStore(kernel.home)
        self.on_line = on_line

    # -- planning ---------------------------------------------------------------------
    def plan(self, root: Requirement, inputs: dict[str, Any], explicit_env: dict[str, str],
             locked: dict[str, dict[str, Any]] | None = None) -> Node:
        root_spec_env: dict[str, str] = {}
        provider = Provider(self.kernel.store, self.kernel.home, root_spec_env, locked)
        # the root's inputs decide which of its deps are active: compute them up front
        for cand in provider.candidates(root)[:1]:
            spec = ScriptSpec(cand.entry, cand.kind)
            root_spec_env.update(spec.declared_env(spec.choose_variations(root.variations),
                                                   inputs, explicit_env))
        if not provider.candidates(root):
            from ..errors import NotFound

            kind = root.kinds[0] if len(root.kinds) == 1 else "script"
            raise NotFound(f"no {kind} has the tags {','.join(root.tags)}"
                           + self.kernel.store.near_tags(kind, list(root.tags))
                           if not root.entry else f"{root.describe()} not found")
        result = resolve(provider, root)
        nodes = {ident: Node(cand) for ident, cand in result.mapping.items()}
        for ident, node in nodes.items():
            deps = provider.get_dependencies(node.cand)
            for dep in deps:
                child = nodes[dep.ident]
                name = dep.names[0] if dep.names else dep.ident
                node.children.append((name, child))
        top = nodes[root.ident]
        self._keys(top, inputs, explicit_env, set())
        return top

    def _platform(self, keys: tuple[str, ...]) -> dict[str, Any]:
        from ..detect.platform import selected_facts

        return selected_facts(keys)

    def _keys(self, node: Node, inputs: dict[str, Any], explicit: dict[str, str],
              stack: set[int]) -> None:
        if node.parts is not None:
            return
        if id(node) in stack:
            raise InvalidInput(f"{node.cand.label} depends on itself")
        stack.add(id(node))
        for _, child in node.children:
            self._keys(child, {}, {}, stack)
        stack.discard(id(node))
        deps = {name: child.key for name, child in node.children}
        entry = node.cand.entry
        meta = entry.get("meta") or {}
        if node.kind == "soft":
            found = node.cand.found or {}
            env = {"path": str(found.get("path")), "version": str(found.get("version")),
                   "sig": _sig(str(found.get("path")))}
            node.parts = key_parts("soft", meta, entry["path"], env, {}, {})
        else:
            assert node.spec is not None
            keys = node.spec.platform_keys
            if node.kind in ("script", "program"):
                node.env = node.spec.declared_env(node.variations, inputs, explicit)
            if node.kind == "program":
                from .program import platform_keys

                keys = platform_keys(node.spec, node.env)
            env_part: dict[str, Any] = dict(node.env)
            if node.variations:  # hooks see the variations even when they set no env
                env_part = {"env": node.env, "variations": node.variations}
            kind = node.kind
            if node.kind == "program":
                from .program import STEP_VERSION

                kind = STEP_VERSION  # what the compile step records changes with it
            node.parts = key_parts(kind, meta, entry["path"], env_part,
                                   self._platform(keys), deps)
        node.key = make_key(node.parts)

    # -- running ----------------------------------------------------------------------
    def execute(self, node: Node, inputs: dict[str, Any], work_dir: str | None) -> dict[str, Any]:
        if node.result is not None:
            return node.result
        if node.cacheable:
            hit = self.cache.lookup(node.kind, node.key)
            if hit is not None:  # a valid result: its dependencies need not run again
                node.result = {"new_env": hit.get("new_env", {}), "cached": True,
                               "path": hit["path"]}
                node.result.update(key=node.key, kind=node.kind, name=node.cand.entry["name"],
                                   version=str(node.cand.version) if node.cand.version else None)
                return node.result
        dep_results = {name: self.execute(child, {}, None) for name, child in node.children}
        dep_env: dict[str, str] = {}
        for res in dep_results.values():
            dep_env.update(res.get("new_env", {}))
        if node.kind == "soft":
            found = node.cand.found or {}
            node.result = {"new_env": dict(found.get("env") or {}), "cached": True,
                           "detected": True, "version": found.get("version"),
                           "path": found.get("path")}
        elif node.cacheable:
            node.result = self._cached_step(node, inputs, dep_env, dep_results)
        else:
            folder = work_dir or os.getcwd()
            new_env = self._run(node, inputs, dep_env, dep_results, folder)
            node.result = {"new_env": new_env, "cached": False, "path": folder}
        node.result.update(key=node.key, kind=node.kind, name=node.cand.entry["name"],
                           version=str(node.cand.version) if node.cand.version else None)
        return node.result

    def _cached_step(self, node: Node, inputs: dict[str, Any], dep_env: dict[str, str],
                     dep_results: dict[str, dict[str, Any]]) -> dict[str, Any]:
        hit = self.cache.lookup(node.kind, node.key)
        if hit is not None:
            return {"new_env": hit.get("new_env", {}), "cached": True, "path": hit["path"]}
        with self.cache.lock(node.kind, node.key):
            hit = self.cache.lookup(node.kind, node.key)
            if hit is not None:
                return {"new_env": hit.get("new_env", {}), "cached": True, "path": hit["path"]}
            folder = self.cache.begin(node.kind, node.key)
            self.cache.restore_partial(node.key, folder)
            try:
                if node.kind == "package":
                    new_env, paths = self._install(node, dep_env, folder)
                else:
                    new_env = self._run(node, inputs, dep_env, dep_results, folder)
                    paths = recorded_paths(new_env)
            except BaseException:
                # an interrupted download is kept aside, so the next attempt resumes it
                self.cache.keep_partial(node.key, folder)
                self.cache.abort(node.kind, node.key)
                raise
            entry = node.cand.entry
            record = {"name": entry["name"], "uid": entry["uid"], "repo": entry["repo"],
                      "tags": list(entry.get("tags", [])) + [f"_{v}" for v in node.variations],
                      "version": str(node.cand.version) if node.cand.version else None,
                      "new_env": new_env, "paths": paths, "parts": node.parts,
                      "deps": {name: child.key for name, child in node.children},
                      "env": node.env}
            self.cache.commit(node.kind, node.key, record)
        return {"new_env": new_env, "cached": False, "path": folder}

    def _run(self, node: Node, inputs: dict[str, Any], dep_env: dict[str, str],
             dep_results: dict[str, dict[str, Any]], folder: str) -> dict[str, str]:
        assert node.spec is not None
        env = dict(os.environ)
        env.update(dep_env)
        env.update(node.env)
        if node.kind == "program":
            from .program import compile_step

            return compile_step(node.spec, env, folder, self.on_line)
        return run_script(node.spec, env, inputs, dep_results, folder, node.variations,
                          self.on_line, declared=node.env)

    def _install(self, node: Node, dep_env: dict[str, str], folder: str
                 ) -> tuple[dict[str, str], list[str]]:
        from ..install import install

        meta = node.cand.entry.get("meta") or {}
        spec = meta.get("install")
        if not isinstance(spec, dict):
            raise InvalidInput(f"package:{node.cand.entry['name']} has no 'install' section")
        spec = dict(spec)
        spec.setdefault("version", meta.get("version"))
        env = dict(os.environ)
        env.update(dep_env)
        progress = None
        if self.on_line is not None:
            emit = self.on_line

            def progress(text: str, done: int, total: int | None) -> None:
                if total:
                    emit(f"{text} {done * 100 // total}%")
                elif done == 0:
                    emit(text)

        label = f"package:{node.cand.entry['name']}"
        try:
            result = install(spec, folder, env=env, entry_path=node.cand.entry["path"],
                             progress=progress)
        except CKError as exc:  # name the component: the URL or command alone may not
            if exc.message.startswith(label):
                raise
            raise type(exc)(f"{label}: {exc.message}", **exc.details) from None
        return dict(result.get("env", {})), list(result.get("paths", []))


def _sig(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def walk(node: Node) -> list[Node]:
    """Every node once, dependencies before dependants."""
    out: list[Node] = []
    seen: set[int] = set()

    def visit(n: Node) -> None:
        if id(n) in seen:
            return
        seen.add(id(n))
        for _, child in n.children:
            visit(child)
        out.append(n)

    visit(node)
    return out
