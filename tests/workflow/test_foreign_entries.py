"""Entries pulled from CK 1.x / CM repos never break the resolution of our own steps."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import backdate_tree, ok

from .conftest import run_ok


def ck1_repo(root: Path) -> Path:
    """A CK 1.x repo with a `soft` entry of its own layout (no `detect` section)."""
    (root / ".ckr.json").parent.mkdir(parents=True, exist_ok=True)
    (root / ".ckr.json").write_text(json.dumps({"data_alias": "ck-env-like",
                                                "data_uid": "0a1b2c3d4e5f6071"}))
    entry = root / "soft" / "compiler.gcc" / ".cm"
    entry.mkdir(parents=True)
    (entry / "meta.json").write_text(json.dumps({"tags": ["compiler", "gcc", "lang-c"],
                                                 "soft_name": "GNU C compiler",
                                                 "customize": {"check_that_exists": "yes"}}))
    (entry / "info.json").write_text(json.dumps({"backup_data_uid": "1234abcd5678ef90"}))
    backdate_tree(root)
    return root


def test_a_ck1_soft_entry_is_skipped_with_a_note(repo, fake_soft, tmp_path):
    """Regression: after pulling ctuning/ck-env, every workflow needing a compiler failed
    with "soft entry 'compiler.gcc' has no 'detect' section"."""
    repo.entry("soft", "gcc-ours", {"tags": ["compiler", "gcc"],
                                    "detect": {"executables": ["gcc"]}})
    repo.entry("script", "needs-gcc", {"tags": ["needs-gcc"], "deps": [{"tags": "compiler,gcc"}]},
               run_sh="true\n")
    fake_soft({"gcc-ours": [{"version": "12.2.0", "path": "/usr/bin/gcc"}]})
    ok(action="pull", automation="repo", artifact=str(ck1_repo(tmp_path / "ck-env")))
    result = run_ok(tags="needs-gcc")
    assert result["deps"]["compiler,gcc"]["name"] == "gcc-ours"
    dry = run_ok(tags="needs-gcc", dry_run=True)
    assert "gcc-ours" in dry["text"]
