"""The component database: entries in repo folders, found through a self-healing index.

Everything here works on plain folders; the index (``index.py``) is only a cache of them.
Writes build the new state aside and rename it into place, so a reader never sees a
half-written entry, and a crash leaves at most a stray ``.tmp-*`` folder, which
:func:`visible_dirs` ignores.
"""

from __future__ import annotations

import os

from ..errors import (AlreadyExists, Ambiguous, CKError, InvalidInput, Locked, NotFound,
                      ReadOnly)
from .cid import ArtifactRef, check_name, is_pattern, is_uid, new_uid
from .entrydir import delete_dir as _delete_dir
from .entrydir import read_checked, read_fresh
from .entrydir import rename_dir as _rename_dir
from .index import Index, Parsed, stat_sig
from .legacy import normalize_tags
from .match import leaves as _leaves
from .match import matches as _matches
from .metaio import dump_text, merge, read_text, tree_problem
from .repos import Repo, RepoRegistry

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

DEFAULT_META_FILE = "meta.json"
STAGING = ".staging"  # per automation folder; hidden from scans (dot-name)
FLUSH_EVERY = 1000
LOCK_TIMEOUT = 30.0


def _shutil() -> Any:
    import shutil

    return shutil


class Store:
    def __init__(self, home: str, watch_from: int = 2) -> None:
        """``watch_from``: the scan from which this process uses change notification
        (0: never, as in one-shot CLI runs; 1: from the first, as the watcher service does;
        the default 2: from the second, for long-lived processes that query again)."""
        self.home = home
        self.watch_from = watch_from
        self.repos = RepoRegistry(home)
        self._index: Index | None = None
        self.warnings: list[str] = []
        self._pending: list[tuple[str, str, str, Parsed, int]] = []
        self._made: set[str] = set()
        self._scans = 0
        self._watcher: Any = None
        self._synced: set[tuple[Any, ...]] | None = None  # scopes checked in this request
        self.start_service = False  # the CLI sets it: start the watcher service when worth it

    @property
    def index(self) -> Index:
        if self._index is None:
            self._index = Index(os.path.join(self.home, "index", "index.sqlite"))
        return self._index

    def flush(self) -> None:
        """Write the index rows of entries added since the last flush (one transaction).

        Adds are written behind: the entry is on disk before ``add`` returns, and if the
        process dies before the flush, the next scan finds the folder anyway."""
        if self._pending:
            pending, self._pending = self._pending, []
            with self.index.write():
                for row in pending:
                    self.index.put(*row)

    def close(self) -> None:
        self.flush()
        self._drop_watcher()
        if self._index is not None:
            self._index.close()
            self._index = None

    # -- scope --------------------------------------------------------------------------
    def scope(self, repo: str | None) -> list[Repo]:
        repos = self.repos.all()
        if repo is None:
            return repos
        if is_pattern(repo):
            import fnmatch

            return [r for r in repos if fnmatch.fnmatchcase(r.name, repo)]
        return [self.repos.get(repo)]

    def begin_request(self) -> None:
        """Within one request, each scope's folders are checked once (a workflow's
        resolution queries the store dozens of times); :meth:`end_request` ends that."""
        self._synced = set()
        self.warnings = []

    def end_request(self) -> None:
        self._synced = None

    def sync(self, repos: list[Repo], automation: str | None) -> None:
        """Bring the index in line with the folders (see ``index.py``)."""
        self.flush()  # entries added in this request are queried like all others
        if self._synced is None:
            self._sync(repos, automation)
            return
        names = tuple(r.name for r in repos)
        if (names, automation) in self._synced or (names, None) in self._synced:
            return
        self._sync(repos, automation)
        self._synced.add((names, automation))

    def _sync(self, repos: list[Repo], automation: str | None) -> None:
        by_name = {r.name: r for r in repos}

        def reader(repo: str, auto: str, name: str) -> Parsed:
            r = by_name[repo]
            return read_checked(r.path, r.name, r.uid, auto, name)

        pairs = [(r.name, r.path) for r in repos]
        self.flush()
        if self._scans == 0 and self.watch_from != 1:  # (1: the watcher service itself)
            from . import watchd

            if watchd.supported():
                warnings = watchd.request_sync(self.home, [(r.name, r.path, r.uid) for r in repos],
                                               automation)
                if warnings is not None:
                    self.warnings = warnings
                    return
        watcher = self._get_watcher()
        if watcher is None and self._scans == 1 and self.start_service:
            self._maybe_start_service(repos)
        try:
            self.warnings = self.index.sync(pairs, None if automation is None else [automation],
                                            reader, watcher)
        except OSError:
            if watcher is None:
                raise
            self._drop_watcher()  # watches failed (e.g. the inotify limit): scan everything
            self.warnings = self.index.sync(pairs, None if automation is None else [automation],
                                            reader)

    def _maybe_start_service(self, repos: list[Repo]) -> None:
        from . import watchd

        if not watchd.supported():
            return
        names = [r.name for r in repos]
        count = self.index.db.execute(
            f"SELECT count(*) FROM entries WHERE repo IN ({','.join('?' * len(names))})",
            names).fetchone()[0]
        if count >= watchd.MIN_ENTRIES:
            watchd.start(self.home)

    def _get_watcher(self) -> Any:
        """From the second scan of this process on, use change notification if we can."""
        self._scans += 1
        if self._watcher is not None and self._watcher.overflow:
            self._drop_watcher()
        if self._watcher is None and self.watch_from and self._scans == self.watch_from \
                and os.environ.get("CK_WATCH", "1") != "0":
            try:
                from .watch import Watcher

                self._watcher = Watcher()
            except OSError:
                self._watcher = None
        return self._watcher

    def _drop_watcher(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self._scans = 0

    # -- reads --------------------------------------------------------------------------
    def find(self, automation: str | None, ref: ArtifactRef, tags: list[str] | None = None,
             no_tags: list[str] | None = None, meta: dict[str, Any] | None = None,
             with_meta: bool = False) -> list[dict[str, Any]]:
        repos = self.scope(ref.repo)
        self.sync(repos, automation)
        rows = self.index.query([r.name for r in repos], automation, ref.name, ref.uid,
                                tags or [], no_tags or [])
        paths = {r.name: r.path for r in repos}
        order = {r.name: i for i, r in enumerate(repos)}
        want = _leaves(meta) if meta else None
        out = []
        for repo, auto, name, uid, meta_file, tag_text, meta_json in rows:
            entry_meta = None
            if want is not None or with_meta:
                import json

                entry_meta = json.loads(meta_json) if meta_json else {}
                if want is not None and not _matches(entry_meta, want):
                    continue
            item: dict[str, Any] = {
                "automation": auto, "name": name, "uid": uid, "repo": repo,
                "path": os.path.join(paths[repo], auto, name),
                "tags": tag_text.split(",") if tag_text else [],
            }
            if with_meta:
                item["meta"] = entry_meta
                item["meta_file"] = meta_file
            out.append(item)
        out.sort(key=lambda e: (order[e["repo"]], e["automation"], e["name"]))
        return out

    def _near(self, automation: str, name: str | None) -> str:
        """' (did you mean: a, b?)' from the names of ``automation``'s entries, or ''."""
        from ..errors import suggest

        if not name or any(c in name for c in "*?["):
            return ""
        try:
            names = {e["name"] for e in self.find(automation, ArtifactRef(None, None))}
        except CKError:
            return ""
        return suggest(name, names)

    def near_tags(self, automation: str | None, tags: list[str] | None) -> str:
        """For a tag query that matched nothing: '; no X has the tag T (did you mean: ...)'
        for the first tag no entry of ``automation`` has (CM/MLC variations, ``_x``, aside),
        or '' when each tag exists and only their combination matches nothing."""
        from ..errors import suggest

        wanted = [t for t in tags or [] if t and not t.startswith("_")]
        if not wanted:
            return ""
        try:
            known = {t for e in self.find(automation, ArtifactRef(None, None)) for t in e["tags"]}
        except CKError:
            return ""
        for tag in wanted:
            if tag not in known:
                return f"; no {automation or 'entry'} has the tag {tag}{suggest(tag, known)}"
        return ""

    def load(self, automation: str, ref: ArtifactRef) -> dict[str, Any]:
        """Exactly one entry, with its meta (read from the file, not the index)."""
        if ref.name is None:
            raise InvalidInput(f"name the {automation} entry to load (AUTOMATION:NAME)")
        found = self.find(automation, ref, with_meta=True)
        if not found:
            broken = self.index.broken(automation, ref.name) if ref.name else []
            if broken:
                from ..errors import MetaError

                raise MetaError(broken[0])
            raise NotFound(f"{automation} entry {ref} not found"
                           + self._near(automation, ref.name)
                           + f"; `ck find {automation}` lists them")
        if len(found) > 1:
            names = ", ".join(f"{e['repo']}:{e['name']}" for e in found[:5])
            raise Ambiguous(f"{automation} entry {ref} matches {len(found)} entries ({names}); "
                            "qualify it as REPO:NAME or use its UID")
        return found[0]

    # -- writes ---------------------------------------------------------------------------
    def _writable(self, repo_name: str | None) -> Repo:
        repo = self.repos.get(repo_name or "local")
        if repo.readonly:
            raise ReadOnly(f"repo {repo.name!r} is read-only; write to another repo (e.g. local:NAME)")
        self.repos.writable_path(repo)
        return repo

    def _lock(self, repo: Repo, automation: str, name: str) -> Any:
        from filelock import FileLock, Timeout

        folder = os.path.join(self.home, "locks")
        os.makedirs(folder, exist_ok=True)
        lock = FileLock(os.path.join(folder, f"{repo.uid}.{automation}.{name}.lock"),
                        timeout=LOCK_TIMEOUT)

        class _Guard:
            def __enter__(self) -> None:
                try:
                    lock.acquire()
                except Timeout:
                    raise Locked(f"{automation} entry {repo.name}:{name} is locked by another "
                                 f"process (waited {LOCK_TIMEOUT:.0f} s)") from None

            def __exit__(self, *_: Any) -> None:
                lock.release()

        return _Guard()

    def _index_put(self, repo: Repo, automation: str, name: str, meta_file: str,
                   meta: dict[str, Any], uid: str) -> None:
        path = os.path.join(repo.path, automation, name, meta_file)
        import time

        parsed = Parsed(uid=uid, meta_file=meta_file, tags=normalize_tags(meta.get("tags")),
                        meta=meta)
        with self.index.write():
            self.index.put(repo.name, automation, name, parsed, stat_sig(path, time.time_ns()))

    def add(self, automation: str, ref: ArtifactRef, meta: dict[str, Any] | None = None,
            tags: list[str] | None = None, uid: str | None = None,
            meta_file: str = DEFAULT_META_FILE) -> dict[str, Any]:
        check_name(automation, "automation name")
        if ref.name is not None and is_pattern(ref.name):
            raise InvalidInput(f"cannot add {ref.name!r}: wildcards are for finding, not naming")
        if uid is not None and not is_uid(uid):
            raise InvalidInput(f"the uid {uid!r} is not 16 lowercase hex digits")
        _check_meta(meta)
        explicit_uid = uid is not None
        uid = uid or new_uid()
        name = check_name(ref.name or uid)
        repo = self._writable(ref.repo)
        if explicit_uid and self.find(None, ArtifactRef(None, uid)):
            raise AlreadyExists(f"an entry with uid {uid} exists already")
        body = dict(meta or {})
        body.update({"uid": uid, "alias": name, "automation": automation,
                     "tags": normalize_tags(tags if tags is not None else body.get("tags"))})
        folder = os.path.join(repo.path, automation)
        target = os.path.join(folder, name)
        if os.path.lexists(target):
            raise AlreadyExists(f"{automation} entry {repo.name}:{name} exists already")
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        # The new folder is built aside (in a small staging folder: cheaper for the file
        # system than working in a folder of thousands of entries) and renamed into place:
        # nobody sees it half-made, so its meta file needs no temporary file of its own.
        tmp = os.path.join(folder, STAGING, uid)
        try:
            try:
                os.mkdir(tmp)
            except FileNotFoundError:  # first add here, or the folders were deleted meanwhile
                os.makedirs(os.path.dirname(tmp), exist_ok=True)
                os.mkdir(tmp)
            with open(os.path.join(tmp, meta_file), "w", encoding="utf-8") as fh:
                fh.write(dump_text(body, meta_file))
            _rename_dir(tmp, target, f"{automation} entry {repo.name}:{name}")
        except BaseException:
            _shutil().rmtree(tmp, ignore_errors=True)
            raise
        parsed = Parsed(uid=uid, meta_file=meta_file, tags=body["tags"], meta=body)
        # Our own write: its signature is exact (a hand edit that keeps the size within
        # the same timestamp tick is the one change this cannot see).
        self._pending.append((repo.name, automation, name, parsed,
                              stat_sig(os.path.join(target, meta_file))))
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()
        return {"automation": automation, "name": name, "uid": uid, "repo": repo.name,
                "path": target, "tags": body["tags"], "meta": body}

    def update(self, automation: str, ref: ArtifactRef, meta: dict[str, Any] | None = None,
               tags: list[str] | None = None, replace: bool = False) -> dict[str, Any]:
        _check_meta(meta)
        entry = self.load(automation, ref)
        repo = self._writable(entry["repo"])
        name = entry["name"]
        with self._lock(repo, automation, name):
            # the meta as it is now, from the file: the index may be older than the last
            # writer's change, and merging into that would lose it
            path, text, old = read_fresh(entry["path"], f"{automation} entry {repo.name}:{name}")
            new = dict(meta or {}) if replace else merge(old, meta or {})
            for key in ("uid", "alias", "automation"):
                if key in old:
                    new[key] = old[key]
            new_tags = normalize_tags(tags if tags is not None else new.get("tags"))
            if "tags" in new and new_tags == normalize_tags(old.get("tags")) \
                    and "tags" in old:
                new["tags"] = old["tags"]  # the same tags, written as they were
            elif new_tags or "tags" in new or "tags" in old:
                new["tags"] = new_tags
            from .metaedit import rewrite_meta

            rewrite_meta(path, text, old, new)
            meta_file = os.path.relpath(path, entry["path"])
            self._index_put(repo, automation, name, meta_file, new, entry["uid"])
        entry.update(meta=new, tags=normalize_tags(new.get("tags")), meta_file=meta_file)
        return entry

    def remove(self, automation: str, ref: ArtifactRef, force: bool = False) -> list[dict[str, Any]]:
        if ref.name is None and not force:
            raise InvalidInput(f"name the {automation} entries to remove, or pass --force to "
                               "remove all of them")
        found = self.find(automation, ref) or self._unusable(automation, ref)
        if not found:
            raise NotFound(f"{automation} entry {ref} not found")
        if len(found) > 1 and not force:
            raise InvalidInput(f"{ref} matches {len(found)} {automation} entries; pass --force "
                               "to remove them all")
        removed = []
        for entry in found:
            repo = self._writable(entry["repo"])
            with self._lock(repo, automation, entry["name"]):
                try:
                    _delete_dir(entry["path"])
                    removed.append(entry)
                except NotFound:
                    pass  # removed (or renamed) by another process meanwhile
                with self.index.write():
                    self.index.drop(repo.name, automation, entry["name"])
        if not removed:
            raise NotFound(f"{automation} entry {ref} not found (removed or renamed meanwhile)")
        return removed

    def _unusable(self, automation: str, ref: ArtifactRef) -> list[dict[str, Any]]:
        """Entry folders that ``find`` leaves out (no meta file, a meta file that cannot be
        parsed, a link out of the repo) but ``load`` reports by name: ``rm`` removes them."""
        if ref.name is None or ref.uid is not None:
            return []
        repos = self.scope(ref.repo)
        paths = {r.name: r.path for r in repos}
        rows = self.index.db.execute(
            "SELECT repo, name FROM entries WHERE automation=? AND name GLOB ? AND "
            f"(error IS NOT NULL OR meta_file IS NULL) AND repo IN ({','.join('?' * len(repos))})",
            [automation, ref.name, *paths]).fetchall()
        return [{"automation": automation, "name": name, "uid": "", "repo": repo,
                 "path": os.path.join(paths[repo], automation, name), "tags": []}
                for repo, name in rows if os.path.lexists(os.path.join(paths[repo], automation, name))]

    def copy(self, automation: str, ref: ArtifactRef, target: ArtifactRef,
             move: bool = False) -> dict[str, Any]:
        entry = self.load(automation, ref)
        src_repo = self.repos.get(entry["repo"])
        src_writable = not self.repos.get(entry["repo"]).readonly
        dst_repo = self._writable(target.repo or (entry["repo"] if move or src_writable else None))
        if move:
            self._writable(src_repo.name)
        name = check_name(target.name or entry["name"])
        dst_folder = os.path.join(dst_repo.path, automation)
        dst = os.path.join(dst_folder, name)
        if os.path.lexists(dst):
            raise AlreadyExists(f"{automation} entry {dst_repo.name}:{name} exists already")
        os.makedirs(dst_folder, exist_ok=True)
        from .metaedit import rewrite_meta

        with self._lock(src_repo, automation, entry["name"]):
            # the entry as it is now (another process may have changed, moved or removed
            # it since the index was read)
            path, text, old = read_fresh(entry["path"], f"{automation} entry "
                                                        f"{src_repo.name}:{entry['name']}")
            meta_file = os.path.relpath(path, entry["path"])
            meta = dict(old)
            meta["alias"] = name
            if not move:
                meta["uid"] = new_uid()
            elif not (isinstance(meta.get("uid"), str) and is_uid(meta["uid"])):
                meta["uid"] = entry["uid"]
            if move and src_repo.name == dst_repo.name:
                rewrite_meta(path, text, old, meta)
                try:
                    _rename_dir(entry["path"], dst, f"{automation} entry {dst_repo.name}:{name}")
                except BaseException:
                    try:  # put the alias back
                        rewrite_meta(path, read_text(path), meta, old)
                    except (CKError, OSError):
                        pass
                    raise
            else:
                tmp = os.path.join(dst_folder, f".tmp-{new_uid()}")
                os.mkdir(tmp)
                try:
                    _shutil().copytree(entry["path"], tmp, symlinks=True, dirs_exist_ok=True)
                    rewrite_meta(os.path.join(tmp, meta_file), text, old, meta)
                    _rename_dir(tmp, dst, f"{automation} entry {dst_repo.name}:{name}")
                except BaseException:
                    _shutil().rmtree(tmp, ignore_errors=True)
                    raise
                if move:
                    _delete_dir(entry["path"])
            if move:
                with self.index.write():
                    self.index.drop(src_repo.name, automation, entry["name"])
        self._index_put(dst_repo, automation, name, meta_file, meta,
                        str(meta.get("uid") or entry["uid"]))
        return {"automation": automation, "name": name, "uid": meta["uid"],
                "repo": dst_repo.name, "path": dst, "tags": normalize_tags(meta.get("tags")),
                "meta": meta, "source": {k: entry[k] for k in ("repo", "name", "uid", "path")}}


def _check_meta(meta: Any) -> None:
    """Meta to store must be what JSON holds: finite numbers, string keys, bounded."""
    if meta is None:
        return
    if not isinstance(meta, dict):
        raise InvalidInput(f"the meta must be a mapping, not {type(meta).__name__}")
    problem = tree_problem(meta, strict=True)
    if problem:
        raise InvalidInput(f"the meta {problem}")
