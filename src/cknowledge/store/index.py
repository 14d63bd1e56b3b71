"""The derived search index (SQLite) and the scan that keeps it true to the folders.

The folders are the truth; the index is a cache of them. Before every query the
store calls :meth:`Index.sync` for the repos and automations in scope, which:

1. stats the repo root and each automation folder; a changed folder mtime means an
   entry folder was added, removed or renamed, so that folder is listed again;
2. stats the meta file of every indexed entry and compares a signature of
   (mtime, ctime, size, inode); a changed signature means the file is read again.

So a hand edit, a ``git pull`` or a deleted folder is seen by the next query, with no
manual reindex. A stat whose mtime falls within ``RACY_NS`` of the scan is stored as
unknown, so an edit within the file system's timestamp granularity is not missed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

SCHEMA_VERSION = 6
RACY_NS = 20_000_000  # 20 ms: above the timestamp tick of common file systems

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    repo TEXT NOT NULL, automation TEXT NOT NULL, name TEXT NOT NULL,
    uid TEXT NOT NULL, meta_file TEXT, sig INTEGER NOT NULL,
    tags TEXT NOT NULL, meta TEXT, error TEXT, alias TEXT,
    UNIQUE (repo, automation, name)
);
CREATE INDEX IF NOT EXISTS entries_uid ON entries(uid);
CREATE INDEX IF NOT EXISTS entries_name ON entries(name);
CREATE INDEX IF NOT EXISTS entries_alias ON entries(alias) WHERE alias IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_broken ON entries(repo) WHERE error IS NOT NULL;
CREATE TABLE IF NOT EXISTS tags (
    tag TEXT NOT NULL, entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    PRIMARY KEY (tag, entry_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_entry ON tags(entry_id);
CREATE TABLE IF NOT EXISTS folders (
    repo TEXT NOT NULL, automation TEXT NOT NULL, sig INTEGER NOT NULL,
    PRIMARY KEY (repo, automation)
);
"""

Reader = Callable[[str, str, str], "Parsed"]
if TYPE_CHECKING:
    Change = tuple[Callable[..., None], tuple[Any, ...]]  # (method, arguments) to apply


class Parsed:
    """What the scan stores for one entry folder."""

    __slots__ = ("uid", "meta_file", "tags", "meta", "error")

    def __init__(self, uid: str, meta_file: str | None, tags: list[str],
                 meta: dict[str, Any] | None, error: str | None = None) -> None:
        self.uid, self.meta_file, self.tags, self.meta, self.error = uid, meta_file, tags, meta, error


_ENCODER: Any = None


def _encode(meta: dict[str, Any]) -> str:
    """Meta as JSON for the index; values JSON cannot hold (YAML dates) become strings."""
    global _ENCODER
    if _ENCODER is None:
        import json

        _ENCODER = json.JSONEncoder(default=str).encode
    return str(_ENCODER(meta))


def stat_sig(path: str, now_ns: int | None = None) -> int:
    """A signature of the file at ``path``; -1 if it changed too recently to trust."""
    st = os.stat(path)
    if now_ns is not None and now_ns - st.st_mtime_ns < RACY_NS:
        return -1
    return hash((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))


def _dir_sig(path: str, now_ns: int) -> int | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if now_ns - st.st_mtime_ns < RACY_NS:
        return -1
    return hash((st.st_mtime_ns, st.st_ino))


