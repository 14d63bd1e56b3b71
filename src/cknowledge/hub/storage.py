"""Content-addressed archive storage (``ROOT/blobs/<sha[:2]>/<sha>``) and the checks an
uploaded archive passes before anything is stored.

An archive is a ``.tar.gz`` of one entry folder with relative members. It is only read
as tar headers: nothing in it is unpacked, executed or imported here. Refused: absolute
paths, ``..``, links, devices and other special members, more than ``MAX_MEMBERS``
members, more than ``max_unpacked`` bytes in all, and archives without a meta file at
the top (``meta.yaml``, ``meta.json``, ``_cm.yaml`` or ``_cm.json``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
import tempfile
from typing import IO

from ..store.archive import BoundedTarInfo
from ..errors import ArchiveError, NotFound
from .problems import TooLarge

MAX_MEMBERS = 10_000
META_FILES = ("meta.yaml", "meta.yml", "meta.json", "_cm.yaml", "_cm.json")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 16


class BlobStore:
    """Archives by sha256 under ``root/blobs``; temporary files under ``root/tmp``."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.blobs = os.path.join(self.root, "blobs")
        self.tmp = os.path.join(self.root, "tmp")
        os.makedirs(self.blobs, exist_ok=True)
        os.makedirs(self.tmp, exist_ok=True)

    def path(self, sha256: str) -> str:
        if not _SHA_RE.match(sha256):
            raise NotFound(f"hub: no archive {sha256!r} (not a sha256)")
        return os.path.join(self.blobs, sha256[:2], sha256)

    def spool(self, source: IO[bytes], limit: int) -> tuple[str, str, int]:
        """Copy ``source`` into a temporary file, counting bytes; TooLarge past ``limit``.

        Returns ``(temp path, sha256, size)``; the caller stores or removes the file."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(prefix="upload-", dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"hub: the archive is over this hub's upload limit of "
                                       f"{limit} bytes; make it smaller (leave out data "
                                       "files, or publish them as their own components)")
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp, digest.hexdigest(), size

    def store(self, tmp: str, sha256: str) -> str:
        """Move the checked temporary file to its content address (kept if there already)."""
        dst = self.path(sha256)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.exists(dst):
            os.unlink(tmp)
        else:
            os.chmod(tmp, 0o644)
            os.replace(tmp, dst)
        return dst

    def discard(self, tmp: str) -> None:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass

    def clear_tmp(self) -> None:
        """Remove leftovers of interrupted uploads (at start-up)."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        os.makedirs(self.tmp, exist_ok=True)


def check_archive(path: str, max_unpacked: int, max_members: int = MAX_MEMBERS) -> list[str]:
    """Check every member of the tar(.gz) at ``path``; return the member names.

    Raises ArchiveError (422) naming the first bad member, TooLarge (413) when the
    unpacked size is over ``max_unpacked``."""
    names: list[str] = []
    total = 0
    try:
        with tarfile.open(path, "r:*", tarinfo=BoundedTarInfo) as tf:
            for member in tf:
                if len(names) >= max_members:
                    raise ArchiveError(f"hub: the archive has more than {max_members} "
                                       "members; pack fewer files")
                name = member.name
                if not (member.isfile() or member.isdir()):
                    kind = "link" if (member.issym() or member.islnk()) else "special file"
                    raise ArchiveError(f"hub: archive member {name!r} is a {kind}; only "
                                       "plain files and folders may be published")
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if (name.startswith("/") or "\\" in name or ".." in parts
                        or (len(name) > 1 and name[1] == ":") or "\x00" in name):
                    raise ArchiveError(f"hub: archive member {name!r} is not a relative "
                                       "path inside the entry folder; refused")
                total += max(member.size, 0)
                if total > max_unpacked:
                    raise TooLarge(f"hub: the archive unpacks to more than {max_unpacked} "
                                   "bytes; make it smaller")
                if parts:
                    names.append("/".join(parts))
    except ArchiveError as exc:
        raise ArchiveError(exc.message if exc.message.startswith("hub:")
                           else f"hub: {exc.message}") from None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"hub: the archive is not a readable .tar.gz ({exc}); pack the "
                           "entry folder with 'tar czf'") from None
    if not any(n in META_FILES for n in names):
        raise ArchiveError("hub: the archive has no meta file at its top (one of "
                           f"{', '.join(META_FILES)}); pack the entry folder itself, "
                           "with relative member names")
    return names
