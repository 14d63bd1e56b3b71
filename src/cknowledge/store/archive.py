"""Moving entries between machines as archives (``.zip``, ``.tar.gz`` / ``.tgz``).

An archive holds ``AUTOMATION/NAME/...`` folders plus ``ckarchive.json`` (what is in it).
Import checks every member before anything is written: no absolute paths, no ``..``,
no links or devices, names that pass :func:`check_name`. Entries are unpacked aside and
renamed into the target repo, so a refused or broken archive leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from typing import Any

from ..errors import (AlreadyExists, Ambiguous, ArchiveError, CKError, InvalidInput, NotFound,
                      UnsafeName)
from .cid import ArtifactRef, check_name
from .entrydir import delete_dir, rename_dir
from .index import Parsed
from .legacy import read_entry

#: the largest extended header (PAX records, GNU long names) read while listing members
MAX_HEADER = 1 << 20
_HEADER_TYPES = frozenset({tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                           tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK})


class BoundedTarInfo(tarfile.TarInfo):
    """Tar headers read with a bound: :mod:`tarfile` reads a PAX or GNU long-name header
    into memory whole, so a small compressed archive could declare one of many GiB.
    Pass ``tarinfo=BoundedTarInfo`` to :func:`tarfile.open`; an oversized header raises
    :class:`~cknowledge.errors.ArchiveError`."""

    def _proc_member(self, tar: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _HEADER_TYPES and self.size > MAX_HEADER:
            raise ArchiveError(f"the archive has an extended tar header of {self.size} bytes "
                               f"(more than {MAX_HEADER}); refused")
        # tarfile's documented override point (not in its type stubs)
        proc = getattr(super(), "_proc_member")  # noqa: B009
        member: tarfile.TarInfo = proc(tar)
        return member


MANIFEST = "ckarchive.json"

#: bounds on what an archive may unpack to: members, and bytes in all, the larger of
#: ``MIN_UNPACKED`` and ``MAX_RATIO`` times the archive's own size (a 3 MB zip of zeros
#: declares gigabytes); the hub bounds uploads alike (``hub/storage.py``)
MAX_MEMBERS = 100_000
MIN_UNPACKED = 1 << 30
MAX_RATIO = 16


def unpacked_limit(archive_size: int) -> int:
    """The most bytes an archive of ``archive_size`` bytes may unpack to."""
    return max(MIN_UNPACKED, MAX_RATIO * archive_size)


def member_parts(name: str, what: str = "archive member") -> tuple[str, ...]:
    """The path components of an archive member's name, checked: relative, no ``..``,
    no drive, no NUL (``\\`` counts as ``/``). ArchiveError naming the member otherwise."""
    norm = name.replace("\\", "/")
    parts = tuple(p for p in norm.split("/") if p not in ("", "."))
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in parts:
        raise ArchiveError(f"{what} {name!r} would land outside the target; refused")
    if "\0" in name:
        raise ArchiveError(f"{what} {name!r} has a NUL byte; refused")
    return parts


class MemberCheck:
    """The one check of an archive's members, used wherever archives are read: each
    member's name (:func:`member_parts`), its kind (plain files and folders; links only
    where the caller allows them and checks their targets), how many there are and how
    many bytes they unpack to. Call :meth:`member` for each member before writing
    anything, and :meth:`copy` to write a member's data (counted again as written)."""

    def __init__(self, label: str, max_unpacked: int, max_members: int = MAX_MEMBERS,
                 links: bool = False, too_large: type[CKError] = ArchiveError) -> None:
        """``label`` starts every message ("archive x.zip"); ``links``: symlinks and hard
        links pass (the caller checks their targets); ``too_large``: the error raised past
        ``max_unpacked`` (the hub's answers 413)."""
        self.label, self.max_unpacked, self.max_members = label, max_unpacked, max_members
        self.links, self.too_large = links, too_large
        self.members = 0
        self.declared = 0
        self.written = 0

    def member(self, name: str, kind: str, size: int = 0) -> tuple[str, ...]:
        """``kind``: "file", "dir", "symlink", "hardlink" or anything else (refused)."""
        self.members += 1
        if self.members > self.max_members:
            raise ArchiveError(f"{self.label} has more than {self.max_members} members; "
                               "refused")
        if kind not in ("file", "dir") and not (self.links and kind in ("symlink", "hardlink")):
            what = "a link" if kind in ("symlink", "hardlink") else "a device or special file"
            raise ArchiveError(f"{self.label}: member {name!r} is {what}; refused")
        parts = member_parts(name, f"{self.label}: member")
        self.declared += max(size, 0) if kind == "file" else 0
        if self.declared > self.max_unpacked:
            raise self.too_large(f"{self.label} unpacks to more than {self.max_unpacked} "
                                 "bytes; refused (is it an archive bomb?)")
        return parts

    def copy(self, src: Any, dst: Any) -> None:
        """Copy a member's data, counting the bytes actually written."""
        while chunk := src.read(1 << 20):
            self.written += len(chunk)
            if self.written > self.max_unpacked:
                raise self.too_large(f"{self.label} unpacks to more than "
                                     f"{self.max_unpacked} bytes; refused (is it an archive "
                                     "bomb?)")
            dst.write(chunk)


