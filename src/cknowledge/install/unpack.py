"""Unpacking downloaded archives safely (.tar, .tar.gz/.tgz, .tar.xz, .tar.bz2, .zip).

Every member is checked before anything is written: absolute names, ``..``, devices
and other special files are refused, and so are links whose target lies outside the
archive or members that would be written through a link. Members are unpacked into a
temporary folder inside the destination (links last, each checked again with
``realpath``) and moved into place only when all went well, so a refused or broken
archive leaves nothing behind. ``strip`` drops leading path components, as
``tar --strip-components`` does; ``include`` (glob patterns on the member paths, ``*``
crossing folders) keeps only the members that match.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ArchiveError, InvalidInput
from ..store.archive import BoundedTarInfo

SUFFIXES = {".tar.gz": "tar", ".tgz": "tar", ".tar.xz": "tar", ".txz": "tar",
            ".tar.bz2": "tar", ".tbz2": "tar", ".tbz": "tar", ".tar": "tar", ".zip": "zip"}


def archive_format(name: str) -> str | None:
    """``"tar"`` or ``"zip"`` by the file name's suffix, else None."""
    lower = name.lower()
    for suffix, kind in SUFFIXES.items():
        if lower.endswith(suffix):
            return kind
    return None


def format_for(name: str, unpack: object) -> str | None:
    """What to do with a downloaded file: the spec's ``unpack`` (None/True: by suffix,
    False: keep as is, or a format such as ``"tar.gz"``) → ``"tar"``, ``"zip"`` or None."""
    if unpack is None:
        return archive_format(name)
    if unpack is False:
        return None
    if unpack is True:
        kind = archive_format(name)
        if kind is None:
            raise InvalidInput(f"unpack: true, but {name!r} has no archive suffix "
                               f"({', '.join(SUFFIXES)}); name the format, e.g. unpack: tar.gz")
        return kind
    if isinstance(unpack, str):
        kind = archive_format("x." + unpack.lstrip("."))
        if kind is not None:
            return kind
    raise InvalidInput(f"unpack must be true, false or one of {', '.join(SUFFIXES)}; "
                       f"got {unpack!r}")


@dataclass
class Member:
    parts: tuple[str, ...]   # the path inside the destination, after strip
    kind: str                # "file", "dir", "symlink" or "hardlink"
    mode: int
    ref: Any                 # the TarInfo or ZipInfo
    link: str = ""           # symlink target, or the stripped path of a hardlink's source


def _parts(name: str, archive: str, what: str = "member") -> tuple[str, ...]:
    norm = name.replace("\\", "/")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in parts:
        raise ArchiveError(f"archive {archive}: {what} {name!r} would land outside the "
                           "target folder; refused, nothing was unpacked")
    if any("\0" in p for p in parts):
        raise ArchiveError(f"archive {archive}: {what} {name!r} has a NUL byte; refused")
    return parts


def _read_members(archive: str, kind: str, strip: int,
                  include: Sequence[str] | None = None) -> list[Member]:
    out: list[Member] = []
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        out.append(Member(_parts(info.filename, archive), "symlink", 0o777,
                                          info, zf.read(info).decode("utf-8", "replace")))
                    elif info.is_dir():
                        out.append(Member(_parts(info.filename, archive), "dir", 0o755, info))
                    elif stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                        raise ArchiveError(f"archive {archive}: member {info.filename!r} is "
                                           "a device or special file; refused")
                    else:
                        out.append(Member(_parts(info.filename, archive), "file",
                                          (mode & 0o777) or 0o644, info))
        else:
            with tarfile.open(archive, tarinfo=BoundedTarInfo) as tf:
                for m in tf.getmembers():
                    parts = _parts(m.name, archive)
                    if m.isfile():
                        out.append(Member(parts, "file", m.mode & 0o777, m))
                    elif m.isdir():
                        out.append(Member(parts, "dir", m.mode & 0o777, m))
                    elif m.issym():
                        out.append(Member(parts, "symlink", 0o777, m, m.linkname))
                    elif m.islnk():
                        link = _parts(m.linkname, archive, "hard link target")[strip:]
                        out.append(Member(parts, "hardlink", m.mode & 0o777, m,
                                          "/".join(link)))
                    else:
                        raise ArchiveError(f"archive {archive}: member {m.name!r} is a device, "
                                           "FIFO or other special file; refused")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"cannot read archive {archive}: {exc}") from None
    for member in out:
        member.parts = member.parts[strip:]
    kept = [member for member in out if member.parts]
    if include is not None:
        kept = [member for member in kept if member.kind != "dir" and any(
            fnmatch.fnmatchcase("/".join(member.parts), pattern) for pattern in include)]
        if not kept:
            raise ArchiveError(f"archive {archive}: no member matches {', '.join(include)}; "
                               "nothing was unpacked (check the include patterns)")
    if not any(member.kind != "dir" for member in kept):
        extra = f" after strip_components={strip}" if strip else ""
        raise ArchiveError(f"archive {archive} holds no files{extra}")
    _check_links(kept, archive)
    return kept


