"""Choosing versions of hub components: the newest that every requirement admits.

A component is named ``AUTOMATION:NAME``; each published version lists the ranges it
needs of other components (``deps: [{component, range}]``). Resolution is transitive and
backtracks (resolvelib): when the newest version of something cannot be combined with
the rest, older ones are tried. Pre-releases are chosen only when a range names a
pre-release or nothing else matches. When no choice works, :class:`Unsatisfiable`
(code 18) says who needs what and which versions the hub has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InvalidInput, NotFound, Unsatisfiable
from ..versions import Version as LooseVersion
from ..versions import VersionRange

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from typing import Any


def split_component(text: str) -> tuple[str, str]:
    """``dataset:mnist`` → ``("dataset", "mnist")``; names are checked like entry names."""
    from ..errors import UnsafeName
    from ..store.cid import check_name

    automation, sep, name = str(text).partition(":")
    if not sep or not automation or not name:
        raise InvalidInput(f"name the component as AUTOMATION:NAME (e.g. dataset:mnist), "
                           f"not {text!r}")
    try:
        check_name(automation)
        check_name(name)
        for part in (automation, name):
            if part != part.strip():   # the name check lets a trailing newline through
                raise UnsafeName(f"the name {part!r} ends in white space")
    except UnsafeName as exc:
        raise InvalidInput(f"component {text!r}: {exc.message}") from None
    return automation, name


@dataclass(frozen=True, order=True, init=False)
class Version:
    """A version published on the hub, compared as PEP 440 compares it (``packaging``:
    epochs, pre-, post-, dev-releases, local versions), as the hub orders them; a text
    that is no PEP 440 version (an older hub) falls back to the loose order of
    :mod:`cknowledge.versions`, after every PEP 440 one. Printed as published."""

    key: tuple[Any, ...] = field(repr=False)
    text: str = field(compare=False)

    def __init__(self, text: str) -> None:
        from packaging.version import InvalidVersion
        from packaging.version import Version as Pep440

        key: tuple[Any, ...]
        try:
            key = (1, Pep440(str(text)))
        except InvalidVersion:
            key = (0, LooseVersion(str(text)))
        object.__setattr__(self, "text", str(text))
        object.__setattr__(self, "key", key)

    def __str__(self) -> str:
        return self.text

    @property
    def is_prerelease(self) -> bool:
        pep = self.key[1]
        return bool(pep.is_prerelease) if self.key[0] else _is_pre(pep)


class Range:
    """A range of hub versions: a PEP 440 specifier set (``>=1.0,!=1.2.*,<2``) checked by
    ``packaging``, else (a range PEP 440 cannot read) the loose ranges of
    :mod:`cknowledge.versions`. Pre-releases are admitted here; :class:`Provider` decides
    whether to prefer them. InvalidInput when neither can read it."""

    __slots__ = ("text", "spec", "loose")

    def __init__(self, text: str) -> None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        self.text = text.strip()
        self.loose = VersionRange(self.text)   # InvalidInput for a range nothing reads
        self.spec: SpecifierSet | None
        try:
            self.spec = SpecifierSet(self.text)
        except InvalidSpecifier:
            self.spec = None

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)

    def admits(self, version: Version) -> bool:
        if self.spec is not None and version.key[0]:
            return bool(self.spec.contains(version.key[1], prereleases=True))
        return self.loose.admits(LooseVersion(version.text))

    def names_prerelease(self) -> bool:
        """Whether a clause names a pre-release (``>=2.0rc1``): then they are wanted."""
        if self.spec is not None:
            return any(Version(s.version.removesuffix(".*")).is_prerelease
                       for s in self.spec)
        return any(is_prerelease(str(cl.version)) for cl in self.loose.clauses)


@dataclass(frozen=True)
class Requirement:
    ident: str
    range: Range
    parent: str | None  # "dataset:x 1.2.0", None for the request itself

    def describe(self) -> str:
        return f"{self.ident} {self.range or '(any version)'}"


@dataclass(frozen=True)
class Candidate:
    ident: str
    version: Version
    info: dict[str, Any] = field(compare=False, hash=False)

    @property
    def label(self) -> str:
        return f"{self.ident} {self.version}"


def _is_pre(version: LooseVersion) -> bool:
    """Loose versions: a pre-release tag (``rc``, ``beta``, ...) right after the numbers."""
    key = version.key
    tag = key[key.index((-1, 0)) + 1]
    return tag[0] == 0 and isinstance(tag[1], int) and tag[1] < 0


def is_prerelease(text: str) -> bool:
    """``1.0rc1``, ``2.0.dev3``, ``3.0.0-beta`` are pre-releases."""
    try:
        from packaging.version import InvalidVersion
        from packaging.version import Version as PV

        try:
            return bool(PV(text).is_prerelease)
        except InvalidVersion:
            pass
    except ImportError:  # pragma: no cover - packaging is a dependency
        pass
    return _is_pre(LooseVersion(text))


class Provider:
    """The resolvelib provider over the hub's component listings."""

    def __init__(self, fetch: Callable[[str], dict[str, Any]]) -> None:
        self._fetch = fetch
        self._components: dict[str, dict[str, Any]] = {}

    def component(self, ident: str) -> dict[str, Any]:
        if ident not in self._components:
            self._components[ident] = self._fetch(ident)
        return self._components[ident]

    def versions(self, ident: str) -> list[Candidate]:
        info = self.component(ident)
        out = [Candidate(ident, Version(str(v["version"])), v)
               for v in info.get("versions") or []]
        out.sort(key=lambda c: c.version, reverse=True)
        return out

    # -- resolvelib interface -------------------------------------------------------------
    def identify(self, requirement_or_candidate: Requirement | Candidate) -> str:
        return requirement_or_candidate.ident

    def get_preference(self, identifier: str, resolutions: Mapping[str, Candidate],
                       candidates: Mapping[str, Iterator[Candidate]],
                       information: Mapping[str, Iterator[Any]],
                       backtrack_causes: Sequence[Any]) -> tuple[int, str]:
        return (0 if identifier in (c.requirement.ident for c in backtrack_causes) else 1,
                identifier)

    def narrow_requirement_selection(self, identifiers: Iterable[str], resolutions: Any,
                                     candidates: Any, information: Any,
                                     backtrack_causes: Any) -> Iterable[str]:
        return identifiers

    def find_matches(self, identifier: str, requirements: Mapping[str, Iterator[Requirement]],
                     incompatibilities: Mapping[str, Iterator[Candidate]]) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        admitted = [c for c in self.versions(identifier)
                    if c.version not in bad and all(r.range.admits(c.version) for r in reqs)]
        if any(r.range.names_prerelease() for r in reqs):
            return admitted
        final = [c for c in admitted if not c.version.is_prerelease]
        return final or admitted

    def is_satisfied_by(self, requirement: Requirement, candidate: Candidate) -> bool:
        return requirement.range.admits(candidate.version)

    def get_dependencies(self, candidate: Candidate) -> list[Requirement]:
        out = []
        for dep in candidate.info.get("deps") or []:
            ident = str(dep.get("component") or "")
            automation, name = split_component(ident)
            try:
                rng = Range(str(dep.get("range") or dep.get("version") or ""))
            except InvalidInput as exc:
                raise InvalidInput(f"{candidate.label} on the hub declares a dependency "
                                   f"{ident}: {exc.message}") from None
            out.append(Requirement(f"{automation}:{name}", rng, candidate.label))
        return out


