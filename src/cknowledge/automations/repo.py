"""Repos: register folders and git checkouts of entries, create, list and remove them.

``ck pull repo`` takes a folder, a git URL or CM's and MLC's ``OWNER@REPO`` shorthand
(``$CK_GIT_BASE/OWNER/REPO``, default https://github.com). Repos of CK 1.x/2.x
(``.ckr.json``), CM (``cmr.yaml``, with its ``prefix`` folder) and MLCFlow (root
``meta.yaml``) are registered under their own alias and UID. The entries of CK 1.x's own
``repo`` module stay reachable: ``find`` and ``load`` fall back to them."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess

from ..errors import CKError, InvalidInput, NotFound, RepoError
from ..kernel.automation import Automation, _with_repo, action
from ..store.cid import check_name, is_pattern, new_uid, parse_artifact
from ..store.legacy import entry_extras
from ..store.metaio import write_meta
from ..store.repos import (GIT_BASE_ENV, REPO_META, Repo, entries_path, git_url,
                           read_repo_meta)

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


def _git(args: list[str], cwd: str | None = None, what: str | None = None) -> None:
    """Run git without prompts; a failure is one line: ``what`` (else the command), git's
    last line of output."""
    # no password prompts, and a stalled transfer (an unreachable network) gives up
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_HTTP_LOW_SPEED_LIMIT="1",
               GIT_HTTP_LOW_SPEED_TIME="60",
               GIT_SSH_COMMAND=os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"))
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise RepoError("git is not installed; it is needed to pull repos from URLs") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RepoError(f"{what or repr('git ' + ' '.join(args))} failed "
                        f"(exit {proc.returncode}): {tail[0]}")


def _repo_uid(meta: dict[str, Any]) -> str:
    """The repo's own UID (CK, CM and MLC repos carry one), else a new one."""
    uid = meta.get("uid")
    if isinstance(uid, int) and not isinstance(uid, bool):
        uid = str(uid)  # YAML reads an unquoted all-digit UID as a number
    return uid.strip() if isinstance(uid, str) and uid.strip() else new_uid()


