"""Entry folders on disk: reading one afresh under its lock, links that leave the repo,
and renaming or deleting a folder so that others see it whole or not at all."""

from __future__ import annotations

import os

from ..errors import AlreadyExists, InvalidInput, MetaError, NotFound
from .cid import new_uid
from .index import Parsed
from .legacy import read_entry
from .metaio import find_meta_file, parse_text, read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any


def escapes(root: str, path: str) -> str | None:
    """Where ``path`` really is, if a link takes it out of the repo folder ``root``."""
    if not os.path.islink(path) and not os.path.islink(os.path.dirname(path)):
        return None  # the common case costs two lstat calls
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
        return None
    return real


def read_checked(root: str, repo_name: str, repo_uid: str, automation: str,
                 name: str) -> Parsed:
    """The index's reader: :func:`legacy.read_entry`, except that an entry folder that is
    a link out of its repo is not read (a broken entry that names the link), and one
    that vanished while being read is not reported as broken."""
    entry = os.path.join(root, automation, name)
    real = escapes(root, entry)
    if real is not None:
        return Parsed(uid="", meta_file=None, tags=[], meta=None,
                      error=f"{automation} entry {repo_name}:{name} is a link to {real}, "
                            "outside its repo; skipped (remove it with ck rm)")
    parsed = read_entry(root, repo_uid, automation, name)
    if parsed.error is not None and not os.path.isdir(entry):
        return Parsed(uid="", meta_file=None, tags=[], meta=None)  # renamed or removed
    return parsed


def read_fresh(entry_dir: str, what: str) -> tuple[str, str, dict[str, Any]]:
    """``(meta path, text, meta)`` read from the folder now (not from the index): writers
    hold the entry's lock around this, so they change what is there, not a stale copy."""
    if not os.path.isdir(entry_dir):
        raise NotFound(f"{what} not found (removed or renamed meanwhile)")
    path = find_meta_file(entry_dir)
    if path is None:
        raise NotFound(f"{what} has no meta file (removed or renamed meanwhile)")
    try:
        text = read_text(path)
    except MetaError:
        if not os.path.isdir(entry_dir):
            raise NotFound(f"{what} not found (removed or renamed meanwhile)") from None
        raise
    return path, text, parse_text(text, path)


def rename_dir(src: str, dst: str, what: str) -> None:
    try:
        os.rename(src, dst)
    except OSError as exc:
        if os.path.lexists(dst):
            raise AlreadyExists(f"{what} exists already") from None
        if not os.path.lexists(src):
            raise NotFound(f"the source of {what} is gone (removed or renamed "
                           "meanwhile)") from None
        raise InvalidInput(f"cannot create {what}: {exc.strerror}") from None


def delete_dir(path: str) -> None:
    """Make the folder vanish at once (rename aside), then delete it; a link is removed
    itself, never what it points to."""
    import shutil

    parent, name = os.path.split(path)
    trash = os.path.join(parent, f".tmp-rm-{name}-{new_uid()}")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        raise NotFound(f"{path} is gone (removed or renamed meanwhile)") from None
    if os.path.islink(trash) or not os.path.isdir(trash):
        os.unlink(trash)
    else:
        shutil.rmtree(trash, ignore_errors=True)
