"""Repos: register folders and git checkouts of entries, create, list and remove them."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess

from ..errors import InvalidInput, NotFound, RepoError
from ..kernel.automation import Automation, action
from ..store.cid import check_name, is_pattern, new_uid
from ..store.metaio import write_meta
from ..store.repos import REPO_META, Repo, read_repo_meta

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

_URL_RE = re.compile(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:")


def is_url(text: str) -> bool:
    return bool(_URL_RE.match(text)) or text.endswith(".git") and not os.path.isdir(text)


def _name_from(source: str) -> str:
    base = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    base = base[:-4] if base.endswith(".git") else base
    return re.sub(r"[^A-Za-z0-9_.+@=-]", "-", base).lstrip(".-") or "repo"


def _git(args: list[str], cwd: str | None = None) -> None:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise RepoError("git is not installed; it is needed to pull repos from URLs") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RepoError(f"'git {' '.join(args)}' failed (exit {proc.returncode}): {tail[0]}")


class RepoAutomation(Automation):
    name = "repo"
    summary = "repos of entries (git or folders)"

    def _info(self, repo: Repo) -> dict[str, Any]:
        return {"automation": "repo", "name": repo.name, "uid": repo.uid, "repo": repo.name,
                "path": repo.path, "tags": [], "url": repo.url, "readonly": repo.readonly,
                "managed": repo.managed}

    @action
    def add(self, artifact: str | None = None, tags: list[str] | None = None,
            meta: dict[str, Any] | None = None, uid: str | None = None,
            repo: str | None = None, path: str | None = None) -> dict[str, Any]:
        """Create a new empty repo NAME (under $CK_HOME/repos, or at --path)."""
        name = check_name(artifact or "", "repo name")
        home_path = os.path.join(self.kernel.home, "repos", name)
        folder = os.path.abspath(path) if path else home_path
        if os.path.exists(folder) and os.listdir(folder):
            raise RepoError(f"cannot create repo {name!r}: {folder} exists and is not empty; "
                            "use 'ck pull repo PATH' to register an existing folder")
        made = not os.path.exists(folder)
        os.makedirs(folder, exist_ok=True)
        new = Repo(name, folder, managed=made, uid=uid or new_uid())
        try:
            self.store.repos.register(new)
        except Exception:
            if made:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        write_meta(os.path.join(folder, REPO_META), {"alias": name, "uid": new.uid})
        return self._info(new)

    @action
    def pull(self, source: str | None = None, artifact: str | None = None,
             name: str | None = None, checkout: str | None = None) -> dict[str, Any]:
        """Register a repo: a git URL is cloned under $CK_HOME/repos, a local folder is used as it is;
        pulling a registered repo runs 'git pull'."""
        source = source or artifact
        if not source:
            raise InvalidInput("give a folder or git URL: ck pull repo PATH|URL")
        for known in self.store.repos.all():
            if source in (known.name, known.url) or (
                    not is_url(source) and os.path.realpath(source) == os.path.realpath(known.path)):
                if known.url and os.path.isdir(os.path.join(known.path, ".git")):
                    _git(["pull", "--ff-only"], cwd=known.path)
                    return dict(self._info(known), updated=True)
                return dict(self._info(known), updated=False)
        if is_url(source):
            return self._clone(source, name, checkout)
        folder = os.path.abspath(os.path.expanduser(source))
        if not os.path.isdir(folder):
            raise NotFound(f"{source} is neither a folder nor a git URL")
        meta = read_repo_meta(folder)
        repo_name = check_name(name or str(meta.get("alias") or "") or _name_from(folder),
                               "repo name")
        uid = meta.get("uid")
        new = Repo(repo_name, folder, managed=False,
                   uid=uid if isinstance(uid, str) and uid else new_uid())
        return self._info(self.store.repos.register(new))

    def _clone(self, source: str, name: str | None, checkout: str | None) -> dict[str, Any]:
        """Clone aside, name the repo (--name, else its ckrepo.yaml alias, else the URL),
        then move it into place; a failure leaves nothing behind."""
        parent = os.path.join(self.kernel.home, "repos")
        os.makedirs(parent, exist_ok=True)
        stage = os.path.join(parent, f".tmp-clone-{new_uid()}")
        try:
            _git(["clone", "--quiet", source, stage])
            if checkout:
                _git(["checkout", "--quiet", checkout], cwd=stage)
            meta = read_repo_meta(stage)
            repo_name = check_name(name or str(meta.get("alias") or "") or _name_from(source),
                                   "repo name")
            folder = os.path.join(parent, repo_name)
            if os.path.exists(folder):
                raise RepoError(f"cannot clone into {folder}: it exists already")
            os.rename(stage, folder)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        new = Repo(repo_name, folder, url=source, managed=True,
                   uid=str(meta.get("uid") or new_uid()))
        try:
            return self._info(self.store.repos.register(new))
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    @action(writes=False, aliases=("search", "list"))
    def find(self, artifact: str | None = None, tags: list[str] | None = None,
             no_tags: list[str] | None = None, meta: dict[str, Any] | None = None,
             repo: str | None = None, with_meta: bool = False) -> dict[str, Any]:
        """List registered repos (optionally by name pattern; also called as list, search)."""
        pattern = artifact or "*"
        return {"list": [self._info(r) for r in self.store.repos.all()
                         if fnmatch.fnmatchcase(r.name, pattern) or r.uid == pattern]}

    @action(writes=False)
    def load(self, artifact: str, repo: str | None = None) -> dict[str, Any]:
        """Show one registered repo."""
        return self._info(self.store.repos.get(artifact))

    @action
    def rm(self, artifact: str | None = None, tags: list[str] | None = None,
           force: bool = False, repo: str | None = None, keep: bool = False) -> dict[str, Any]:
        """Unregister a repo; delete its folder only if cknowledge created or cloned it
        (and --keep is not given)."""
        if not artifact or is_pattern(artifact):
            raise InvalidInput("name one repo to remove: ck rm repo:NAME")
        removed = self.store.repos.unregister(artifact)
        with self.store.index.write():
            self.store.index.drop(removed.name)
        deleted = False
        if removed.managed and not keep and os.path.isdir(removed.path):
            shutil.rmtree(removed.path)
            deleted = True
        return {"list": [self._info(removed)], "deleted_files": deleted}

    @action
    def update(self, artifact: str, meta: dict[str, Any] | None = None,
               tags: list[str] | None = None, replace: bool = False,
               repo: str | None = None) -> dict[str, Any]:
        """Pull the latest commits of a cloned repo."""
        return self.pull(source=artifact)

    def _no(self, what: str) -> None:
        raise InvalidInput(f"repos cannot be {what}; register another folder with 'ck pull repo'")

    @action
    def ren(self, artifact: str, new_name: str | None = None, target: str | None = None) -> dict[str, Any]:
        """(not available for repos)"""
        self._no("renamed")
        return {}

    @action
    def cp(self, artifact: str, target: str | None = None) -> dict[str, Any]:
        """(not available for repos)"""
        self._no("copied")
        return {}

    @action
    def mv(self, artifact: str, target: str | None = None) -> dict[str, Any]:
        """(not available for repos)"""
        self._no("moved")
        return {}
