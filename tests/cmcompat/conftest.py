"""CM- and MLC-style repos written by the tests (in those tools' conventions, our own
scripts), and the hook venv with the real cmind and mlcflow, installed once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import SRC, backdate_tree

SCRIPT_UID = "5b4e0237da074764"


@pytest.fixture(scope="session")
def hook_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The hook venv, installed through `ck install package:python-venv-cm-hooks` (pip from
    the package index, the pinned cmind/mlcflow files checked by sha256)."""
    forced = os.environ.get("CK_TEST_CM_HOOKS_PYTHON")
    if forced:
        return forced
    home = tmp_path_factory.mktemp("hook-venv-home")
    env = {k: v for k, v in os.environ.items() if k != "CK_BUILTIN_REPO"}
    env.update(CK_HOME=str(home), PYTHONPATH=SRC)
    proc = subprocess.run([sys.executable, "-m", "cknowledge.cli.main", "install",
                           "package:python-venv-cm-hooks", "--json"], env=env,
                          capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return str(json.loads(proc.stdout)["new_env"]["CK_CM_HOOKS_PYTHON"])


@pytest.fixture
def hooks(hook_python: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CK_CM_HOOKS_PYTHON", hook_python)
    return hook_python


class ForeignRepo:
    """A repo folder in CM's layout (``cmr.yaml``, ``_cm.yaml``) or MLC's (``meta.yaml``)."""

    def __init__(self, root: Path, kind: str) -> None:
        self.root = root
        self.kind = kind
        root.mkdir(parents=True, exist_ok=True)
        if kind == "cm":
            (root / "cmr.yaml").write_text("alias: cmtest\nuid: 1a2b3c4d5e6f7a8b\ngit: false\n")
        else:
            (root / "meta.yaml").write_text("alias: test@mlctest\nuid: 8b7a6f5e4d3c2b1a\n")
            (root / "automation").mkdir(exist_ok=True)
            # the repo's own helper module, importable by hooks as `utils` (MLC's layout)
            (root / "automation" / "utils.py").write_text(
                "def is_true(value):\n"
                "    return str(value).lower().strip() in ('1', 'true', 'yes', 'on')\n")

    def script(self, name: str, meta: dict[str, Any], run_sh: str | None = None,
               customize: str | None = None, files: dict[str, str] | None = None) -> Path:
        folder = self.root / "script" / name
        folder.mkdir(parents=True, exist_ok=True)
        full = {"alias": name, "uid": _uid(self.kind, name), "automation_alias": "script",
                "automation_uid": SCRIPT_UID}
        full.update(meta)
        meta_file = "_cm.yaml" if self.kind == "cm" else "meta.yaml"
        (folder / meta_file).write_text(yaml.safe_dump(full, sort_keys=False))
        if run_sh is not None:
            (folder / "run.sh").write_text("#!/bin/bash\n" + run_sh)
        if customize is not None:
            (folder / "customize.py").write_text(customize)
        for rel, text in (files or {}).items():
            (folder / rel).write_text(text)
        backdate_tree(self.root)
        return folder


def _uid(kind: str, name: str) -> str:
    import hashlib

    return hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:16]
