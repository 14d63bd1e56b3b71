"""Component identifiers: names, UIDs, ``repo:name`` and wildcards.

A CID on the command line is ``AUTOMATION[:[REPO:]NAME]``. Inside a request the
automation is its own key and ``artifact`` is ``[REPO:]NAME``. ``NAME`` may be an
alias, a 16-hex UID, or a pattern with ``*`` and ``?``.

As in CM and MLC, ``NAME`` and ``REPO`` may also be written ``ALIAS,UID`` (or
``UID,ALIAS``), e.g. ``script:get-python3,d0b5dd74373f4fce``: the UID decides, the
alias is only kept for messages.
"""

from __future__ import annotations

import os
import re
from collections import namedtuple

from ..errors import InvalidInput, UnsafeName

UID_RE = re.compile(r"^[0-9a-f]{16}$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@=-]*$")
_RESERVED = {".", "..", ".ck", ".cm", ".git"}


def new_uid() -> str:
    """A fresh random 16-hex UID."""
    return os.urandom(8).hex()


def is_uid(text: str) -> bool:
    return bool(UID_RE.match(text))


def is_pattern(text: str) -> bool:
    return "*" in text or "?" in text or "[" in text


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a safe single path component, else raise UnsafeName."""
    if not isinstance(name, str) or not name:
        raise UnsafeName(f"the {what} is empty")
    if (
        "/" in name or "\\" in name or name in _RESERVED or os.path.isabs(name)
        or "\x00" in name or not _NAME_RE.fullmatch(name) or len(name) > 200
    ):
        raise UnsafeName(
            f"the {what} {name!r} is not allowed: use letters, digits and _ . + @ = -, "
            "starting with a letter, digit or _"
        )
    return name


class ArtifactRef(namedtuple("ArtifactRef", "repo name alias", defaults=(None, None, None))):
    """A reference to entries: optional repo, name or UID or pattern (None = all).

    ``alias``: the alias written beside a UID (``ALIAS,UID``), for messages only."""

    __slots__ = ()
    repo: str | None
    name: str | None
    alias: str | None

    @property
    def is_pattern(self) -> bool:
        return self.name is None or is_pattern(self.name)

    @property
    def uid(self) -> str | None:
        return self.name if self.name and is_uid(self.name) else None

    def __str__(self) -> str:
        text = self.name or "*"
        if self.alias:
            text = f"{self.alias},{text}"
        return f"{self.repo}:{text}" if self.repo else text


def split_alias_uid(text: str) -> tuple[str, str | None]:
    """``ALIAS,UID`` or ``UID,ALIAS`` → (UID, ALIAS); a plain name → (name, None).

    The UID is what is looked up (CM matches by UID first, whatever the alias says)."""
    if "," not in text:
        return text, None
    parts = text.split(",")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidInput(f"{text!r} is not NAME or ALIAS,UID")
    first, second = parts
    if is_uid(second):
        return second, first
    if is_uid(first):
        return first, second
    raise InvalidInput(f"{text!r} is not ALIAS,UID: neither part is a 16-hex UID"
                       " (a ',' in an artifact separates an alias from its UID)")


def parse_artifact(text: str | None) -> ArtifactRef:
    """Parse ``[REPO:]NAME`` (NAME may be a pattern); REPO and NAME may be ``ALIAS,UID``;
    variations after NAME (``NAME,_v``) are left out (see :func:`split_variations`)."""
    if text is None or text == "":
        return ArtifactRef()
    if not isinstance(text, str):
        raise InvalidInput(f"the artifact must be a string, not {type(text).__name__}")
    parts = text.split(":")
    if len(parts) == 1:
        repo, name = None, parts[0]
    elif len(parts) == 2:
        repo, name = parts[0] or None, parts[1]
    else:
        raise InvalidInput(f"the artifact {text!r} has too many ':' (use [REPO:]NAME)")
    alias = None
    if repo is not None:
        repo = split_alias_uid(repo)[0]  # the registry knows repos by name and by UID
    if name and "," in name:  # NAME,UID; variations (,_v) select nothing here, as in find
        name, alias = split_alias_uid(split_variations(name)[0])
    if repo is not None and not is_pattern(repo):
        check_name(repo, "repo name")
    if name and not is_pattern(name):
        check_name(name)
    elif name and ("/" in name or "\\" in name or ".." in name):
        raise UnsafeName(f"the pattern {name!r} may not contain '/', '\\' or '..'")
    if alias is not None:
        check_name(alias, "alias")
    return ArtifactRef(repo=repo, name=name or None, alias=alias)


def parse_cid(text: str) -> tuple[str, str | None]:
    """Split a command-line CID ``AUTOMATION[:ARTIFACT]`` into its two parts."""
    automation, sep, artifact = text.partition(":")
    if not automation:
        raise InvalidInput(f"the CID {text!r} names no automation (use AUTOMATION[:[REPO:]NAME])")
    return automation, (artifact if sep else None)


def split_variations(text: str) -> tuple[str, list[str]]:
    """``NAME[,UID][,_var1,_var2]`` → (``NAME[,UID]``, ['var1', 'var2']).

    CM and MLC write a script's variations after its name; the parts beginning with
    ``_`` (after the first, which is always the name) are variations, the rest is the
    artifact (for :func:`parse_artifact`)."""
    first, *rest = text.split(",")
    head, variations = [first], []
    for part in rest:
        if part.startswith("_") and len(part) > 1:
            variations.append(part[1:])
        elif part:
            head.append(part)
    return ",".join(head), variations
