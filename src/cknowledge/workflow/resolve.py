"""Dependency resolution: a resolvelib provider over detectors, packages and scripts.

A requirement asks for components by tags (plus variations and a version range). Its
identifier is the tags and variations, so every step that asks for the same thing must
agree on one candidate: a conflict between two steps' version ranges is found before
anything runs and explained in one message.

Candidates for an identifier, in order of preference (resolvelib tries them in turn):
1. packages already installed in the cache (a valid cached result),
2. software found by ``soft`` detectors (newest first),
3. scripts that carry the tags,
4. packages that would be installed (newest first).
"""

from __future__ import annotations

import os

from ..errors import NotFound, Unsatisfiable
from ..store.cid import ArtifactRef
from ..versions import Version, VersionRange
from .spec import DepSpec, ScriptSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from typing import Any

    from ..store.store import Store

KINDS = ("soft", "script", "package")
RANK = {"cached-package": 0, "soft": 1, "script": 2, "program": 2, "package": 3}


class Requirement:
    __slots__ = ("ident", "tags", "variations", "version", "names", "parent", "entry", "kinds")

    def __init__(self, tags: Sequence[str], variations: Sequence[str] = (),
                 version: VersionRange | None = None, names: Sequence[str] = (),
                 parent: str | None = None, entry: dict[str, Any] | None = None,
                 kinds: Sequence[str] = KINDS) -> None:
        self.kinds = tuple(kinds)
        self.tags = tuple(sorted(set(tags)))
        self.variations = tuple(sorted(set(variations)))
        self.version = version or VersionRange("")
        self.names = tuple(names)
        self.parent = parent
        self.entry = entry  # the root step when named (ck run script:NAME)
        base = f"{entry['automation']}:{entry['uid']}" if entry else ",".join(self.tags)
        if not entry and self.kinds != KINDS:
            base = "+".join(self.kinds) + ":" + base
        self.ident = base + "".join(f",_{v}" for v in self.variations)

    @classmethod
    def from_dep(cls, dep: DepSpec, parent: str) -> Requirement:
        return cls(dep.tags, dep.variations, dep.version, dep.names, parent)

    def describe(self) -> str:
        what = self.ident if not self.entry else f"{self.entry['automation']}:{self.entry['name']}"
        return what + (f" {self.version}" if self.version else "")


class Candidate:
    __slots__ = ("ident", "kind", "entry", "version", "found", "variations", "cached")

    def __init__(self, ident: str, kind: str, entry: dict[str, Any], version: Version | None,
                 found: dict[str, Any] | None = None, variations: Sequence[str] = (),
                 cached: bool = False) -> None:
        self.ident, self.kind, self.entry, self.version = ident, kind, entry, version
        self.found, self.variations, self.cached = found, tuple(variations), cached

    @property
    def label(self) -> str:
        text = f"{self.kind}:{self.entry['name']}"
        if self.version is not None:
            text += f" {self.version}"
        if self.found:
            text += f" ({self.found.get('path')})"
        return text

    @property
    def identity(self) -> tuple[str, str, str, str]:
        path = str(self.found.get("path")) if self.found else ""
        return (self.kind, str(self.entry.get("uid")), str(self.version or ""), path)


