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
from typing import Any

from ..errors import AlreadyExists, Ambiguous, ArchiveError, InvalidInput, NotFound, UnsafeName
from .cid import ArtifactRef, check_name
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
    for e in entries:
        key = (e["automation"], e["name"])
        if key in seen:
            raise Ambiguous(f"{e['automation']} entries named {e['name']!r} exist in repos "
                            f"{seen[key]!r} and {e['repo']!r}; export one repo at a time (--repo)")
        seen[key] = e["repo"]
    manifest = {"format": 1, "entries": [
        {k: e[k] for k in ("automation", "name", "uid", "repo", "tags")} for e in entries]}
    folder = os.path.dirname(os.path.abspath(file))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
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


def _check_member(name: str, is_file: bool, is_dir: bool) -> tuple[str, ...] | None:
    if name == MANIFEST:
        return None
    if not (is_file or is_dir):
        raise ArchiveError(f"archive member {name!r} is a link or special file; refused")
    parts = tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise ArchiveError(f"archive member {name!r} would land outside the target; refused")
    if len(parts) < 3 and is_file:
        raise ArchiveError(f"archive member {name!r} is not inside an entry folder "
                           "(AUTOMATION/NAME/...)")
    try:
        for part in parts[:2]:
            check_name(part)
    except UnsafeName as exc:
        raise ArchiveError(f"archive member {name!r}: {exc.message}") from None
    return parts


def _members(file: str) -> list[tuple[tuple[str, ...], Any, bool]]:
    kind = _kind(file)
    if not os.path.isfile(file):
        raise NotFound(f"archive {file} not found")
    out: list[tuple[tuple[str, ...], Any, bool]] = []
    try:
        if kind == "zip":
            with zipfile.ZipFile(file) as zf:
                for info in zf.infolist():
                    mode = info.external_attr >> 16
                    is_link = stat.S_ISLNK(mode)
                    parts = _check_member(info.filename, not info.is_dir() and not is_link,
                                          info.is_dir())
                    if parts:
                        out.append((parts, info, info.is_dir()))
        else:
            with tarfile.open(file, tarinfo=BoundedTarInfo) as tf:
                for member in tf.getmembers():
                    parts = _check_member(member.name, member.isfile(), member.isdir())
                    if parts:
                        out.append((parts, member, member.isdir()))
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"cannot read archive {file}: {exc}") from None
    return out


def import_archive(store: Any, file: str, repo: str | None = None,
                   overwrite: bool = False) -> list[dict[str, Any]]:
    members = _members(file)  # every member is checked before anything is written
    target = store._writable(repo)
    entries = sorted({parts[:2] for parts, _, _ in members if len(parts) >= 2})
    if not entries:
        raise ArchiveError(f"archive {file} holds no entries")
    for auto, name in entries:
        dst = os.path.join(target.path, auto, name)
        if os.path.lexists(dst) and not overwrite:
            raise AlreadyExists(f"{auto} entry {target.name}:{name} exists already "
                                "(--overwrite replaces it)")
    stage = tempfile.mkdtemp(prefix=".tmp-import-", dir=target.path)
    try:
        _extract(file, members, stage)
        for auto, name in entries:
            uid = read_entry(stage, target.uid, auto, name).uid
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
            if os.path.lexists(dst):
                from .store import _delete_dir

                _delete_dir(dst)
            os.rename(os.path.join(stage, auto, name), dst)
            parsed: Parsed = read_entry(target.path, target.uid, auto, name)
            done.append({"automation": auto, "name": name, "uid": parsed.uid,
                         "repo": target.name, "path": dst, "tags": parsed.tags})
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    store.find(None, ArtifactRef(target.name, None))  # index what arrived
    return done


def _extract(file: str, members: list[tuple[tuple[str, ...], Any, bool]], stage: str) -> None:
    if file.endswith(".zip"):
        with zipfile.ZipFile(file) as zf:
            for parts, info, is_dir in members:
                dst = os.path.join(stage, *parts)
                if is_dir:
                    os.makedirs(dst, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with zf.open(info) as src, open(dst, "wb") as out:
                    shutil.copyfileobj(src, out)
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
                    shutil.copyfileobj(data, out)
