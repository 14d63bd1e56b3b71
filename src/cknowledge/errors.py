"""The exception tree of cknowledge, with one stable code per condition.

Library code raises these; only three boundaries translate them:
``access()`` into ``{"return": code, "error": message}``, the CLI into an exit
code and one ``ck: error:`` line, the REST layer into an HTTP status.

    CKError (1)
    ├── InvalidInput (2)          a request input is missing, mistyped or malformed
    │   ├── UnknownAction (3)     the automation has no such action
    │   ├── UnknownAutomation (4) no built-in, repo or plugin automation has that name
    │   └── UnsafeName (5)        a name would escape its folder (``../x``, ``/abs``)
    ├── MetaError (6)             a meta file cannot be parsed or has the wrong shape
    ├── ReadOnly (7)              a write was aimed at a read-only repo
    ├── AlreadyExists (8)         the target entry or repo exists already
    ├── Ambiguous (9)             one entry was needed, several matched
    ├── RepoError (10)            a repo cannot be registered, cloned or removed
    ├── ArchiveError (11)         an archive is unreadable or holds an unsafe member
    ├── PluginError (12)          a plugin or repo automation failed to load
    ├── AuthError (13)            a REST write came without a valid token
    ├── CommandFailed (14)        a subprocess failed: command, exit status or signal, output
    ├── DownloadError (15)        a download failed (network, HTTP status, interrupted)
    ├── NotFound (16)             no entry, repo or file matched (as in CK)
    ├── ChecksumError (17)        a file's sha256 differs from the one declared
    ├── Unsatisfiable (18)        dependencies cannot be resolved (conflicting or unmet ranges)
    ├── CacheError (19)           a cached result is unusable or cannot be written
    └── Locked (32)               an entry or repo lock could not be taken (as in CK)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from collections.abc import Iterable
    from typing import Any


class CKError(Exception):
    """Base of every error cknowledge raises on purpose."""

    code = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {"return": self.code, "error": self.message}
        if self.details:
            result["details"] = self.details
        return result


class InvalidInput(CKError):
    code = 2


class UnknownAction(InvalidInput):
    code = 3


class UnknownAutomation(InvalidInput):
    code = 4


class UnsafeName(InvalidInput):
    code = 5


class MetaError(CKError):
    code = 6


class ReadOnly(CKError):
    code = 7


class AlreadyExists(CKError):
    code = 8


class Ambiguous(CKError):
    code = 9


class RepoError(CKError):
    code = 10


class ArchiveError(CKError):
    code = 11


class PluginError(CKError):
    code = 12


class AuthError(CKError):
    code = 13


class CommandFailed(CKError):
    code = 14


class DownloadError(CKError):
    code = 15


class NotFound(CKError):
    code = 16


class ChecksumError(CKError):
    code = 17


class Unsatisfiable(CKError):
    code = 18


class CacheError(CKError):
    code = 19


class Locked(CKError):
    code = 32


ALL_ERRORS: tuple[type[CKError], ...] = (
    CKError, InvalidInput, UnknownAction, UnknownAutomation, UnsafeName, MetaError,
    ReadOnly, AlreadyExists, Ambiguous, RepoError, ArchiveError, PluginError, AuthError,
    CommandFailed, DownloadError, NotFound, ChecksumError, Unsatisfiable, CacheError, Locked,
)


def suggest(word: str, candidates: Iterable[str]) -> str:
    """Return ' (did you mean: a, b?)' for the nearest candidates, or ''."""
    import difflib

    close = difflib.get_close_matches(word, sorted(candidates), n=3, cutoff=0.6)
    return f" (did you mean: {', '.join(close)}?)" if close else ""


#: optional packages -> the extra of cknowledge that installs them
EXTRAS = {"numpy": "tune", "optuna": "tune", "matplotlib": "tune", "plotly": "tune",
          "pyarrow": "tune", "ray": "ray", "fastapi": "serve", "uvicorn": "serve",
          "sqlalchemy": "hub", "alembic": "hub", "jinja2": "hub", "multipart": "hub",
          "psycopg": "postgres"}


def missing_extra(exc: BaseException) -> InvalidInput | None:
    """An ImportError of an optional package (not of cknowledge itself) as the one input
    error that names what to install; None for anything else."""
    if not isinstance(exc, ImportError) or not exc.name:
        return None
    top = exc.name.partition(".")[0]
    if top == "cknowledge":
        return None
    extra = EXTRAS.get(top)
    hint = f"pip install 'cknowledge[{extra}]'" if extra else f"pip install {top}"
    return InvalidInput(f"this needs the package {top}, which is not installed: {hint}")