def _check_links(members: list[Member], archive: str) -> None:
    links = {m.parts for m in members if m.kind == "symlink"}
    files: set[tuple[str, ...]] = set()
    kinds: dict[tuple[str, ...], str] = {}
    for m in members:
        shown = "/".join(m.parts)
        if kinds.setdefault(m.parts, m.kind) != m.kind:
            raise ArchiveError(f"archive {archive}: {shown!r} appears both as a "
                               f"{kinds[m.parts]} and as a {m.kind}; refused")
        if any(m.parts[:i] in links for i in range(1, len(m.parts))):
            raise ArchiveError(f"archive {archive}: member {shown!r} would be written "
                               "through a link; refused")
        if m.kind == "symlink":
            target = m.link.replace("\\", "/")
            resolved = posixpath.normpath(posixpath.join(*m.parts[:-1], target)) \
                if len(m.parts) > 1 else posixpath.normpath(target)
            if not target or target.startswith("/") or (len(target) > 1 and target[1] == ":") \
                    or resolved == ".." or resolved.startswith("../"):
                raise ArchiveError(f"archive {archive}: symlink {shown!r} points outside the "
                                   f"archive ({m.link!r}); refused, nothing was unpacked")
        elif m.kind == "hardlink" and tuple(m.link.split("/")) not in files:
            raise ArchiveError(f"archive {archive}: hard link {shown!r} points outside "
                               f"the archive's files ({m.ref.linkname!r}); refused")
        if m.kind == "file":
            files.add(m.parts)


def unpack(archive: str, dest: str, kind: str, strip: int = 0,
           include: Sequence[str] | None = None) -> list[str]:
    """Unpack ``archive`` (``"tar"`` or ``"zip"``) into ``dest``; return the names placed
    at its top. Nothing is left in ``dest`` when an exception is raised. ``include``: only
    the members whose path (after ``strip``) matches one of these glob patterns."""
    if not isinstance(strip, int) or isinstance(strip, bool) or strip < 0:
        raise InvalidInput(f"strip_components must be a non-negative integer, not {strip!r}")
    if include is not None and (isinstance(include, str) or not all(
            isinstance(p, str) and p for p in include)):
        raise InvalidInput(f"include must be a list of glob patterns, not {include!r}")
    members = _read_members(archive, kind, strip, include)
    os.makedirs(dest, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".unpack-", dir=dest)
    moved: list[str] = []
    try:
        _extract(archive, kind, members, stage)
        names = sorted(os.listdir(stage))
        for name in names:
            if os.path.lexists(os.path.join(dest, name)):
                raise ArchiveError(f"archive {archive}: {name!r} exists already in {dest}; "
                                   "refused to overwrite it")
        for name in names:
            os.rename(os.path.join(stage, name), os.path.join(dest, name))
            moved.append(name)
    except BaseException:
        for name in moved:
            remove(os.path.join(dest, name))
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return names


def remove(path: str) -> None:
    """Delete a file, link or folder tree; a missing path is fine."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def _extract(archive: str, kind: str, members: list[Member], stage: str) -> None:
    opened: Any = zipfile.ZipFile(archive) if kind == "zip" else \
        tarfile.open(archive, tarinfo=BoundedTarInfo)
    with opened:
        for m in members:  # files and folders first: no link exists yet to write through
            dst = os.path.join(stage, *m.parts)
            if m.kind == "dir":
                os.makedirs(dst, exist_ok=True)
            elif m.kind == "file":
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                src = opened.open(m.ref) if kind == "zip" else opened.extractfile(m.ref)
                if src is None:
                    raise ArchiveError(f"archive {archive}: cannot read member {m.ref.name!r}")
                with src, open(dst, "wb") as out:
                    shutil.copyfileobj(src, out)
                os.chmod(dst, (m.mode & 0o777) | 0o600)
    for m in members:
        if m.kind == "hardlink":  # a copy of a member checked above
            dst = os.path.join(stage, *m.parts)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(stage, *m.link.split("/")), dst)
    links = [m for m in members if m.kind == "symlink"]
    for m in links:
        dst = os.path.join(stage, *m.parts)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.unlink(dst)
        os.symlink(m.link, dst)
    real_stage = os.path.realpath(stage)
    for m in links:  # checked once all exist: one link can redirect another
        real = os.path.realpath(os.path.join(stage, *m.parts))
        if real != real_stage and not real.startswith(real_stage + os.sep):
            raise ArchiveError(f"archive {archive}: symlink {'/'.join(m.parts)!r} resolves "
                               f"outside the archive ({m.link!r}); refused, nothing was "
                               "unpacked")
