"""Regressions found by trying the tool as a new user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from .conftest import cache_records, run, run_ok


def test_meta_of_the_wrong_shape_is_a_meta_error(repo) -> None:
    repo.script("v", {"tags": ["rv-v"], "variations": ["a", "b"]})
    r = run(artifact="v")
    assert r["return"] == 6 and "'variations' must be a mapping" in r["error"]
    repo.script("w", {"tags": ["rv-w"], "variations": {"a": "text"}})
    r = run(artifact="w", tags="_a")
    assert r["return"] == 6 and "variation 'a' must be a mapping" in r["error"]
    repo.script("d", {"tags": ["rv-d"], "deps": "notalist"})
    assert run(artifact="d")["return"] == 6


def test_broken_meta_is_named_when_the_entry_is_loaded(repo) -> None:
    folder = repo.script("b", {"tags": ["rv-b"]})
    (folder / "meta.yaml").write_text("tags: [rv-b\n")
    repo.settle()
    r = run(artifact="b")
    assert r["return"] == 6 and "cannot parse" in r["error"] and "meta.yaml" in r["error"]


def test_hooks_cannot_end_the_process_or_write_to_stdout(repo, ck) -> None:
    repo.script("h", {"tags": ["rv-h"]}, files={"customize.py": (
        "print('from the hook')\n"
        "def preprocess(ctx):\n    print('pre')\n    ctx.new_env['N'] = 5\n"
        "def postprocess(ctx):\n    raise SystemExit(3)\n")})
    rc, out, err = ck("run", "script:h", "--json")
    assert rc == 14 and json.loads(out)["return"] == 14
    assert "postprocess() failed: SystemExit" in err
    assert "from the hook" in err and "pre" in err


def test_hook_values_must_be_strings(repo) -> None:
    repo.script("s", {"tags": ["rv-s"]}, files={"customize.py": (
        "def postprocess(ctx):\n    ctx.new_env['X'] = None\n")})
    r = run(artifact="s")
    assert r["return"] == 14 and "env values are strings" in r["error"]
    repo.script("n", {"tags": ["rv-n"]}, files={"customize.py": (
        "def postprocess(ctx):\n    ctx.new_env['X'] = 5\n")})
    assert run_ok(artifact="n")["new_env"] == {"X": "5"}


def test_a_declared_run_file_must_exist_inside_the_entry(repo) -> None:
    repo.script("r", {"tags": ["rv-r"], "run": "nosuch.sh"})
    r = run(artifact="r")
    assert r["return"] == 16 and "nosuch.sh is missing" in r["error"]
    repo.script("o", {"tags": ["rv-o"], "run": "../../../../../../etc/passwd"})
    r = run(artifact="o")
    assert r["return"] == 2 and "outside the entry" in r["error"]


def test_env_only_step_exports_what_it_declares(repo) -> None:
    repo.script("a", {"tags": ["rv-ea"]}, 'echo "CK_FROM_A=1" >> "$CK_ENV_OUT"\n')
    repo.script("b", {"tags": ["rv-eb"], "env": {"CK_B": "2"}, "deps": [{"tags": "rv-ea"}]})
    assert run_ok(artifact="b")["new_env"] == {"CK_B": "2"}


def test_a_malformed_cache_record_is_a_miss(repo, home) -> None:
    repo.script("c", {"tags": ["rv-c"], "cache": True}, 'echo "A=1" >> "$CK_ENV_OUT"\n')
    first = run_ok(artifact="c")
    with open(os.path.join(first["path"], "ck-cache.json"), "w") as fh:
        json.dump([1, 2], fh)
    again = run_ok(artifact="c")
    assert again["cached"] is False and again["new_env"] == {"A": "1"}
    assert len(cache_records(home)) == 1


def test_lock_path_is_reported_as_written(repo, tmp_path) -> None:
    repo.script("l", {"tags": ["rv-l"]}, 'echo "A=1" >> "$CK_ENV_OUT"\n')
    r = run_ok(artifact="l", lock=str(tmp_path / "noext"), dry_run=True)
    assert r["lock"] == str(tmp_path / "noext.yaml") and os.path.isfile(r["lock"])
    r = run(artifact="l", lock=str(tmp_path / "no" / "dir" / "lock.yaml"))
    assert r["return"] == 2 and "cannot write" in r["error"]


def test_sigterm_stops_the_running_step_and_leaves_no_entry(repo, home) -> None:
    repo.script("t", {"tags": ["rv-t"], "cache": True},
                'echo started > "$CK_WORK_DIR/started"\nsleep 30\n')
    env = dict(os.environ, CK_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "run", "script:t"],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not list(home.glob("cache/script/*/*/started")):
        time.sleep(0.05)
    assert list(home.glob("cache/script/*/*/started")), "the step did not start"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM and "stopped by signal" in err
    assert not list(home.glob("cache/script/*/*/started"))  # the folder was removed
    assert cache_records(home) == []
