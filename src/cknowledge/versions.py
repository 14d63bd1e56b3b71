"""Versions and version ranges, for every tool's numbering.

One ordering serves PEP 440 versions (``1.2.3``, ``2.0rc1``, ``1.0.post2``, ``1.0.dev1``
sort as PEP 440 sorts them) and the looser numbering of other tools (``12.2.0``,
``1.1.1w``, ``3.0.0-rc1``, ``2.39.5.windows.1``):

- a local or build suffix after ``+`` is ignored (``12.2.0+deb12u1`` == ``12.2.0``);
- the rest is split into runs of digits and of letters; digit runs
  compare as numbers, letter runs as text; a letter run directly after the release numbers
  that reads as a pre-release tag (``a``, ``alpha``, ``b``, ``beta``, ``rc``, ``pre``, ``dev``)
  sorts *before* the bare release (``3.0.0-rc1 < 3.0.0``), any other letter run sorts after
  it (``1.1.1 < 1.1.1w``, as OpenSSL numbers its fixes).

Both kinds of version compare with each other through a common key, so a range written in
PEP 440 (``>=9,<14``) filters loose versions too. A range is a comma-separated list of
clauses ``OP VERSION`` with OP one of ``==``, ``!=``, ``>=``, ``<=``, ``>``, ``<``, ``~=``
(compatible release) and ``==X.*`` (prefix); all clauses must hold. An empty range admits
everything. A range that does not parse is an ``InvalidInput`` error naming it.
"""

from __future__ import annotations

import re

from .errors import InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

_TOKEN = re.compile(r"\d+|[A-Za-z]+")
_PRE = {"dev": -4, "a": -3, "alpha": -3, "b": -2, "beta": -2, "c": -1, "rc": -1, "pre": -1,
        "preview": -1}
_CLAUSE = re.compile(r"^\s*(===|==|!=|~=|>=|<=|>|<)?\s*([A-Za-z0-9][^\s,]*)\s*$")

Key = tuple[tuple[int, int | str], ...]


class Version:
    """A version of any scheme; ordered, hashable, printable as given."""

    __slots__ = ("text", "key", "release")

    def __init__(self, text: str) -> None:
        text = str(text).strip()
        if not text or not any(ch.isdigit() for ch in text):
            raise InvalidInput(f"{text!r} is not a version (it has no digits)")
        self.text = text
        self.key, self.release = _key(text)

    def __repr__(self) -> str:
        return f"Version({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __gt__(self, other: Version) -> bool:
        return self.key > other.key

    def __ge__(self, other: Version) -> bool:
        return self.key >= other.key


def _key(text: str) -> tuple[Key, tuple[int, ...]]:
    """Comparison key: (release numbers without trailing zeros, then a tag part).

    The tag part orders pre-release < bare release < anything else after the numbers."""
    body = text.lower().lstrip("v")
    head = body.split("+", 1)[0]
    tokens = _TOKEN.findall(head or body)
    release: list[int] = []
    i = 0
    while i < len(tokens) and tokens[i].isdigit():
        release.append(int(tokens[i]))
        i += 1
    rest = tokens[i:]
    if rest and rest[0] in _PRE:
        tag: list[tuple[int, int | str]] = [(0, _PRE[rest[0]])]   # 3.0.0-rc1 < 3.0.0
        rest = rest[1:]
    elif rest:
        tag = [(2, 0)]                                           # 1.1.1w > 1.1.1
    else:
        tag = [(1, 0)]
    for tok in rest:
        if tok.isdigit():
            tag.append((1, int(tok)))
        elif tok == "dev":
            tag.append((-1, 0))                                  # x.dev1 < x
        else:
            tag.append((2, tok))
    tag.append((0, 0))                                           # the end of the tags
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()                                            # 1.2 == 1.2.0
    key: list[tuple[int, int | str]] = [(1, n) for n in trimmed]
    key.append((-1, 0))                                          # end of the release part
    key.extend(tag)
    return tuple(key), tuple(release)


def parse_version(text: str | Version) -> Version:
    return text if isinstance(text, Version) else Version(text)


class _Clause:
    __slots__ = ("op", "version", "prefix")

    def __init__(self, op: str, text: str) -> None:
        self.op = op
        self.prefix: tuple[int, ...] | None = None
        if text.endswith(".*"):
            if op not in ("==", "!="):
                raise InvalidInput(f"'{op}{text}': a '.*' version needs == or !=")
            self.prefix = Version(text[:-2]).release
            text = text[:-2]
        self.version = Version(text)
        if op == "~=" and len(self.version.release) < 2:
            raise InvalidInput(f"'~={text}' needs at least two release numbers (~=1.4)")

    def __str__(self) -> str:
        return f"{self.op}{self.version}{'.*' if self.prefix is not None else ''}"

    def admits(self, v: Version) -> bool:
        if self.prefix is not None:
            hit = v.release[:len(self.prefix)] == self.prefix
            return hit if self.op == "==" else not hit
        op, w = self.op, self.version
        if op in ("==", "==="):
            return v == w
        if op == "!=":
            return v != w
        if op == ">=":
            return v >= w
        if op == "<=":
            return v <= w
        if op == ">":
            return v > w
        if op == "<":
            return v < w
        # ~=X.Y.Z: >= X.Y.Z and the same X.Y
        return v >= w and v.release[:len(w.release) - 1] == w.release[:-1]


class VersionRange:
    """All clauses must hold; ``VersionRange("")`` admits every version."""

    __slots__ = ("text", "clauses")

    def __init__(self, text: str | None = None) -> None:
        self.text = (text or "").strip()
        self.clauses: list[_Clause] = []
        for part in filter(None, (p.strip() for p in self.text.split(","))):
            m = _CLAUSE.match(part)
            if not m:
                raise InvalidInput(f"cannot read the version range {self.text!r} "
                                   f"(at {part!r}; write e.g. '>=9,<14' or '==12.*')")
            op = m.group(1) or "=="
            try:
                self.clauses.append(_Clause(op, m.group(2)))
            except InvalidInput as exc:
                raise InvalidInput(f"cannot read the version range {self.text!r}: "
                                   f"{exc.message}") from None

    def __str__(self) -> str:
        return ",".join(str(c) for c in self.clauses)

    def __repr__(self) -> str:
        return f"VersionRange({str(self)!r})"

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def admits(self, version: str | Version | None) -> bool:
        """True if ``version`` satisfies every clause (a missing version only an empty range)."""
        if version is None or version == "":
            return not self.clauses
        v = parse_version(version)
        return all(c.admits(v) for c in self.clauses)

    def __contains__(self, version: str | Version) -> bool:
        return self.admits(version)

    def intersect(self, other: VersionRange) -> VersionRange:
        joined = ",".join(x for x in (str(self), str(other)) if x)
        return VersionRange(joined)

    def filter(self, versions: Iterable[str | Version]) -> list[Version]:
        return [v for v in map(parse_version, versions) if self.admits(v)]


def parse_range(text: str | VersionRange | None) -> VersionRange:
    return text if isinstance(text, VersionRange) else VersionRange(text)
