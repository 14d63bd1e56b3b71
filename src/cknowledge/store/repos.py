"""The registry of repos: which folders hold entries, under which names.

``$CK_HOME/repos.json`` lists the registered repos. Two are always there: ``builtin``
(read-only, shipped inside the package) and ``local`` (the default target of writes,
``$CK_HOME/repos/local``, created on first use). A repo folder may carry
``ckrepo.yaml`` (``alias``, ``uid``); CK's ``.ckr.json``, CM's ``cmr.yaml`` (whose
``prefix`` names the sub-folder that holds the entries) and MLCFlow's root
``meta.yaml`` are read too.

A repo's ``path`` is the folder that holds its automation folders; its ``root`` is the
folder it was registered or cloned as (they differ for a CM repo with a ``prefix``).
"""

from __future__ import annotations

import os

from ..errors import AlreadyExists, NotFound, RepoError, suggest
from ..home import builtin_repo_dir
from .cid import check_name, new_uid
from .metaio import atomic_write_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

REPO_META = "ckrepo.yaml"
LEGACY_REPO_META = (".ckr.json", "cmr.yaml", "cmr.json", "meta.yaml")
GIT_BASE_ENV = "CK_GIT_BASE"
DEFAULT_GIT_BASE = "https://github.com"


class Repo:
    """A registered repo. ``managed``: created or cloned by the tool, so ``rm repo`` deletes it."""

    __slots__ = ("name", "path", "url", "managed", "readonly", "uid", "root")

    def __init__(self, name: str, path: str, url: str | None = None, managed: bool = False,
                 readonly: bool = False, uid: str | None = None, root: str | None = None) -> None:
        self.name, self.path, self.url = name, path, url
        self.managed, self.readonly, self.uid = managed, readonly, uid or new_uid()
        self.root = root or path

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        if self.root == self.path:
            del out["root"]
        return out

    def __repr__(self) -> str:
        return f"Repo({self.name!r}, {self.path!r})"


class RepoRegistry:
    def __init__(self, home: str) -> None:
        self.home = home
        self.file = os.path.join(home, "repos.json")
        self._repos: list[Repo] | None = None
        self._stamp: tuple[int, ...] = ()
        self._made: set[str] = set()

    # -- loading and saving -----------------------------------------------------------
    def _load(self) -> list[Repo]:
        try:  # another process may have registered or removed a repo since
            st = os.stat(self.file)
            stamp: tuple[int, ...] = (st.st_mtime_ns, st.st_ino, st.st_size)
        except OSError:
            stamp = ()
        if stamp != self._stamp:
            self._repos, self._stamp = None, stamp
        if self._repos is None:
            repos = [Repo("builtin", builtin_repo_dir(), readonly=True, uid="0000000000000001")]
            try:
                with open(self.file, encoding="utf-8") as fh:
                    import json

                    data = json.load(fh)
                repos.extend(Repo(**item) for item in data.get("repos", []))
            except FileNotFoundError:
                pass
            except (ValueError, TypeError) as exc:
                raise RepoError(f"the repo registry {self.file} is broken: {exc}") from None
            if not any(r.name == "local" for r in repos):
                repos.insert(1, Repo("local", os.path.join(self.home, "repos", "local"),
                                     managed=True, uid="0000000000000002"))
            self._repos = repos
        return self._repos

    def reload(self) -> None:
        self._repos = None

    def _save(self, repos: list[Repo]) -> None:
        import json

        os.makedirs(self.home, exist_ok=True)
        data = {"repos": [r.to_dict() for r in repos if r.name != "builtin"]}
        atomic_write_text(self.file, json.dumps(data, indent=2) + "\n")
        self._repos = repos

    def lock(self) -> Any:
        from filelock import FileLock

        os.makedirs(self.home, exist_ok=True)
        return FileLock(self.file + ".lock", timeout=60)

    # -- queries ----------------------------------------------------------------------
    def all(self) -> list[Repo]:
        return list(self._load())

    def get(self, name: str) -> Repo:
        for repo in self._load():
            if repo.name == name or repo.uid == name:
                return repo
        names = [r.name for r in self._load()]
        raise NotFound(f"repo {name!r} is not registered{suggest(name, names)}")

    def writable_path(self, repo: Repo) -> str:
        if repo.name == "local" and repo.path not in self._made:
            os.makedirs(repo.path, exist_ok=True)
            self._made.add(repo.path)
        return repo.path

    # -- changes ----------------------------------------------------------------------
    def register(self, repo: Repo) -> Repo:
        check_name(repo.name, "repo name")
        with self.lock():
            self.reload()
            repos = self._load()
            for other in repos:
                if other.name == repo.name:
                    raise AlreadyExists(f"a repo named {repo.name!r} is registered already "
                                        f"({other.path})")
                if {os.path.realpath(other.root), os.path.realpath(other.path)} & \
                        {os.path.realpath(repo.root), os.path.realpath(repo.path)}:
                    raise AlreadyExists(f"{repo.root} is registered already as repo {other.name!r}")
            self._save(repos + [repo])
        return repo

    def move(self, name: str, path: str) -> Repo:
        """Record that repo ``name`` now keeps its entries in ``path`` (its root stays)."""
        with self.lock():
            self.reload()
            repo = self.get(name)
            moved = Repo(**dict(repo.to_dict(), path=path, root=repo.root))
            self._save([moved if r.name == repo.name else r for r in self._load()])
        return moved

    def unregister(self, name: str) -> Repo:
        with self.lock():
            self.reload()
            repo = self.get(name)
            if repo.name in ("builtin", "local"):
                raise RepoError(f"the {repo.name!r} repo cannot be removed")
            self._save([r for r in self._load() if r.name != repo.name])
        return repo