def resolve(fetch: Callable[[str], dict[str, Any]], component: str,
            version_range: str | None = None) -> list[Candidate]:
    """The versions to install: ``component`` first, then its dependencies (each once).

    ``fetch(ident)`` returns the hub's component record (``versions`` with ``deps``);
    it raises :class:`NotFound` for unknown components."""
    from resolvelib import BaseReporter, Resolver
    from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

    automation, name = split_component(component)
    root = Requirement(f"{automation}:{name}", Range(version_range or ""), None)
    provider = Provider(fetch)
    if not provider.versions(root.ident):
        raise NotFound(f"{root.ident} has no published versions on the hub")
    resolver: Any = Resolver(provider, BaseReporter())  # type: ignore[arg-type]
    try:
        result = resolver.resolve([root], max_rounds=500)
    except ResolutionImpossible as exc:
        raise Unsatisfiable(f"cannot install {root.describe()}: "
                            + explain(provider, exc.causes)) from None
    except ResolutionTooDeep:
        raise Unsatisfiable(f"cannot choose versions for {root.describe()}: too many "
                            "conflicting choices") from None
    mapping: dict[str, Candidate] = dict(result.mapping)
    order = [root.ident]
    queue = [root.ident]
    while queue:  # breadth-first from the root: the order of the plan
        cand = mapping[queue.pop(0)]
        for req in provider.get_dependencies(cand):
            if req.ident not in order:
                order.append(req.ident)
                queue.append(req.ident)
    return [mapping[i] for i in order]


def explain(provider: Provider, causes: Iterable[Any]) -> str:
    """One sentence: which component, who needs which range, what the hub has."""
    by_ident: dict[str, list[Any]] = {}
    for info in causes:
        by_ident.setdefault(info.requirement.ident, []).append(info)
    parts = []
    for ident, infos in by_ident.items():
        asks = []
        for info in infos:
            req: Requirement = info.requirement
            who = req.parent or "the request"
            asks.append(f"{who} needs {req.range or 'any version'}")
        have = [c.version.text for c in provider.versions(ident)]
        parts.append(f"{ident}: {', '.join(dict.fromkeys(asks))}; the hub has "
                     + (", ".join(have) if have else "no versions"))
    return "no version satisfies every requirement on " + " | ".join(parts)
