"""Fixtures for detection tests: mock executables built from ``mock_tools.yaml``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from cknowledge.home import builtin_repo_dir

DATA = Path(__file__).with_name("mock_tools.yaml")


class MockTools:
    """The scripts of one scenario: ``dirs[name]`` is a folder, ``calls(tool)`` counts runs."""

    def __init__(self, root: Path, tools: list[dict[str, Any]]) -> None:
        self.root = root
        self.log = root / "calls.log"
        self.dirs: dict[str, str] = {}
        for tool in tools:
            folder = root / tool["dir"]
            folder.mkdir(parents=True, exist_ok=True)
            self.dirs[tool["dir"]] = str(folder)
        for tool in tools:
            path = root / tool["dir"] / tool["name"]
            if "link" in tool:
                path.symlink_to(root / tool["link"])
            else:
                self.write(path, tool["output"], tool.get("exit", 0))

    def write(self, path: Path, output: str, exit_code: int = 0) -> None:
        """(Re)write one mock tool as a shell script."""
        log = shlex.quote(str(self.log))
        path.write_text("#!/bin/sh\n"
                        f"echo \"$0\" >> {log}\n"
                        f"printf '%s\\n' {shlex.quote(output)}\n"
                        f"exit {int(exit_code)}\n")
        path.chmod(0o755)

    def paths(self, *names: str) -> list[str]:
        return [self.dirs[n] for n in names]

    def calls(self, tool: str | None = None) -> int:
        """How many times ``tool`` (a path) or any tool ran."""
        if not self.log.exists():
            return 0
        lines = self.log.read_text().splitlines()
        return len(lines) if tool is None else sum(1 for line in lines if line == tool)


@pytest.fixture
def mock_tools(tmp_path: Path) -> Callable[[str], MockTools]:
    """``mock_tools(scenario)`` builds that scenario's tools under a temporary folder."""
    scenarios = yaml.safe_load(DATA.read_text())["scenarios"]

    def build(name: str) -> MockTools:
        return MockTools(tmp_path / "mock" / name, scenarios[name])

    return build


def builtin_entry(name: str) -> dict[str, Any]:
    """A shipped soft entry as ``Store.load`` gives it (meta, path, name, uid)."""
    path = os.path.join(builtin_repo_dir(), "soft", name)
    with open(os.path.join(path, "meta.yaml"), encoding="utf-8") as fh:
        meta = yaml.safe_load(fh)
    return {"name": name, "uid": meta["uid"], "path": path, "meta": meta, "automation": "soft"}