def visible_dirs(path: str) -> list[str]:
    """Names of sub-folders that may be automations or entries (no dot-folders)."""
    try:
        with os.scandir(path) as it:
            return [e.name for e in it if e.name[0] != "." and e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


class Index:
    """One SQLite file under the home; safe for several processes at once (WAL)."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            self._open()
        except sqlite3.DatabaseError:
            # The index is only a cache of the folders: a damaged file is rebuilt.
            self.db.close()
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.unlink(path + suffix)
                except FileNotFoundError:
                    pass
            self._open()

    def _open(self) -> None:
        # access() serialises calls, so one connection may serve several threads (ck serve)
        self.db = sqlite3.connect(self.path, timeout=120, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            self._reset()

    def _reset(self) -> None:
        with self.write():
            for table in ("tags", "entries", "folders"):
                self.db.execute(f"DROP TABLE IF EXISTS {table}")
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    self.db.execute(stmt)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    # -- transactions -------------------------------------------------------------
    def write(self) -> "_Tx":
        return _Tx(self.db)

    # -- writes ---------------------------------------------------------------------
    def put(self, repo: str, automation: str, name: str, parsed: Parsed, sig: int) -> None:
        db = self.db
        db.execute("DELETE FROM entries WHERE repo=? AND automation=? AND name=?",
                   (repo, automation, name))
        alias = parsed.meta.get("alias") if parsed.meta is not None else None
        # only an alias that differs from the folder name needs a row of its own
        alias = alias if isinstance(alias, str) and alias and alias != name else None
        cur = db.execute(
            "INSERT INTO entries (repo, automation, name, uid, meta_file, sig, tags, meta, error,"
            " alias) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (repo, automation, name, parsed.uid, parsed.meta_file, sig,
             ",".join(parsed.tags), None if parsed.meta is None else _encode(parsed.meta),
             parsed.error, alias),
        )
        entry_id = cur.lastrowid
        if parsed.tags:
            db.executemany("INSERT OR IGNORE INTO tags (tag, entry_id) VALUES (?,?)",
                           [(t, entry_id) for t in parsed.tags])

    def drop(self, repo: str, automation: str | None = None, name: str | None = None) -> None:
        if automation is None:
            self.db.execute("DELETE FROM entries WHERE repo=?", (repo,))
            self.db.execute("DELETE FROM folders WHERE repo=?", (repo,))
        elif name is None:
            self.db.execute("DELETE FROM entries WHERE repo=? AND automation=?", (repo, automation))
            self.db.execute("DELETE FROM folders WHERE repo=? AND automation=?", (repo, automation))
        else:
            self.db.execute("DELETE FROM entries WHERE repo=? AND automation=? AND name=?",
                            (repo, automation, name))

    # -- the scan -------------------------------------------------------------------
    def sync(self, repos: Sequence[tuple[str, str]], automations: Iterable[str] | None,
             reader: Reader, watcher: Any = None) -> list[str]:
        """Bring the index in line with the folders; return warnings about broken meta.

        With a ``watcher`` (see ``watch.py``), folders it already covers are checked
        only where it saw changes; the others are scanned fully after being watched."""
        now = time.time_ns()
        wanted = None if automations is None else set(automations)
        changes: list[Change] = []
        dirty: set[tuple[str, ...]] = set()
        if watcher is not None:
            watcher.drain()
            dirty, watcher.dirty = watcher.dirty, set()
        for repo, root in repos:
            known = dict(self.db.execute(
                "SELECT automation, sig FROM folders WHERE repo=?", (repo,)).fetchall())
            watched_root = watcher is not None and repo in watcher.roots
            if watcher is not None and not watched_root and os.path.isdir(root):
                # (a root that does not exist yet is checked by stat until it does)
                watcher.watch(root, (repo,))
                watcher.roots.add(repo)
            if not watched_root or (repo,) in dirty:
                root_sig = _dir_sig(root, now)
                # a repo folder that does not exist (yet), already recorded as empty: no write
                settled = root_sig is None and known.get("") == 0 and set(known) <= {""}
                if not settled and (root_sig is None or root_sig == -1
                                    or known.get("") != root_sig):
                    present = set(visible_dirs(root))
                    for gone in set(known) - present - {""}:
                        changes.append((self.drop, (repo, gone)))
                        known.pop(gone)
                        if watcher is not None:
                            watcher.covered.discard((repo, gone))
                    for new in present - set(known):
                        known[new] = 0
                        changes.append((self._set_folder, (repo, new, 0)))
                    changes.append((self._set_folder, (repo, "", root_sig or 0)))
            for automation in sorted(set(known) - {""}):
                if wanted is not None and automation not in wanted:
                    continue
                only: set[str] | None = None
                folder_dirty = True
                if watcher is not None:
                    if (repo, automation) in watcher.covered:
                        folder_dirty = (repo, automation) in dirty
                        only = {k[2] for k in dirty if len(k) == 3 and k[0] == repo
                                and k[1] == automation}
                        if not folder_dirty and not only:
                            continue
                    else:
                        self._watch_folder(watcher, repo, root, automation)
                self._sync_folder(repo, root, automation, known[automation], now, reader,
                                  changes, only, folder_dirty, watcher)
        if changes:
            with self.write():
                for func, args in changes:
                    func(*args)
        return [row[0] for row in self._errors(repos, wanted)]

    def _watch_folder(self, watcher: Any, repo: str, root: str, automation: str) -> None:
        """Watch a folder and its entries before it is scanned in full."""
        folder = os.path.join(root, automation)
        watcher.watch(folder, (repo, automation))
        for name in visible_dirs(folder):
            watcher.watch_entry(os.path.join(folder, name), (repo, automation, name))
        watcher.covered.add((repo, automation))

    def _errors(self, repos: Sequence[tuple[str, str]], wanted: set[str] | None) -> list[Any]:
        rows = self.db.execute("SELECT error, repo, automation FROM entries INDEXED BY entries_broken"
                               " WHERE error IS NOT NULL")
        names = {r for r, _ in repos}
        return [row for row in rows if row[1] in names and (wanted is None or row[2] in wanted)]

    def _set_folder(self, repo: str, automation: str, sig: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO folders (repo, automation, sig) VALUES (?,?,?)",
                        (repo, automation, sig))

    def _sync_folder(self, repo: str, root: str, automation: str, known_sig: int, now: int,
                     reader: Reader, changes: list[Change],
                     only: set[str] | None = None, folder_dirty: bool = True,
                     watcher: Any = None) -> None:
        folder = os.path.join(root, automation)
        rows = self.db.execute(
            "SELECT name, meta_file, sig FROM entries WHERE repo=? AND automation=?",
            (repo, automation)).fetchall()
        names = {row[0] for row in rows}
        if only is not None:
            rows = [row for row in rows if row[0] in only]
            rows.extend((n, None, 0) for n in only - names)
        if folder_dirty:
            sig = _dir_sig(folder, now)
            if sig is None or sig == -1 or sig != known_sig or only is not None:
                present = set(visible_dirs(folder))
                for gone in names - present:
                    changes.append((self.drop, (repo, automation, gone)))
                checked = {row[0] for row in rows}
                for new in present - names - checked:
                    rows.append((new, None, 0))
                changes.append((self._set_folder, (repo, automation, sig or 0)))
        stat = os.stat
        sep = os.sep
        for name, meta_file, old in rows:
            path = folder + sep + name
            if meta_file is None:
                # a folder without meta is known by the folder's own signature (as put below)
                cur = _dir_sig(path, now) or -1
                if cur == old and cur != -1 and only is None:
                    continue
            else:
                path += sep + meta_file
                try:
                    st = stat(path)
                    cur = hash((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
                    if cur == old and only is None:  # a watched entry that changed is re-read
                        continue
                    if now - st.st_mtime_ns < RACY_NS:
                        cur = -1
                except OSError:
                    cur = -1
            entry_dir = folder + sep + name
            if not os.path.isdir(entry_dir):
                if name in names:
                    changes.append((self.drop, (repo, automation, name)))
                continue
            if watcher is not None and name not in names:
                watcher.watch_entry(entry_dir, (repo, automation, name))
            parsed = reader(repo, automation, name)
            if parsed.meta_file is None and parsed.error is None:
                # a folder without meta (yet): remember it by the folder's own signature
                cur = _dir_sig(entry_dir, now) or -1
            elif parsed.meta_file != meta_file:
                try:
                    cur = stat_sig(os.path.join(entry_dir, parsed.meta_file or ""), now) \
                        if parsed.meta_file else -1
                except OSError:
                    cur = -1
            changes.append((self.put, (repo, automation, name, parsed, cur)))

    # -- queries ----------------------------------------------------------------------
    def query(self, repos: Sequence[str], automation: str | None, name: str | None,
              uid: str | None, tags: Sequence[str], no_tags: Sequence[str]) -> list[tuple[Any, ...]]:
        """Entries by repo, automation, name pattern or UID, tags (AND) and excluded tags.

        A name matches an entry's folder name or its meta ``alias``; where some entries
        match by folder name, those that match only by alias are left out. Entries that
        share a UID (copied folders) count once in a UID query: the one in the first repo
        of ``repos``, then the first folder name. Tags that begin with ``_`` (CM's and
        MLC's variations) select nothing and are ignored, as CM and MLC do.

        The query is driven by its most selective part: the UID/name indexes, else the
        tag index (joined tag by tag), else the (repo, automation) index. A unary ``+``
        keeps SQLite from using the (repo, automation) index where another one is better."""
        tags = [t for t in tags if not t.startswith("_")]
        no_tags = [t for t in no_tags if not t.startswith("_")]
        cols = "e.repo, e.automation, e.name, e.uid, e.meta_file, e.tags, e.meta, e.alias"
        where = ["e.error IS NULL", "e.meta_file IS NOT NULL"]
        args: list[Any] = []
        source = "entries e"
        exact = name is not None and not any(c in name for c in "*?[")
        plus = "+" if uid is not None or tags or exact else ""
        if uid is not None:
            where.append("(e.uid=? OR e.name=? OR e.alias=?)")
            args.extend([uid, uid, uid])
        elif tags:
            tags = sorted(tags, key=self._tag_weight)  # the rarest tag drives the join
            joins = "".join(f" JOIN tags t{i} ON t{i}.entry_id=t0.entry_id AND t{i}.tag=?"
                            for i in range(1, len(tags)))
            source = f"tags t0{joins} JOIN entries e ON e.id=t0.entry_id"
            args.extend(tags[1:])
            where.append("t0.tag=?")
            args.append(tags[0])
        if len(repos) == 1:
            where.append(f"{plus}e.repo=?")
        else:
            where.append(f"{plus}e.repo IN ({','.join('?' * len(repos))})")
        args.extend(repos)
        if automation is not None:
            where.append(f"{plus}e.automation=?")
            args.append(automation)
        if no_tags:
            where.append(f"e.id NOT IN (SELECT entry_id FROM tags WHERE tag IN "
                         f"({','.join('?' * len(no_tags))}))")
            args.extend(no_tags)
        sql = f"SELECT {cols} FROM {source} WHERE {' AND '.join(where)}"
        if uid is not None or name is None:
            rows = self.db.execute(sql, args).fetchall()
        elif exact:  # an equality: the name and the alias indexes answer it together
            rows = self.db.execute(sql + " AND (e.name=? OR e.alias=?)", [*args, name, name]).fetchall()
        else:  # a pattern: by name as before, then the (few) entries with an alias of their own
            rows = self.db.execute(sql + " AND e.name GLOB ?", [*args, name]).fetchall()
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM entries INDEXED BY entries_alias WHERE alias IS NOT NULL"
                " AND alias GLOB ?", (name,))]
            if ids:
                more = (f" AND e.id IN ({','.join('?' * len(ids))})", ids) if len(ids) <= 500 \
                    else (" AND e.alias GLOB ?", [name])
                seen = {(r[0], r[1], r[2]) for r in rows}
                rows.extend(r for r in self.db.execute(sql + more[0], [*args, *more[1]])
                            if (r[0], r[1], r[2]) not in seen)
        if uid is not None and len(rows) > 1:
            rows = _one_per_uid(rows, repos)
        elif exact and name is not None and len(rows) > 1 and any(r[7] is not None for r in rows):
            rows = _by_name_first(rows, name)
        return [r[:7] for r in rows]

    def broken(self, automation: str, name: str) -> list[str]:
        """The parse errors of entries with this name whose meta is broken."""
        rows = self.db.execute("SELECT error FROM entries INDEXED BY entries_broken WHERE "
                               "error IS NOT NULL AND automation=? AND name=?", (automation, name))
        return [str(r[0]) for r in rows]

    def _tag_weight(self, tag: str) -> int:
        """How many entries carry ``tag``, counted up to a cap (cheap: an index range)."""
        row = self.db.execute("SELECT count(*) FROM (SELECT 1 FROM tags WHERE tag=? LIMIT 5000)",
                              (tag,)).fetchone()
        return int(row[0])


def _one_per_uid(rows: list[tuple[Any, ...]], repos: Sequence[str]) -> list[tuple[Any, ...]]:
    """Of entries that share a UID (per automation): the one in the first repo of the
    scope, then the one with the first folder name (code point order)."""
    order = {r: i for i, r in enumerate(repos)}
    kept: dict[tuple[str, str], tuple[Any, ...]] = {}
    for row in rows:
        key = (row[1], row[3])
        best = kept.get(key)
        if best is None or (order.get(row[0], 0), row[2]) < (order.get(best[0], 0), best[2]):
            kept[key] = row
    return [row for row in rows if kept[(row[1], row[3])] is row]


def _by_name_first(rows: list[tuple[Any, ...]], name: str) -> list[tuple[Any, ...]]:
    """Where some rows are named ``name`` by their folder, leave out those that match only
    by alias (per automation): an alias never shadows a folder of that name."""
    with_folder = {r[1] for r in rows if r[2] == name}
    return [r for r in rows if r[2] == name or r[1] not in with_folder]


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
