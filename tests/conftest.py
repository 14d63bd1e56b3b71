"""Shared fixtures: a fresh CK_HOME per test, and ``ck(*args)`` running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import cknowledge
from cknowledge import api

SRC = str(Path(__file__).resolve().parents[1] / "src")

# the PostgreSQL cluster and live-hub fixtures of the hub tests
pytest_plugins = ["tests.hub.conftest_pg"]


@pytest.fixture(autouse=True)
def _builtin_repo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see an empty built-in repo unless marked ``@pytest.mark.builtin``: store and
    CLI tests count entries, and the shipped entries would be counted too."""
    if request.node.get_closest_marker("builtin") is None:
        empty = tmp_path_factory.mktemp("builtin-empty")
        monkeypatch.setenv("CK_BUILTIN_REPO", str(empty))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A temporary, empty CK_HOME; access() kernels are forgotten before and after."""
    path = tmp_path / "ckhome"
    monkeypatch.setenv("CK_HOME", str(path))
    api.reset()
    yield path
    api.reset()


def run_ck(home: Path, *args: str, cwd: str | None = None, timeout: float = 60,
           env: dict[str, str] | None = None) -> tuple[int, str, str]:
    full_env = dict(os.environ)
    full_env["CK_HOME"] = str(home)
    full_env["PYTHONPATH"] = SRC + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    proc = subprocess.run([sys.executable, "-m", "cknowledge.cli.main", *args],
                          env=full_env, cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def ck(home: Path):
    """``ck(*args) -> (rc, stdout, stderr)``: the real CLI in a subprocess, in ``home``."""

    def _ck(*args: str, **kw: Any) -> tuple[int, str, str]:
        return run_ck(home, *args, **kw)

    return _ck


@pytest.fixture
def ckj(ck):
    """``ckj(*args) -> dict``: the CLI with --json; asserts success and parses stdout."""

    def _ckj(*args: str) -> dict[str, Any]:
        rc, out, err = ck(*args, "--json")
        assert rc == 0, (rc, out, err)
        return json.loads(out)

    return _ckj


def access(**request: Any) -> dict[str, Any]:
    """Shorthand: ``access(action="add", automation="dataset", artifact="x")``."""
    return cknowledge.access(request)


def ok(**request: Any) -> dict[str, Any]:
    """Like access() but asserts success."""
    result = cknowledge.access(request)
    assert result["return"] == 0, result
    return result


def names(result: dict[str, Any]) -> list[str]:
    return sorted(e["name"] for e in result["list"])


def git(*args: str, cwd: str | Path) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1", HOME=str(cwd))
    proc = subprocess.run(["git", *args], cwd=str(cwd), env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def backdate(*paths: str | Path, seconds: float = 5.0) -> None:
    """Set mtimes into the past (as if a clone or an edit happened a while ago), so the
    index cannot treat them as racy."""
    import time

    t = time.time() - seconds
    for p in paths:
        os.utime(p, (t, t))


def backdate_tree(root: str | Path, seconds: float = 5.0) -> None:
    for dirpath, dirs, files in os.walk(root):
        for f in files:
            backdate(os.path.join(dirpath, f), seconds=seconds)
    for dirpath, dirs, files in list(os.walk(root, topdown=False)):
        backdate(dirpath, seconds=seconds)
