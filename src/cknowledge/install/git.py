"""Cloning a git repository at a pinned revision (a commit, tag or branch).

Git never prompts (``GIT_TERMINAL_PROMPT=0``, ssh in batch mode) and runs through
:func:`cknowledge.proc.run`. Without ``depth`` the whole history is cloned and the
revision checked out; with ``depth`` a branch or tag is cloned shallowly
(``--branch``), and a commit is fetched alone (``git fetch --depth N URL SHA``, which
the server must allow).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from .. import proc
from ..errors import CommandFailed, DownloadError, InvalidInput, NotFound

_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")


def git_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus the settings that keep git from ever waiting for an answer."""
    out = dict(env)
    out["GIT_TERMINAL_PROMPT"] = "0"
    out.setdefault("GCM_INTERACTIVE", "never")
    out.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return out


def clone(url: object, revision: object, dest: str, env: Mapping[str, str], depth: object = None,
          on_line: Callable[[str], None] | None = None) -> str:
    """Clone ``url`` into ``dest`` (must not exist or be empty) at ``revision``; return the
    full commit sha checked out."""
    if not isinstance(url, str) or not url:
        raise InvalidInput("a git install needs `url`")
    if not isinstance(revision, str) or not revision or revision.startswith("-"):
        raise InvalidInput(f"a git install of {url} needs `revision` (a commit, tag or branch) "
                           "so that it is pinned; got " + repr(revision))
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise InvalidInput(f"git depth must be a positive integer, not {depth!r}")
    genv = git_env(env)
    is_sha = bool(_SHA.match(revision))
    try:
        if depth is None:
            proc.run(["git", "clone", "--quiet", "--no-checkout", "--", url, dest], env=genv,
                     on_line=on_line, what="git clone")
        elif not is_sha:
            proc.run(["git", "clone", "--quiet", "--no-checkout", "--depth", str(depth),
                      "--branch", revision, "--", url, dest], env=genv, on_line=on_line,
                     what="git clone")
        else:
            proc.run(["git", "init", "--quiet", dest], env=genv, what="git init")
            proc.run(["git", "-C", dest, "fetch", "--quiet", "--depth", str(depth), "--", url,
                      revision], env=genv, on_line=on_line, what="git fetch")
    except CommandFailed as exc:
        raise DownloadError(f"cannot clone {url} at {revision}: {exc.message}; check the URL "
                            "and the network, or clone it once and point the package's url "
                            "at the local copy", url=url) from None
    target = "FETCH_HEAD" if depth is not None and is_sha else revision
    try:
        proc.run(["git", "-C", dest, "checkout", "--quiet", target, "--"], env=genv,
                 what="git checkout")
    except CommandFailed as exc:
        raise NotFound(f"revision {revision!r} was not found in {url}: {exc.message}",
                       url=url, revision=revision) from None
    commit = proc.run(["git", "-C", dest, "rev-parse", "HEAD"], env=genv).strip()
    if is_sha and not commit.lower().startswith(revision.lower()):
        raise NotFound(f"{url}: revision {revision!r} resolved to commit {commit}, "
                       "which is not the one pinned", url=url, revision=revision)
    return commit