class Provider:
    """The resolvelib provider (duck-typed: resolvelib is imported only when a real choice
    has to be made, see :func:`resolve`)."""
    def __init__(self, store: Store, home: str, root_env: dict[str, str],
                 locked: dict[str, dict[str, Any]] | None = None) -> None:
        self.store = store
        self.home = home
        self.root_env = root_env
        self.locked = locked or {}
        self._candidates: dict[str, list[Candidate]] = {}
        self.seen: dict[str, list[str]] = {}  # ident → what was found (for explanations)
        self._installed: set[tuple[str, str]] | None = None

    # -- resolvelib interface -------------------------------------------------------------
    def identify(self, requirement_or_candidate: Requirement | Candidate) -> str:
        return requirement_or_candidate.ident

    def get_preference(self, identifier: str, resolutions: Mapping[str, Candidate],
                       candidates: Mapping[str, Iterator[Candidate]],
                       information: Mapping[str, Iterator[Any]], backtrack_causes: Sequence[Any]
                       ) -> tuple[int, str]:
        return (0 if identifier in (c.requirement.ident for c in backtrack_causes) else 1,
                identifier)

    def narrow_requirement_selection(self, identifiers: Iterable[str], resolutions: Any,
                                     candidates: Any, information: Any,
                                     backtrack_causes: Any) -> Iterable[str]:
        return identifiers

    def find_matches(self, identifier: str, requirements: Mapping[str, Iterator[Requirement]],
                     incompatibilities: Mapping[str, Iterator[Candidate]]) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = {c.identity for c in incompatibilities[identifier]}
        out = []
        for cand in self.candidates(reqs[0]):
            if cand.identity in bad:
                continue
            if all(r.version.admits(cand.version) for r in reqs):
                out.append(cand)
        return out

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        return requirement.version.admits(candidate.version)

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        if candidate.kind == "soft":
            return []
        spec = ScriptSpec(candidate.entry, candidate.kind)
        variations = spec.choose_variations(candidate.variations) if candidate.kind == "script" \
            else []
        env = spec.declared_env(variations, {}, {})
        env.update(self.root_env if candidate.ident == self.root_ident else {})
        return [Requirement.from_dep(d, spec.owner) for d in spec.deps_for(variations, env)]

    root_ident = ""

    # -- candidates -----------------------------------------------------------------------
    def candidates(self, req: Requirement) -> list[Candidate]:
        if req.ident in self._candidates:
            return self._candidates[req.ident]
        if req.entry is not None:
            entries = [(req.entry["automation"], req.entry)]
        else:
            entries = []
            for kind in req.kinds:
                for e in self.store.find(kind, ArtifactRef(), list(req.tags), with_meta=True):
                    entries.append((kind, e))
        found: list[tuple[tuple[int, Any], Candidate]] = []
        notes: list[str] = []
        for kind, entry in entries:
            for cand in self._expand(req, kind, entry, notes):
                version_key = cand.version.key if cand.version is not None else ()
                rank = RANK["cached-package" if cand.cached else kind]
                found.append(((rank, _neg(version_key)), cand))
        found.sort(key=lambda pair: pair[0])
        cands = [c for _, c in found]
        lock = self.locked.get(req.ident)
        if lock is not None:
            cands = [c for c in cands if _matches_lock(c, lock)]
            if not cands:
                raise Unsatisfiable(f"the lock file pins {req.ident} to {_lock_label(lock)}, "
                                    f"which is not available here (found: "
                                    f"{'; '.join(notes) or 'nothing'})")
        self.seen[req.ident] = notes or ["no soft, script or package entry has these tags"]
        self._candidates[req.ident] = cands
        return cands

    def _expand(self, req: Requirement, kind: str, entry: dict[str, Any],
                notes: list[str]) -> Iterable[Candidate]:
        meta = entry.get("meta") or {}
        if kind == "soft":
            from ..detect.soft import detect

            if not isinstance(meta.get("detect"), dict):
                # a soft entry of another layout (CK 1.x's soft module, say) never breaks
                # the resolution of the others: it is left out, with a note
                notes.append(f"{entry['name']}: skipped (soft entry without a 'detect' section, "
                             f"from repo {entry.get('repo')})")
                return
            for hit in detect(entry, home=self.home):
                data = hit.to_dict()
                notes.append(f"{entry['name']} {data.get('version')} at {data.get('path')}")
                yield Candidate(req.ident, kind, entry, _version(data.get("version")), data)
            if not any(n.startswith(f"{entry['name']} ") for n in notes):
                notes.append(f"{entry['name']}: not installed")
            return
        if kind == "script":
            from ..cmcompat.runner import flavor

            if flavor(entry):  # a CM/MLC script: `ck run script` runs those, not this engine
                notes.append(f"{entry['name']}: skipped ({flavor(entry)} script)")
                return
        version = _version(meta.get("version"))
        notes.append(f"{kind} {entry['name']}" + (f" {version}" if version else ""))
        cached = kind == "package" and (str(entry["uid"]), str(version or "")) in self.installed()
        yield Candidate(req.ident, kind, entry, version, variations=req.variations, cached=cached)

    def installed(self) -> set[tuple[str, str]]:
        if self._installed is None:
            from ..cache.store import CacheStore

            self._installed = set()
            for rec in CacheStore(self.home).select():
                if rec.get("kind") == "package" and all(os.path.exists(p) for p in rec.get("paths", [])):
                    self._installed.add((str(rec.get("uid")), str(rec.get("version") or "")))
        return self._installed


