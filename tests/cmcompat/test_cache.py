"""The content-keyed cache on CM scripts: what CM's tag-only cache reuses wrongly misses here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import backdate_tree

from .conftest import ForeignRepo

CACHED = {"tags": ["cachedstep"], "cache": True, "default_env": {"CMT_IN": "x"},
          "deps": [{"tags": "det,a"}], "new_env_keys": ["CMT_RESULT", "CMT_A"]}
CACHED_RUN = 'echo "CMT_RESULT=${CMT_IN}-${CMT_A}-$(date +%s%N)" > tmp-run-env.out\n'


@pytest.fixture
def repo(tmp_path: Path, ck: Any, hooks: str) -> ForeignRepo:
    repo = ForeignRepo(tmp_path / "cmcache", "cm")
    repo.script("det-a", {"tags": ["det", "a"], "new_env_keys": ["CMT_A"]},
                'echo "CMT_A=a1" > tmp-run-env.out\n')
    repo.script("cachedstep", CACHED, CACHED_RUN)
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err
    return repo


def result(ck: Any, *args: str) -> tuple[str, bool]:
    rc, out, err = ck("run", "script", "--tags=cachedstep", *args, "--json")
    assert rc == 0, err
    data = json.loads(out)
    return data["new_env"]["CMT_RESULT"], data["cached"]


def test_hit_then_every_change_misses(repo: ForeignRepo, ck: Any) -> None:
    first, cached = result(ck)
    assert not cached and first.startswith("x-a1-")
    assert result(ck) == (first, True)                 # the same inputs: a hit
    other, cached = result(ck, "--env.CMT_IN=y")       # another env value: a miss
    assert not cached and other.startswith("y-a1-")
    assert result(ck) == (first, True)                 # both results are kept
    assert result(ck, "--new")[0] != first             # --new runs the step again
    renewed, _ = result(ck)
    (repo.root / "script" / "cachedstep" / "run.sh").write_text(
        "#!/bin/bash\n# edited\n" + CACHED_RUN)
    backdate_tree(repo.root)
    edited, cached = result(ck)                        # the script's own files changed
    assert not cached and edited != renewed
    (repo.root / "script" / "det-a" / "run.sh").write_text(
        '#!/bin/bash\necho "CMT_A=a2" > tmp-run-env.out\n')
    backdate_tree(repo.root)
    dep_changed, cached = result(ck)                   # a dependency's files changed
    assert not cached and dep_changed.startswith("x-a2-")


def test_a_killed_or_failed_run_leaves_no_entry(repo: ForeignRepo, ck: Any,
                                                tmp_path: Path) -> None:
    (repo.root / "script" / "cachedstep" / "run.sh").write_text("#!/bin/bash\nexit 4\n")
    backdate_tree(repo.root)
    rc, out, err = ck("run", "script", "--tags=cachedstep")
    assert rc == 14 and "exit status 4" in err
    rc, out, err = ck("show", "cache", "--json")
    assert rc == 0 and "cachedstep" not in out


@pytest.mark.slow
def test_cm_reuses_a_wrong_result_where_we_do_not(repo: ForeignRepo, ck: Any,
                                                  tmp_path: Path) -> None:
    """The real CM 4.2.0 + cmx4mlops 1.0.1 (from the package index) on the same repo: its
    cache is found by tags, so another --env value gets the first run's result."""
    venv = tmp_path / "cm-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          "cmind==4.2.0", "cmx4mlops==1.0.1"], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    cm_home = tmp_path / "cm-home"
    env = {"PATH": os.environ["PATH"], "HOME": str(cm_home), "CM_REPOS": str(cm_home / "CM")}

    def cm(value: str) -> str:
        proc = subprocess.run([str(venv / "bin" / "cm"), "run", "script", "--tags=cachedstep",
                               f"--env.CMT_IN={value}", "--quiet", "-j"], env=env,
                              cwd=str(tmp_path), capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        text = proc.stdout + proc.stderr
        start = text.index('"new_env"')
        return str(json.loads("{" + text[start:text.index("}", start) + 1] + "}")
                   ["new_env"]["CMT_RESULT"])

    subprocess.run([str(venv / "bin" / "cm"), "find", "repo"], env=env, cwd=str(tmp_path),
                   capture_output=True, timeout=300, check=True)  # CM creates its home
    repos = cm_home / "CM" / "repos.json"                         # and our repo joins its list
    repos.write_text(json.dumps(json.loads(repos.read_text()) + [str(repo.root)]))
    (cm_home / "CM" / "index.json").unlink(missing_ok=True)
    assert cm("x").startswith("x-")
    assert cm("y").startswith("x-")                    # CM: the x result for y
    assert result(ck, "--env.CMT_IN=x")[0].startswith("x-")
    assert result(ck, "--env.CMT_IN=y")[0].startswith("y-")   # ours: computed for y


def test_nested_cached_steps_record_every_script_they_ran(tmp_path: Path, ck: Any,
                                                          hooks: str) -> None:
    """A cached step whose first dependency is cached too and whose second is not (as
    MLC's get-cmake and get-gcc are): both runs commit, and the outer entry records the
    second dependency's files, so that editing them misses."""
    repo = ForeignRepo(tmp_path / "nested", "mlc")
    repo.script("inner", {"tags": ["inner"], "cache": True, "new_env_keys": ["MLT_IN"]},
                'echo "MLT_IN=i" > tmp-run-env.out\n')
    repo.script("sibling", {"tags": ["sibling"], "new_env_keys": ["MLT_SIB"]},
                'echo "MLT_SIB=s1" > tmp-run-env.out\n')
    repo.script("outer", {"tags": ["outer"], "cache": True,
                          "deps": [{"tags": "inner"}, {"tags": "sibling"}],
                          "new_env_keys": ["MLT_OUT"]},
                'echo "MLT_OUT=${MLT_IN}-${MLT_SIB}-$(date +%s%N)" > tmp-run-env.out\n')
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err

    def outer() -> tuple[str, bool]:
        rc, out, err = ck("run", "script", "--tags=outer", "--json")
        assert rc == 0, err
        data = json.loads(out)
        return data["new_env"]["MLT_OUT"], data["cached"]

    first, cached = outer()
    assert not cached and first.startswith("i-s1-")
    assert outer() == (first, True)
    (repo.root / "script" / "sibling" / "run.sh").write_text(
        '#!/bin/bash\necho "MLT_SIB=s2" > tmp-run-env.out\n')
    backdate_tree(repo.root)
    changed, cached = outer()
    assert not cached and changed.startswith("i-s2-")


def test_a_deleted_tool_behind_a_cache_entry_is_not_served(tmp_path: Path, ck: Any,
                                                           hooks: str) -> None:
    """CM serves a cached detection whose tool was deleted since; here the paths a cached
    result names must still exist for a hit, else the script runs again."""
    tool = tmp_path / "tools" / "mytool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\n")
    repo = ForeignRepo(tmp_path / "cmdel", "cm")
    repo.script("get-mytool", {"tags": ["get", "mytool"], "cache": True,
                               "new_env_keys": ["CMT_TOOL_*"]},
                f'if [ -f "{tool}" ]; then echo "CMT_TOOL_BIN_WITH_PATH={tool}" > tmp-run-env.out;'
                f' else echo "CMT_TOOL_BIN_WITH_PATH=none" > tmp-run-env.out; fi\n')
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err

    def run() -> tuple[str, bool]:
        rc, out, err = ck("run", "script", "--tags=get,mytool", "--json")
        assert rc == 0, err
        data = json.loads(out)
        return data["new_env"]["CMT_TOOL_BIN_WITH_PATH"], data["cached"]

    assert run() == (str(tool), False)
    assert run() == (str(tool), True)
    tool.unlink()
    assert run() == ("none", False)
