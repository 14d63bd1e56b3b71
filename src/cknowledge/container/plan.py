"""The resolved lock of the component an image is for, and what the image needs from it.

    target = Target.parse("script:NAME" | "program:NAME" | "solution:NAME", tags)
    lock = resolve(kernel, target, inputs)    # {"cknowledge_lock", "root", "nodes": [...]}
    needs = system_needs(kernel, lock)        # apt packages and pip pins for soft nodes

A script or program is planned exactly as ``ck run ... --dry-run --lock`` plans it; a
solution is the union of its prepare steps' plans. Detected software (``soft`` nodes)
becomes Debian packages (the table below, or the entry's own ``container: {apt: [...]}``)
or, for Python packages, a pinned pip install; the interpreter comes with every image.
"""

from __future__ import annotations

import os
import tempfile

from ..errors import InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel

KINDS = {"script": "run", "program": "run", "solution": "benchmark"}
#: Debian packages of the built-in detectors (an entry's ``container: {apt: [...]}`` wins)
APT_PACKAGES: dict[str, list[str]] = {
    "compiler-gcc": ["gcc", "libc6-dev"],
    "compiler-clang": ["clang"],
    "cmake": ["cmake"],
    "git": ["git"],
    "python": [],  # every image has python3 (the interpreter cknowledge runs on)
}