def _neg(key: Any) -> Any:
    """Sort newest first with an ascending sort: wrap the key so comparisons invert."""
    return _Desc(key)


class _Desc:
    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.key > other.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.key == other.key


def _version(value: Any) -> Version | None:
    if value is None or value == "":
        return None
    try:
        return Version(str(value))
    except Exception:
        return None


def _matches_lock(cand: Candidate, lock: dict[str, Any]) -> bool:
    if cand.kind != lock.get("kind") or str(cand.entry.get("uid")) != str(lock.get("uid")):
        return False
    if str(cand.version or "") != str(lock.get("version") or ""):
        return False
    return not (cand.found and lock.get("path") and cand.found.get("path") != lock.get("path"))


def _lock_label(lock: dict[str, Any]) -> str:
    text = f"{lock.get('kind')}:{lock.get('name')} {lock.get('version') or ''}".strip()
    return text + (f" at {lock['path']}" if lock.get("path") else "")


class Resolution:
    """What :func:`resolve` returns: the chosen candidate of every identifier."""

    def __init__(self, mapping: dict[str, Candidate]) -> None:
        self.mapping = mapping


def resolve(provider: Provider, root: Requirement) -> Resolution:
    """Resolve ``root`` and its dependencies.

    When every identifier has exactly one candidate that meets all the requirements on
    it, that is the only solution and no search is needed; otherwise resolvelib searches
    (with backtracking) and explains a failure."""
    provider.root_ident = root.ident
    unique = _unique_solution(provider, root)
    if unique is not None:
        return Resolution(unique)
    from resolvelib import BaseReporter, Resolver
    from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

    resolver: Any = Resolver(provider, BaseReporter())  # type: ignore[arg-type]
    try:
        return Resolution(dict(resolver.resolve([root], max_rounds=500).mapping))
    except ResolutionImpossible as exc:
        raise Unsatisfiable(explain(provider, exc.causes)) from None
    except ResolutionTooDeep:
        raise Unsatisfiable(f"dependencies of {root.describe()} could not be resolved "
                            "(too many conflicting choices)") from None


def _unique_solution(provider: Provider, root: Requirement) -> dict[str, Candidate] | None:
    """The mapping if each identifier reached has exactly one admissible candidate."""
    reqs: dict[str, list[Requirement]] = {}
    chosen: dict[str, Candidate] = {}
    queue = [root]
    while queue:
        req = queue.pop()
        reqs.setdefault(req.ident, []).append(req)
        if req.ident in chosen:
            continue
        cands = [c for c in provider.candidates(req) if req.version.admits(c.version)]
        if len(cands) != 1:
            return None
        chosen[req.ident] = cands[0]
        queue.extend(provider.get_dependencies(cands[0]))
    for ident, cand in chosen.items():
        if not all(r.version.admits(cand.version) for r in reqs[ident]):
            return None  # a later requirement rules it out: let the solver explain
    return chosen


def explain(provider: Provider, causes: Iterable[Any]) -> str:
    """One sentence: what was asked, by whom, and what was found."""
    by_ident: dict[str, list[Any]] = {}
    for info in causes:
        by_ident.setdefault(info.requirement.ident, []).append(info)
    parts = []
    for ident, infos in by_ident.items():
        asks = []
        for info in infos:
            who = info.parent.label if info.parent is not None else "the request"
            req = info.requirement
            asks.append(f"{who} needs {req.version or 'any version'}")
        found = "; ".join(provider.seen.get(ident, [])) or "nothing"
        parts.append(f"{ident}: {', '.join(asks)}; found: {found}")
    if not parts:
        raise NotFound("nothing to resolve")
    return "cannot resolve dependencies: " + " | ".join(parts)
