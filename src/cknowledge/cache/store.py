"""The cache folder: ``$CK_HOME/cache/<kind>/<key[:2]>/<key>/`` with ``ck-cache.json``.

An entry exists only once its ``ck-cache.json`` is written, and that is the last thing a
successful step does; a failed step removes its folder, and a killed one leaves a folder
without ``ck-cache.json``, which is not an entry (``gc`` removes it, and the next run of the
same key starts it afresh). A hit is valid only if every path the result recorded still
exists; otherwise the entry is dropped and the step runs again.
"""

from __future__ import annotations

import fnmatch
import json
import os
import time

from ..errors import CacheError, Locked
from ..store.metaio import atomic_write_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

META = "ck-cache.json"
LOCK_TIMEOUT = 3600.0


def _well_formed(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    env, paths, tags = data.get("new_env", {}), data.get("paths", []), data.get("tags", [])
    return (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str)
                                          for k, v in env.items())
            and isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            and isinstance(tags, list) and all(isinstance(t, str) for t in tags))


class CacheStore:
    def __init__(self, home: str) -> None:
        self.root = os.path.join(home, "cache")

    def folder(self, kind: str, key: str) -> str:
        return os.path.join(self.root, kind, key[:2], key)

    # -- lookups ----------------------------------------------------------------------
    def read(self, kind: str, key: str) -> dict[str, Any] | None:
        path = os.path.join(self.folder(kind, key), META)
        try:
            with open(path, encoding="utf-8") as fh:
                data: dict[str, Any] = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: treated as absent, replaced by the next run
        if not _well_formed(data):
            return None  # the wrong shape (a hand edit?): treated as absent too
        data["path"] = os.path.dirname(path)
        return data

    def lookup(self, kind: str, key: str, remove_invalid: bool = True) -> dict[str, Any] | None:
        """A valid hit, or None (an entry whose recorded paths are gone is removed, unless
        ``remove_invalid`` is False: a dry run only looks)."""
        data = self.read(kind, key)
        if data is None:
            return None
        missing = [p for p in data.get("paths", []) if not os.path.exists(p)]
        if missing:
            if remove_invalid:
                self.remove_folder(data["path"])
            return None
        return data

    # -- writes -----------------------------------------------------------------------
    def lock(self, kind: str, key: str) -> Any:
        from filelock import FileLock, Timeout

        folder = os.path.join(self.root, kind, key[:2])
        os.makedirs(folder, exist_ok=True)
        lock = FileLock(os.path.join(folder, f".{key}.lock"), timeout=LOCK_TIMEOUT)

        class _Guard:
            def __enter__(self) -> None:
                try:
                    lock.acquire()
                except Timeout:
                    raise Locked(f"cache entry {key} is locked by another run") from None

            def __exit__(self, *_: Any) -> None:
                lock.release()

        return _Guard()

    def begin(self, kind: str, key: str) -> str:
        """A fresh, empty folder for the step (any leftover of a killed run is removed)."""
        folder = self.folder(kind, key)
        if os.path.lexists(folder):
            self.remove_folder(folder)
        os.makedirs(folder)
        return folder

    def commit(self, kind: str, key: str, record: dict[str, Any]) -> dict[str, Any]:
        folder = self.folder(kind, key)
        data = dict(record, key=key, kind=kind, created=time.time())
        data.pop("path", None)
        try:
            atomic_write_text(os.path.join(folder, META), json.dumps(data, indent=1, default=str))
        except OSError as exc:
            raise CacheError(f"cannot write the cache entry {folder}: {exc}") from None
        data["path"] = folder
        return data

    PARTIAL = ".download"

    def keep_partial(self, key: str, folder: str) -> None:
        """Move a failed step's partial downloads aside (they are not a result)."""
        src = os.path.join(folder, self.PARTIAL)
        if os.path.isdir(src) and os.listdir(src):
            dst = os.path.join(self.root, "partial", key)
            import shutil

            shutil.rmtree(dst, ignore_errors=True)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.rename(src, dst)

    def restore_partial(self, key: str, folder: str) -> None:
        src = os.path.join(self.root, "partial", key)
        if os.path.isdir(src):
            os.rename(src, os.path.join(folder, self.PARTIAL))

    def abort(self, kind: str, key: str) -> None:
        self.remove_folder(self.folder(kind, key))

    def remove_folder(self, folder: str) -> None:
        trash = f"{folder}.rm-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(folder, trash)
        except FileNotFoundError:
            return
        import shutil

        shutil.rmtree(trash, ignore_errors=True)

    # -- listing --------------------------------------------------------------------------
    def entries(self) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """(folder, record or None for an incomplete folder) for everything in the cache."""
        if not os.path.isdir(self.root):
            return
        for kind in sorted(os.listdir(self.root)):
            if kind == "partial":
                continue
            kind_dir = os.path.join(self.root, kind)
            if not os.path.isdir(kind_dir):
                continue
            for shard in sorted(os.listdir(kind_dir)):
                shard_dir = os.path.join(kind_dir, shard)
                if not os.path.isdir(shard_dir):
                    continue
                for name in sorted(os.listdir(shard_dir)):
                    folder = os.path.join(shard_dir, name)
                    if name.startswith(".") or not os.path.isdir(folder):
                        continue
                    if ".rm-" in name:
                        yield folder, None
                        continue
                    yield folder, self.read(kind, name)

    def select(self, tags: list[str] | None = None, no_tags: list[str] | None = None,
               name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for _folder, data in self.entries():
            if data is None:
                continue
            have = set(data.get("tags", []))
            if tags and not set(tags) <= have:
                continue
            if no_tags and have & set(no_tags):
                continue
            if name and not fnmatch.fnmatchcase(str(data.get("name", "")), name):
                continue
            out.append(data)
        return out

    def _running(self, folder: str) -> bool:
        from filelock import FileLock, Timeout

        shard, key = os.path.split(folder)
        lock = FileLock(os.path.join(shard, f".{key}.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return True
        lock.release()
        return False

    def gc(self) -> dict[str, list[str]]:
        """Remove incomplete folders and entries whose recorded paths are gone."""
        removed: dict[str, list[str]] = {"incomplete": [], "invalid": []}
        for folder, data in list(self.entries()):
            if data is None:
                if ".rm-" not in folder and self._running(folder):
                    continue  # a step is running there right now
                removed["incomplete"].append(folder)
                self.remove_folder(folder)
            elif any(not os.path.exists(p) for p in data.get("paths", [])):
                removed["invalid"].append(folder)
                self.remove_folder(folder)
        return removed
