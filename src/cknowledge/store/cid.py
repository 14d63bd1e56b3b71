"""Component identifiers: names, UIDs, ``repo:name`` and wildcards.

A CID on the command line is ``AUTOMATION[:[REPO:]NAME]``. Inside a request the
automation is its own key and ``artifact`` is ``[REPO:]NAME``. ``NAME`` may be an
alias, a 16-hex UID, or a pattern with ``*`` and ``?``.
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


class ArtifactRef(namedtuple("ArtifactRef", "repo name", defaults=(None, None))):
    """A reference to entries: optional repo, name or UID or pattern (None = all)."""

    __slots__ = ()
    repo: str | None
    name: str | None

    @property
    def is_pattern(self) -> bool:
        return self.name is None or is_pattern(self.name)

    @property
    def uid(self) -> str | None:
        return self.name if self.name and is_uid(self.name) else None

    def __str__(self) -> str:
        text = self.name or "*"
        return f"{self.repo}:{text}" if self.repo else text


def parse_artifact(text: str | None) -> ArtifactRef:
    """Parse ``[REPO:]NAME`` (NAME may be a pattern)."""
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
    if repo is not None and not is_pattern(repo):
        check_name(repo, "repo name")
    if name and not is_pattern(name):
        check_name(name)
    elif name and ("/" in name or "\\" in name or ".." in name):
        raise UnsafeName(f"the pattern {name!r} may not contain '/', '\\' or '..'")
    return ArtifactRef(repo=repo, name=name or None)


def parse_cid(text: str) -> tuple[str, str | None]:
    """Split a command-line CID ``AUTOMATION[:ARTIFACT]`` into its two parts."""
    automation, sep, artifact = text.partition(":")
    if not automation:
        raise InvalidInput(f"the CID {text!r} names no automation (use AUTOMATION[:[REPO:]NAME])")
    return automation, (artifact if sep else None)