def read_repo_meta(path: str) -> dict[str, Any]:
    """The repo's own description (ours or a legacy one), or {}.

    The keys that count: ``alias``, ``uid``, ``prefix`` (CM: the entries live under
    ROOT/PREFIX) and ``legacy`` (``ck``, ``cm`` or ``mlc``)."""
    from .metaio import read_meta

    for name in (REPO_META, *LEGACY_REPO_META):
        candidate = os.path.join(path, name)
        if os.path.isfile(candidate):
            meta = read_meta(candidate)
            if name == ".ckr.json":
                inner = meta.get("dict", {})
                inner = inner if isinstance(inner, dict) else {}
                return {"alias": meta.get("data_alias") or inner.get("alias"),
                        "uid": meta.get("data_uid"), "legacy": "ck"}
            if name.startswith("cmr"):
                return {"alias": meta.get("alias"), "uid": meta.get("uid"),
                        "prefix": meta.get("prefix"), "legacy": "cm"}
            if name == "meta.yaml":
                return {"alias": meta.get("alias"), "uid": meta.get("uid"), "legacy": "mlc"}
            return meta
    return {}


def entries_path(root: str, meta: dict[str, Any]) -> str:
    """Where a repo's automation folders are: ROOT, or ROOT/PREFIX for a CM ``prefix``."""
    prefix = meta.get("prefix")
    if not prefix:
        return root
    if not isinstance(prefix, str):
        raise RepoError(f"the repo at {root} has a prefix that is not a folder name: {prefix!r}")
    parts = prefix.replace("\\", "/").strip("/").split("/")
    for part in parts:
        check_name(part, "repo prefix")
    return os.path.join(root, *parts)


def git_url(source: str) -> str | None:
    """The git URL of CM's and MLC's ``OWNER@REPO`` shorthand, else None.

    ``mlcommons@mlperf-automations`` → ``https://github.com/mlcommons/mlperf-automations``;
    the base comes from ``$CK_GIT_BASE`` (default ``https://github.com``)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*@[A-Za-z0-9][\w.-]*", source):
        return None
    owner, repo = source.split("@")
    base = (os.environ.get(GIT_BASE_ENV) or DEFAULT_GIT_BASE).rstrip("/")
    return f"{base}/{owner}/{repo}"