class RepoAutomation(Automation):
    name = "repo"
    summary = "repos of entries (git or folders)"

    def _info(self, repo: Repo) -> dict[str, Any]:
        info: dict[str, Any] = {"automation": "repo", "name": repo.name, "uid": repo.uid, "repo": repo.name,
                "path": repo.path, "tags": [], "url": repo.url, "readonly": repo.readonly,
                "managed": repo.managed}
        if repo.root != repo.path:
            info["root"] = repo.root
        return info

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
             name: str | None = None, checkout: str | None = None,
             branch: str | None = None) -> dict[str, Any]:
        """Register a repo: a git URL or OWNER@REPO is cloned under $CK_HOME/repos (--branch,
        --checkout), a local folder is used as it is; pulling a registered repo runs 'git pull'."""
        source = source or artifact
        if not source:
            raise InvalidInput("give a folder, a git URL or OWNER@REPO: ck pull repo PATH|URL")
        local = os.path.isdir(os.path.expanduser(source))
        url = source if is_url(source) else (None if local else git_url(source))
        for known in self.store.repos.all():
            if source in (known.name, known.url) or (url is not None and url == known.url) or (
                    local and os.path.realpath(os.path.expanduser(source))
                    in (os.path.realpath(known.root), os.path.realpath(known.path))):
                if known.url and os.path.isdir(os.path.join(known.root, ".git")):
                    _git(["pull", "--ff-only"], cwd=known.root,
                         what=f"'git pull' in {known.root}")
                    path = entries_path(known.root, read_repo_meta(known.root))
                    if path != known.path:  # the pull changed the repo's prefix
                        known = self.store.repos.move(known.name, path)
                        with self.store.index.write():
                            self.store.index.drop(known.name)
                    return dict(self._info(known), updated=True)
                return dict(self._info(known), updated=False)
        if url is not None:
            return self._clone(url, name, checkout, shorthand=source if url != source else None,
                               branch=branch)
        folder = os.path.abspath(os.path.expanduser(source))
        if not os.path.isdir(folder):
            raise NotFound(f"{source} is neither a folder, a git URL nor OWNER@REPO")
        meta = read_repo_meta(folder)
        repo_name = check_name(name or str(meta.get("alias") or "") or _name_from(folder),
                               "repo name")
        new = Repo(repo_name, entries_path(folder, meta), managed=False,
                   uid=_repo_uid(meta), root=folder)
        return self._info(self.store.repos.register(new))

    def _clone(self, source: str, name: str | None, checkout: str | None,
               shorthand: str | None = None, branch: str | None = None) -> dict[str, Any]:
        """Clone aside, name the repo (--name, else its repo meta's alias, else OWNER@REPO
        or the URL's last part), then move it into place; a failure leaves nothing behind."""
        parent = os.path.join(self.kernel.home, "repos")
        os.makedirs(parent, exist_ok=True)
        stage = os.path.join(parent, f".tmp-clone-{new_uid()}")
        hint = (f" ({shorthand} read as OWNER@REPO; ${GIT_BASE_ENV} sets the server)"
                if shorthand else "")
        try:
            try:
                _git(["clone", "--quiet", *(["--branch", branch] if branch else []), "--",
                      source, stage], what=f"cloning {source}" + (f" (branch {branch})"
                                                                   if branch else ""))
            except RepoError as exc:
                raise RepoError(f"{exc.message}{hint}; to use a copy you have, register its "
                                "folder: ck pull repo /path/to/folder") from None
            if checkout:
                _git(["checkout", "--quiet", checkout], cwd=stage,
                     what=f"'git checkout {checkout}' in {source}")
            meta = read_repo_meta(stage)
            repo_name = check_name(name or str(meta.get("alias") or "") or shorthand
                                   or _name_from(source), "repo name")
            folder = os.path.join(parent, repo_name)
            if os.path.exists(folder):
                raise RepoError(f"cannot clone into {folder}: it exists already")
            entries_path(stage, meta)  # a bad prefix is refused before anything moves
            os.rename(stage, folder)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        new = Repo(repo_name, entries_path(folder, meta), url=source, managed=True,
                   uid=_repo_uid(meta), root=folder)
        try:
            return self._info(self.store.repos.register(new))
        except Exception:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    @action(writes=False, aliases=("search", "list"))
    def find(self, artifact: str | None = None, tags: list[str] | None = None,
             no_tags: list[str] | None = None, meta: dict[str, Any] | None = None,
             repo: str | None = None, with_meta: bool = False) -> dict[str, Any]:
        """List registered repos (optionally by name pattern; also called as list, search),
        then the entries of CK 1.x `repo` folders that match (--tags, --repo: only those)."""
        registered: list[dict[str, Any]] = []
        if not (tags or no_tags or meta or repo) and ":" not in (artifact or ""):
            pattern = artifact or "*"
            try:  # ALIAS,UID names the repo by its UID
                pattern = parse_artifact(pattern).name or pattern
            except CKError:
                pass
            registered = [self._info(r) for r in self.store.repos.all()
                          if fnmatch.fnmatchcase(r.name, pattern) or r.uid == pattern]
        try:
            entries = super().find(artifact=artifact, tags=tags, no_tags=no_tags, meta=meta,
                                   repo=repo, with_meta=with_meta)["list"]
        except CKError:
            if repo or ":" in (artifact or ""):
                raise
            entries = []  # a repo name that is no valid entry reference (say a URL)
        return {"list": registered + entries}

    @action(writes=False)
    def load(self, artifact: str, repo: str | None = None) -> dict[str, Any]:
        """Show one registered repo (or, if none has that name, an entry of a CK 1.x `repo`
        folder; REPO:NAME or --repo always means such an entry)."""
        if repo or ":" in artifact:
            return self._entry(artifact, repo)
        try:
            return self._info(self.store.repos.get(parse_artifact(artifact).name or artifact))
        except NotFound as missing:
            try:
                return self._entry(artifact, None)
            except NotFound:
                raise missing from None

    def _entry(self, artifact: str, repo: str | None) -> dict[str, Any]:
        """A CK `repo` entry, with its .cm/info.json and desc.json as CK shows them."""
        entry = self.store.load(self.name, _with_repo(parse_artifact(artifact), repo))
        entry.update(entry_extras(entry["path"], entry.pop("meta_file", None)))
        return entry

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
        if removed.managed and not keep and os.path.isdir(removed.root):
            shutil.rmtree(removed.root)
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
