"""Where a tuning run is kept: an ``experiment`` entry with ``trials.jsonl``.

The entry (repo ``local`` unless told otherwise) has in its meta the program, the space,
the objectives, the strategy, its seed, the budget and a ``status``: ``running``,
``interrupted`` or ``done`` (a run killed with ``kill -9`` stays ``running``). Its folder
holds ``trials.jsonl``, one JSON line per finished trial, appended, flushed and fsync'ed
as the trial ends: a killed run loses at most the trial that was running. A line cut short
by a kill is ignored when read and cut off before the next append. A lock file keeps two
runs from writing the same experiment at once.
"""

from __future__ import annotations

import json
import os

from ..errors import AlreadyExists, InvalidInput, Locked, NotFound
from ..store.cid import ArtifactRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from ..kernel.kernel import Kernel

TRIALS_FILE = "trials.jsonl"
LOCK_FILE = ".tune.lock"


def read_trials(path: str) -> list[dict[str, Any]]:
    """The complete trial lines of ``path`` (a line cut short by a kill is skipped)."""
    out: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(item, dict):
                    out.append(item)
    except FileNotFoundError:
        pass
    return out


class TrialLog:
    """Appends trial lines durably."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def open(self) -> None:
        # a line cut short by a kill would glue onto the next one: cut it off
        try:
            with open(self.path, "rb+") as fh:
                data = fh.read()
                if data and not data.endswith(b"\n"):
                    fh.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass
        self._fh = open(self.path, "a", encoding="utf-8")

    def append(self, record: dict[str, Any]) -> None:
        if self._fh is None:
            self.open()
        assert self._fh is not None
        self._fh.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class Run:
    """An experiment entry being written by this process (holds its lock)."""

    def __init__(self, kernel: Kernel, entry: dict[str, Any]) -> None:
        self.kernel = kernel
        self.entry = entry
        self.path: str = entry["path"]
        self.name: str = entry["name"]
        self.repo: str = entry["repo"]
        self.log = TrialLog(os.path.join(self.path, TRIALS_FILE))
        self._lock: Any = None

    @property
    def trials_path(self) -> str:
        return self.log.path

    def acquire(self) -> None:
        from filelock import FileLock, Timeout

        lock = FileLock(os.path.join(self.path, LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise Locked(f"experiment {self.repo}:{self.name} is being tuned by another "
                         "process") from None
        self._lock = lock

    def release(self) -> None:
        self.log.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def update(self, **meta: Any) -> None:
        self.entry = self.kernel.store.update("experiment", ArtifactRef(self.repo, self.name),
                                              meta=meta)

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.entry.get("meta") or {})


def open_run(kernel: Kernel, name: str | None, meta: dict[str, Any], resume: bool,
             repo: str | None = None, program: str | None = None) -> tuple[Run, bool]:
    """The experiment to write: a new one, or (``resume``) the one named, or the latest
    unfinished tuning run of ``program``. Returns (run, resumed)."""
    store = kernel.store
    repo = repo or "local"
    if resume:
        entry = _find_resumable(kernel, name, repo, program)
        run = Run(kernel, entry)
        run.acquire()
        return run, True
    tags = ["tuning"] + ([program] if program else [])
    if name is None:
        import time

        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"tune-{(program or 'run').replace(':', '-')}-{stamp}"
        for n in range(1, 1000):  # another tuner may take a name between find and add
            name = base if n == 1 else f"{base}-{n}"
            if store.find("experiment", ArtifactRef(repo, name)):
                continue
            try:
                entry = store.add("experiment", ArtifactRef(repo, name), meta=meta, tags=tags)
                break
            except AlreadyExists:
                continue
        else:
            raise AlreadyExists(f"too many tuning runs named {base}-N")
    else:
        if store.find("experiment", ArtifactRef(repo, name)):
            raise AlreadyExists(f"experiment {repo}:{name} exists already; pass --resume to go "
                                "on with it, or give another --name")
        entry = store.add("experiment", ArtifactRef(repo, name), meta=meta, tags=tags)
    # adds are indexed behind; a find later in this request may skip the sync that would
    # write them (the scope was checked already), so write the row now
    store.flush()
    entry.setdefault("repo", repo)
    run = Run(kernel, entry)
    run.acquire()
    return run, False


def _find_resumable(kernel: Kernel, name: str | None, repo: str,
                    program: str | None) -> dict[str, Any]:
    store = kernel.store
    if name is not None:
        found = store.find("experiment", ArtifactRef(repo, name))
        if not found:
            raise NotFound(f"nothing to resume: no experiment {repo}:{name}")
        entry = store.load("experiment", ArtifactRef(repo, name))
        if (entry.get("meta") or {}).get("kind") != "tuning":
            raise InvalidInput(f"experiment {repo}:{name} is not a tuning run")
        return entry
    candidates = []
    for item in store.find("experiment", ArtifactRef(repo, None), ["tuning"], with_meta=True):
        meta = item.get("meta") or {}
        if meta.get("kind") == "tuning" and meta.get("status") != "done" and (
                program is None or meta.get("program") == program):
            candidates.append((str(meta.get("started") or ""), item["name"]))
    if not candidates:
        raise NotFound("nothing to resume: no unfinished tuning run"
                       + (f" of {program}" if program else "") + "; name one with --name")
    return store.load("experiment", ArtifactRef(repo, max(candidates)[1]))