class Target:
    """``KIND:NAME`` (or ``KIND`` with ``tags``): what the image runs."""

    def __init__(self, kind: str, name: str | None, tags: list[str]) -> None:
        self.kind, self.name, self.tags = kind, name, tags

    @classmethod
    def parse(cls, component: Any, tags: Any = None) -> Target:
        from ..store.legacy import normalize_tags

        if not component or not isinstance(component, str):
            raise InvalidInput("name what the image is for: script:NAME, program:NAME or "
                               "solution:NAME (e.g. ck docker build program:cbench-crc32)")
        kind, sep, name = component.partition(":")
        if kind not in KINDS:
            raise InvalidInput(f"{component}: images are made for {', '.join(KINDS)} "
                               f"components, not {kind!r}")
        tag_list = normalize_tags(tags) if tags else []
        if not name and not tag_list:
            raise InvalidInput(f"name the {kind} ({kind}:NAME) or select it with --tags")
        if kind == "solution" and not name:
            raise InvalidInput("name the solution: solution:NAME")
        return cls(kind, name or None, tag_list)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else f"{self.kind} --tags={','.join(self.tags)}"

    def slug(self) -> str:
        import re

        text = self.name or "-".join(self.tags)
        return re.sub(r"[^a-z0-9_.-]+", "-", f"{self.kind}-{text}".lower()).strip("-.")[:100]

    def request(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The request that runs it (inside the image)."""
        out: dict[str, Any] = {"action": KINDS[self.kind], "automation": self.kind, **inputs}
        if self.name:
            out["artifact"] = self.name
        if self.tags:
            out["tags"] = self.tags
        return out


#: inputs that choose what runs (they enter the plan); the others only reach the run
PLAN_INPUTS = {"script": None, "program": ("opt", "flags"), "solution": ("backend",)}


#: inputs of the run itself (how often, where to record, ...): never part of a plan
RUN_INPUTS = {"env", "version", "record", "repetitions", "warmup", "name", "repo", "timeout",
              "quiet", "dataset", "validate", "output", "submit", "hub", "lock", "from_lock",
              "dry_run"}


def plan_inputs(target: Target, inputs: dict[str, Any]) -> dict[str, Any]:
    keep = PLAN_INPUTS[target.kind]
    skip = RUN_INPUTS
    if keep is None:  # a script's inputs enter its env through input_mapping
        return {k: v for k, v in inputs.items() if k not in skip}
    return {k: v for k, v in inputs.items() if k in keep}


def image_inputs(target: Target, inputs: dict[str, Any]) -> dict[str, Any]:
    """What of ``inputs`` shapes the image: the plan's inputs, --env and --version."""
    out = plan_inputs(target, inputs)
    out.update({k: inputs[k] for k in ("env", "version") if inputs.get(k) is not None})
    return out


def resolve(kernel: Kernel, target: Target, inputs: dict[str, Any]) -> dict[str, Any]:
    """The lock (as ``--lock`` writes it) of ``target`` with ``inputs``."""
    from ..workflow import read_lock, run

    with tempfile.TemporaryDirectory(prefix="ck-container-lock-") as tmp:
        if target.kind == "solution":
            return _solution_lock(kernel, target, plan_inputs(target, inputs), tmp)
        path = os.path.join(tmp, "lock.yaml")
        run(kernel, target.kind, target.name, target.tags, inputs.get("version"),
            plan_inputs(target, inputs), inputs.get("env"), dry_run=True, lock=path)
        data = read_lock(path)
    data.pop("by_ident", None)
    return data


def _solution_lock(kernel: Kernel, target: Target, inputs: dict[str, Any], tmp: str
                   ) -> dict[str, Any]:
    """The prepare steps of the solution (those --backend needs, or all of them)."""
    from ..solutions.manifest import bind_inputs, load_manifest
    from ..store.cid import parse_artifact
    from ..workflow import read_lock, run

    entry = kernel.store.load("solution", parse_artifact(str(target.name)))
    manifest = load_manifest(entry)
    nodes: list[dict[str, Any]] = []
    seen: set[str] = set()
    bound = bind_inputs(manifest, inputs, f"solution:{entry['name']}") if inputs else None
    for i, step in enumerate(s for s in manifest.prepare if bound is None or s.active(bound)):
        path = os.path.join(tmp, f"{i:03d}.yaml")
        run(kernel, step.kind, None, step.tags, step.version, {}, None, dry_run=True, lock=path)
        for node in read_lock(path)["nodes"]:
            if node["key"] not in seen:
                seen.add(node["key"])
                nodes.append(node)
    nodes.append({"ident": f"solution:{entry['uid']}", "kind": "solution", "name": entry["name"],
                  "uid": entry["uid"], "repo": entry.get("repo"), "version": None,
                  "variations": [], "key": _entry_digest(entry), "parts": {}})
    return {"cknowledge_lock": 1, "root": f"solution:{entry['uid']}", "nodes": nodes}


def _entry_digest(entry: dict[str, Any]) -> str:
    from ..cache.keys import digest, folder_digests

    return digest({"meta": {k: v for k, v in entry["meta"].items() if k != "uid"},
                   "files": folder_digests(entry["path"])})[:32]


def system_needs(kernel: Kernel, lock: dict[str, Any]) -> dict[str, list[str]]:
    """``{"apt": [...], "pip": [...]}`` for the lock's detected software."""
    from ..store.cid import ArtifactRef

    apt: set[str] = set()
    pip: set[str] = set()
    for node in lock["nodes"]:
        if node.get("kind") != "soft":
            continue
        entry = kernel.store.load("soft", ArtifactRef(None, node["uid"]))
        meta = entry["meta"]
        declared = (meta.get("container") or {}).get("apt") if isinstance(
            meta.get("container"), dict) else None
        detect = meta.get("detect") or {}
        if declared is not None:
            apt.update(str(p) for p in declared)
        elif detect.get("python_package"):
            names = detect["python_package"]
            dist = names[0] if isinstance(names, list) else names
            pip.add(f"{dist}=={node['version']}" if node.get("version") else str(dist))
        elif node["name"] in APT_PACKAGES:
            apt.update(APT_PACKAGES[node["name"]])
        else:
            raise InvalidInput(f"soft:{node['name']} (found at {node.get('path')}) names no "
                               "Debian package for images; add 'container: {apt: [PACKAGE]}' "
                               "to its meta")
    return {"apt": sorted(apt), "pip": sorted(pip)}
