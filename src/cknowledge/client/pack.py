"""Entry folders as hub archives, and hub archives back into repos.

A hub archive is a ``.tar.gz`` of one entry folder with members relative to it
(``meta.json``, ``files/x.csv``, ...). Packing is reproducible: members are sorted, owners
and times are zeroed, only the executable bit of the mode is kept, so the same folder
always gives the same sha256. VCS folders, caches, temporary files and links are left
out (links are reported).

Unpacking checks every member before anything is written (regular files and folders
only, no absolute paths, no ``..``), re-roots the members under ``AUTOMATION/NAME/`` and
hands the result to :func:`cknowledge.store.archive.import_archive`, which checks them
again, stages them aside and renames them into the repo.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile

from ..errors import ArchiveError
from ..store.archive import BoundedTarInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: folders never packed: version control and tool caches
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "CVS", "__pycache__", ".pytest_cache",
                       ".mypy_cache", ".ruff_cache", ".ipynb_checkpoints", ".tox", ".nox",
                       ".cache"})
#: files never packed (besides ``.tmp-*`` leftovers of atomic writes)
SKIP_FILES = frozenset({".DS_Store", "Thumbs.db"})
SKIP_SUFFIXES = (".pyc", ".pyo", ".swp")
META_FILES = ("meta.json", "meta.yaml", "meta.yml", "_cm.json", "_cm.yaml")
#: unpacking refuses archives past these bounds
MAX_MEMBERS = 100_000
MAX_UNPACKED = 8 << 30


def _skipped_name(name: str, is_dir: bool) -> bool:
    if name.startswith(".tmp-"):
        return True
    if is_dir:
        return name in SKIP_DIRS
    return name in SKIP_FILES or name.endswith(SKIP_SUFFIXES)


def pack_entry(path: str, dest: str) -> dict[str, Any]:
    """Write the entry folder ``path`` as a reproducible ``.tar.gz`` to ``dest``.

    Returns ``{"file", "sha256", "size", "files", "skipped"}`` (``skipped``: links and
    special files that were left out, relative paths)."""
    if not os.path.isdir(path):
        raise ArchiveError(f"entry folder {path} does not exist")
    members: list[tuple[str, str, bool]] = []  # (relative name, full path, is_dir)
    skipped: list[str] = []
    for root, dirs, files in os.walk(path):
        rel_root = os.path.relpath(root, path)
        keep_dirs = []
        for d in sorted(dirs):
            full = os.path.join(root, d)
            rel = d if rel_root == "." else f"{rel_root}/{d}".replace(os.sep, "/")
            if _skipped_name(d, True):
                continue
            if os.path.islink(full):
                skipped.append(rel)
                continue
            keep_dirs.append(d)
            members.append((rel, full, True))
        dirs[:] = keep_dirs
        for f in sorted(files):
            full = os.path.join(root, f)
            rel = f if rel_root == "." else f"{rel_root}/{f}".replace(os.sep, "/")
            if _skipped_name(f, False):
                continue
            if os.path.islink(full) or not os.path.isfile(full):
                skipped.append(rel)
                continue
            members.append((rel, full, False))
    members.sort(key=lambda m: m[0])
    if not any(not is_dir and rel in META_FILES for rel, _, is_dir in members):
        raise ArchiveError(f"entry folder {path} has no meta file ({', '.join(META_FILES)})")
    count = 0
    with open(dest, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                           compresslevel=6) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf:
                for rel, full, is_dir in members:
                    info = tarfile.TarInfo(rel)
                    info.mtime = 0
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    if is_dir:
                        info.type = tarfile.DIRTYPE
                        info.mode = 0o755
                        tf.addfile(info)
                        continue
                    st = os.stat(full)
                    info.size = st.st_size
                    info.mode = 0o755 if st.st_mode & 0o111 else 0o644
                    with open(full, "rb") as fh:
                        tf.addfile(info, fh)
                    count += 1
    digest = hashlib.sha256()
    with open(dest, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return {"file": dest, "sha256": digest.hexdigest(), "size": os.path.getsize(dest),
            "files": count, "skipped": skipped}


def _safe_parts(name: str, what: str) -> tuple[str, ...]:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{what}: member {name!r} has an absolute path; refused")
    parts = tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))
    if ".." in parts:
        raise ArchiveError(f"{what}: member {name!r} would land outside the entry; refused")
    return parts


def reroot(archives: list[tuple[str, str, str]], dest: str) -> dict[str, list[str]]:
    """Combine hub archives into one store archive (``AUTOMATION/NAME/...`` members) at
    ``dest`` (an uncompressed ``.tar``), for :func:`~cknowledge.store.archive.import_archive`.

    ``archives``: ``(file, automation, name)``. Every member is checked first. Returns
    the executable files per ``AUTOMATION:NAME`` (relative paths), which the store's
    import does not carry over."""
    from ..store.cid import check_name

    executables: dict[str, list[str]] = {}
    with tarfile.open(dest, "w") as out:
        for file, automation, name in archives:
            check_name(automation)
            check_name(name)
            what = f"the archive of {automation}:{name}"
            total = 0
            try:
                with tarfile.open(file, "r:gz", tarinfo=BoundedTarInfo) as tf:
                    members = tf.getmembers()
                    if len(members) > MAX_MEMBERS:
                        raise ArchiveError(f"{what} has {len(members)} members (more than "
                                           f"{MAX_MEMBERS}); refused")
                    checked = []
                    for m in members:
                        if not (m.isfile() or m.isdir()):
                            raise ArchiveError(f"{what}: member {m.name!r} is a link or "
                                               "special file; refused")
                        parts = _safe_parts(m.name, what)
                        total += m.size if m.isfile() else 0
                        if parts:
                            checked.append((parts, m))
                    if total > MAX_UNPACKED:
                        raise ArchiveError(f"{what} unpacks to {total} bytes (more than "
                                           f"{MAX_UNPACKED}); refused")
                    if not any(len(p) == 1 and p[0] in META_FILES and m.isfile()
                               for p, m in checked):
                        raise ArchiveError(f"{what} holds no meta file at its top "
                                           f"({', '.join(META_FILES)}); refused")
                    top = tarfile.TarInfo(f"{automation}/{name}")
                    top.type, top.mode = tarfile.DIRTYPE, 0o755
                    out.addfile(top)
                    for parts, m in checked:
                        info = tarfile.TarInfo("/".join((automation, name) + parts))
                        info.mode = 0o755 if m.isdir() or m.mode & 0o111 else 0o644
                        info.mtime = m.mtime
                        if m.isdir():
                            info.type = tarfile.DIRTYPE
                            out.addfile(info)
                            continue
                        info.size = m.size
                        if m.mode & 0o111:
                            executables.setdefault(f"{automation}:{name}", []).append(
                                "/".join(parts))
                        data = tf.extractfile(m)
                        if data is None:
                            raise ArchiveError(f"{what}: cannot read member {m.name!r}")
                        with data:
                            out.addfile(info, data)
            except ArchiveError as exc:
                if exc.message.startswith(what):
                    raise
                raise ArchiveError(f"{what}: {exc.message}") from None
            except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
                raise ArchiveError(f"{what} cannot be read: {exc}") from None
    return executables
