"""Helpers for workflow tests: script, package and soft entries in a temporary local repo."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import cknowledge
from tests.conftest import backdate_tree


def uid_for(kind: str, name: str) -> str:
    return hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:16]


class Repo:
    """``home/repos/local``: write entries, edit their files, run scripts in-process."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = home / "repos" / "local"

    def entry(self, kind: str, name: str, meta: dict[str, Any], run_sh: str | None = None,
              files: dict[str, str] | None = None) -> Path:
        folder = self.root / kind / name
        folder.mkdir(parents=True, exist_ok=True)
        meta = dict(meta)
        meta.setdefault("uid", uid_for(kind, name))
        (folder / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
        if run_sh is not None:
            (folder / "run.sh").write_text(run_sh)
        for rel, text in (files or {}).items():
            (folder / rel).write_text(text)
        self.settle()
        return folder

    def script(self, name: str, meta: dict[str, Any], run_sh: str | None = None,
               files: dict[str, str] | None = None) -> Path:
        return self.entry("script", name, meta, run_sh, files)

    def write(self, kind: str, name: str, rel: str, text: str) -> None:
        (self.root / kind / name / rel).write_text(text)
        self.settle()

    def meta(self, kind: str, name: str) -> dict[str, Any]:
        return yaml.safe_load((self.root / kind / name / "meta.yaml").read_text())

    def set_meta(self, kind: str, name: str, meta: dict[str, Any]) -> None:
        self.write(kind, name, "meta.yaml", yaml.safe_dump(meta, sort_keys=False))

    def settle(self) -> None:
        backdate_tree(self.root)


@pytest.fixture
def repo(home: Path) -> Repo:
    return Repo(home)


def run(**request: Any) -> dict[str, Any]:
    """``access(action="run", automation="script", ...)`` (quiet unless told otherwise)."""
    request.setdefault("quiet", True)
    return cknowledge.access({"action": "run", "automation": "script", **request})


def run_ok(**request: Any) -> dict[str, Any]:
    result = run(**request)
    assert result["return"] == 0, result
    return result


class FakeFound:
    def __init__(self, name: str, version: str, path: str, env: dict[str, str] | None = None):
        self.data = {"name": name, "version": version, "path": path, "env": dict(env or {})}

    def to_dict(self) -> dict[str, Any]:
        return dict(self.data, env=dict(self.data["env"]))


@pytest.fixture
def fake_soft(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``fake_soft({"soft-entry-name": [{"version": .., "path": .., "env": {..}}]})``: what
    ``cknowledge.detect.soft.detect`` reports for each soft entry (nothing for others)."""
    from cknowledge.detect import soft

    table: dict[str, list[dict[str, Any]]] = {}
    calls: list[str] = []

    def detect(entry: dict[str, Any], version: str | None = None, *args: Any, **kw: Any):
        from cknowledge.versions import Version, VersionRange

        calls.append(entry["name"])
        hits = [FakeFound(entry["name"], h["version"], h["path"], h.get("env"))
                for h in table.get(entry["name"], [])
                if VersionRange(version).admits(h["version"])]
        return sorted(hits, key=lambda f: Version(f.data["version"]), reverse=True)

    monkeypatch.setattr(soft, "detect", detect)

    def register(found: dict[str, list[dict[str, Any]]]) -> list[str]:
        table.clear()
        table.update(found)
        return calls

    return register


def flatten(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of a dry-run graph, depth first."""
    out = [graph]
    for child in graph["deps"]:
        out.extend(flatten(child))
    return out


def cache_records(home: Path) -> list[dict[str, Any]]:
    from cknowledge.cache.store import CacheStore

    return CacheStore(str(home)).select()


def cache_folders(home: Path) -> list[str]:
    """Every non-hidden folder under home/cache/<kind>/<shard>/ (entries and leftovers)."""
    out = []
    root = home / "cache"
    if not root.is_dir():
        return out
    for kind in root.iterdir():
        for shard in (p for p in kind.iterdir() if p.is_dir()):
            out.extend(str(p) for p in shard.iterdir() if p.is_dir())
    return sorted(out)