def read_error(file: str, exc: BaseException) -> ArchiveError:
    """One line for an archive that cannot be read."""
    try:
        if os.path.getsize(file) == 0:
            return ArchiveError(f"cannot read archive {file}: the file is empty")
    except OSError:
        pass
    text = str(exc).strip()
    if isinstance(exc, tarfile.ReadError) and "could not be opened" in text:
        text = "not a readable tar, tar.gz, tar.bz2 or tar.xz file"
    first = text.splitlines()[0] if text else type(exc).__name__
    return ArchiveError(f"cannot read archive {file}: {first.rstrip(':')}")


def _kind(path: str) -> str:
    if path.endswith(".zip"):
        return "zip"
    if path.endswith((".tar.gz", ".tgz", ".tar")):
        return "tar"
    raise InvalidInput(f"archive {path} must end in .zip, .tar.gz, .tgz or .tar")


def export_entries(entries: list[dict[str, Any]], file: str) -> dict[str, Any]:
    kind = _kind(file)
    if not entries:
        raise NotFound("nothing to export: no entry matched")
    seen: dict[tuple[str, str], str] = {}
    from .entrydir import escapes

    for e in entries:
        real = escapes(os.path.dirname(os.path.dirname(e["path"])), e["path"])
        if real is not None:
            raise ArchiveError(f"{e['automation']} entry {e['repo']}:{e['name']} is a link to "
                               f"{real}, outside its repo; not exported")
        key = (e["automation"], e["name"])
        if key in seen:
            raise Ambiguous(f"{e['automation']} entries named {e['name']!r} exist in repos "
                            f"{seen[key]!r} and {e['repo']!r}; export one repo at a time (--repo)")
        seen[key] = e["repo"]
    manifest = {"format": 1, "entries": [
        {k: e[k] for k in ("automation", "name", "uid", "repo", "tags")} for e in entries]}
    if "\0" in file:
        raise InvalidInput(f"archive name {file!r} has a NUL byte")
    folder = os.path.dirname(os.path.abspath(file))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        raise InvalidInput(f"cannot write archive {file}: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        if kind == "zip":
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
                for e in entries:
                    for path, arc in _walk(e):
                        zf.write(path, arc)
        else:
            mode = "w:gz" if file.endswith(("gz", "tgz")) else "w"
            with tarfile.open(tmp, mode) as tf:  # type: ignore[call-overload]
                data = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                import io

                tf.addfile(info, io.BytesIO(data))
                for e in entries:
                    for path, arc in _walk(e):
                        tf.add(path, arc, recursive=False)
        os.replace(tmp, file)
    except FileNotFoundError as exc:
        os.unlink(tmp)
        if exc.filename == tmp or exc.filename2 == file:
            raise InvalidInput(f"cannot write archive {file}: {exc.strerror}") from None
        raise NotFound(f"{exc.filename} vanished while being exported (removed or renamed "
                       "meanwhile); nothing was written") from None
    except OSError as exc:
        os.unlink(tmp)
        if exc.filename == tmp or exc.filename2 == file:  # the final rename
            raise InvalidInput(f"cannot write archive {file}: {exc.strerror}") from None
        raise
    except BaseException:
        os.unlink(tmp)
        raise
    return {"file": os.path.abspath(file), "count": len(entries)}


def _walk(entry: dict[str, Any]) -> list[tuple[str, str]]:
    base = f"{entry['automation']}/{entry['name']}"
    out = []
    for root, dirs, files in os.walk(entry["path"]):
        dirs[:] = [d for d in dirs if not d.startswith(".tmp-")]
        rel = os.path.relpath(root, entry["path"])
        for f in files:
            if f.startswith(".tmp-") or os.path.islink(os.path.join(root, f)):
                continue
            arc = f"{base}/{f}" if rel == "." else f"{base}/{rel.replace(os.sep, '/')}/{f}"
            out.append((os.path.join(root, f), arc))
    return out


def _check_member(check: MemberCheck, name: str, kind: str,
                  size: int) -> tuple[str, ...] | None:
    if name == MANIFEST:
        check.member(name, kind, size)
        return None
    parts = check.member(name, kind, size)
    is_file = kind == "file"
    if len(parts) < 3 and is_file:
        raise ArchiveError(f"archive member {name!r} is not inside an entry folder "
                           "(AUTOMATION/NAME/...)")
    try:
        for part in parts[:2]:
            check_name(part)
    except UnsafeName as exc:
        raise ArchiveError(f"archive member {name!r}: {exc.message}") from None
    return parts


def zip_kind(info: zipfile.ZipInfo) -> str:
    """"file", "dir", "symlink" or "special" for a zip member (by its Unix mode bits)."""
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "symlink"
    if info.is_dir():
        return "dir"
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return "special"
    return "file"


def tar_kind(member: tarfile.TarInfo) -> str:
    """"file", "dir", "symlink", "hardlink" or "special" for a tar member."""
    if member.isfile():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    return "hardlink" if member.islnk() else "special"


def _members(file: str, check: MemberCheck | None = None
             ) -> list[tuple[tuple[str, ...], Any, bool]]:
    kind = _kind(file)
    if not os.path.isfile(file):
        raise NotFound(f"archive {file} not found")
    if check is None:
        check = MemberCheck(f"archive {file}", unpacked_limit(os.path.getsize(file)))
    out: list[tuple[tuple[str, ...], Any, bool]] = []
    try:
        if kind == "zip":
            with zipfile.ZipFile(file) as zf:
                for info in zf.infolist():
                    parts = _check_member(check, info.filename, zip_kind(info), info.file_size)
                    if parts:
                        out.append((parts, info, info.is_dir()))
        else:
            with tarfile.open(file, tarinfo=BoundedTarInfo) as tf:
                for member in tf:
                    parts = _check_member(check, member.name, tar_kind(member), member.size)
                    if parts:
                        out.append((parts, member, member.isdir()))
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise read_error(file, exc) from None
    return out


def import_archive(store: Any, file: str, repo: str | None = None,
                   overwrite: bool = False) -> list[dict[str, Any]]:
    size = os.path.getsize(file) if os.path.isfile(file) else 0
    check = MemberCheck(f"archive {file}", unpacked_limit(size))
    members = _members(file, check)  # every member is checked before anything is written
    target = store._writable(repo)
    entries = sorted({parts[:2] for parts, _, _ in members if len(parts) >= 2})
    if not entries:
        raise ArchiveError(f"archive {file} holds no entries (AUTOMATION/NAME/ folders); "
                           "nothing was imported")
    for auto, name in entries:
        dst = os.path.join(target.path, auto, name)
        if os.path.lexists(dst) and not overwrite:
            raise AlreadyExists(f"{auto} entry {target.name}:{name} exists already "
                                "(--overwrite replaces it)")
    stage = tempfile.mkdtemp(prefix=".tmp-import-", dir=target.path)
    try:
        try:
            _extract(file, members, stage, check)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError, zlib.error) as exc:
            raise read_error(file, exc) from None
        for auto, name in entries:
            staged = read_entry(stage, target.uid, auto, name)
            if staged.error is not None or staged.meta_file is None:
                why = (staged.error or "it has no meta file (meta.yaml, meta.json, _cm.yaml, "
                       "...)").replace(stage + os.sep, "")
                raise ArchiveError(f"cannot import {auto} entry {name!r} from {file}: {why}; "
                                   "nothing was imported")
            uid = staged.uid
            for other in store.find(None, ArtifactRef(None, uid)):
                same_place = (other["repo"], other["automation"], other["name"]) == \
                    (target.name, auto, name)
                if other["uid"] == uid and not (overwrite and same_place):
                    raise AlreadyExists(
                        f"{auto} entry {name!r} in the archive has uid {uid}, which "
                        f"{other['automation']}:{other['repo']}:{other['name']} has already")
        done = []
        for auto, name in entries:
            folder = os.path.join(target.path, auto)
            os.makedirs(folder, exist_ok=True)
            dst = os.path.join(folder, name)
            with store._lock(target, auto, name):
                if os.path.lexists(dst):
                    if not overwrite:  # arrived since the check above
                        raise AlreadyExists(f"{auto} entry {target.name}:{name} exists already "
                                            "(--overwrite replaces it)")
                    try:
                        delete_dir(dst)
                    except NotFound:
                        pass
                rename_dir(os.path.join(stage, auto, name), dst,
                           f"{auto} entry {target.name}:{name}")
            parsed: Parsed = read_entry(target.path, target.uid, auto, name)
            done.append({"automation": auto, "name": name, "uid": parsed.uid,
                         "repo": target.name, "path": dst, "tags": parsed.tags})
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    store.find(None, ArtifactRef(target.name, None))  # index what arrived
    return done


def _extract(file: str, members: list[tuple[tuple[str, ...], Any, bool]], stage: str,
             check: MemberCheck) -> None:
    if file.endswith(".zip"):
        with zipfile.ZipFile(file) as zf:
            for parts, info, is_dir in members:
                dst = os.path.join(stage, *parts)
                if is_dir:
                    os.makedirs(dst, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with zf.open(info) as src, open(dst, "wb") as out:
                    check.copy(src, out)
    else:
        with tarfile.open(file, tarinfo=BoundedTarInfo) as tf:
            for parts, member, is_dir in members:
                dst = os.path.join(stage, *parts)
                if is_dir:
                    os.makedirs(dst, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                data = tf.extractfile(member)
                if data is None:
                    continue
                with data, open(dst, "wb") as out:
                    check.copy(data, out)
