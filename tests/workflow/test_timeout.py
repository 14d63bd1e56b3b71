"""``ck run script --timeout=S`` and a meta ``timeout:``; a binary ``$CK_ENV_OUT``."""

from __future__ import annotations

import json
import os
import time

import pytest

from cknowledge import proc
from cknowledge.errors import CommandFailed

# the step starts a child that would outlive a plain kill of bash; both must stop
SLOW = ('trap "echo got-term; exit 143" TERM\n'
        'echo started\n'
        'sleep 30 &\n'
        'echo "$!" > "$CK_WORK_DIR/child.pid"\n'
        'wait\n')


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("ck: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is gone for our purpose
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_cli_timeout_stops_the_group_and_says_why(repo, ck, tmp_path):
    repo.script("slow", {"tags": ["slow-step"]}, SLOW)
    start = time.monotonic()
    rc, out, err = ck("run", "script", "--tags=slow-step", "--timeout=1", cwd=str(tmp_path))
    took = time.monotonic() - start
    assert rc == 14, (rc, out, err)
    line = _one_error_line(err)
    assert "s by its timeout (--timeout=1 for the whole run)" in line and "script:" in line
    assert "got-term" in line  # SIGTERM first: the step could clean up
    assert took < 20
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_meta_timeout_is_the_default_and_json_reports_it(repo, ck, tmp_path):
    repo.script("slow2", {"tags": ["slow-meta"], "timeout": 0.5}, SLOW)
    rc, out, err = ck("run", "script", "--tags=slow-meta", "--json", cwd=str(tmp_path))
    assert rc == 14
    data = json.loads(out)
    assert data["return"] == 14 and "timeout: 0.5 in its meta" in data["error"]
    # a shorter --timeout wins over the meta's
    repo.script("slow3", {"tags": ["slow-long"], "timeout": 100}, SLOW)
    rc, out, err = ck("run", "script", "--tags=slow-long", "--timeout=0.5", cwd=str(tmp_path))
    assert rc == 14 and "--timeout=0.5" in _one_error_line(err)


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf"])
def test_bad_timeout_is_an_input_error(repo, ck, value):
    repo.script("quick", {"tags": ["quick-step"]}, "true\n")
    rc, out, err = ck("run", "script", "--tags=quick-step", f"--timeout={value}")
    assert rc == 2 and "timeout" in _one_error_line(err)


def test_bad_meta_timeout_is_a_meta_error(repo, ck):
    repo.script("badmeta", {"tags": ["bad-meta-timeout"], "timeout": "later"}, "true\n")
    rc, out, err = ck("run", "script", "--tags=bad-meta-timeout")
    assert rc == 6 and "'timeout'" in _one_error_line(err)


def test_fast_step_within_timeout_runs(repo, ck):
    repo.script("fast", {"tags": ["fast-step"]}, 'echo "X=1" >> "$CK_ENV_OUT"\n')
    rc, out, err = ck("run", "script", "--tags=fast-step", "--timeout=60", "--json")
    assert rc == 0, err
    assert json.loads(out)["new_env"] == {"X": "1"}


def test_proc_run_timeout_details():
    with pytest.raises(CommandFailed) as info:
        proc.run(["sleep", "5"], timeout=0.2, timeout_source="test")
    assert info.value.details["timeout"] == 0.2
    assert "after 0.2 s by its timeout (test)" in info.value.message


@pytest.mark.parametrize("payload", ["printf 'K=\\xff\\xfe\\n' >> \"$CK_ENV_OUT\"",
                                     "printf 'K=a\\0b\\n' >> \"$CK_ENV_OUT\""])
def test_binary_env_out_is_one_error_line(repo, ck, payload):
    repo.script("binout", {"tags": ["bin-out"]}, payload + "\n")
    rc, out, err = ck("run", "script", "--tags=bin-out")
    assert rc == 14, (rc, out, err)
    line = _one_error_line(err)
    assert "binary data" in line and "$CK_ENV_OUT" in line and "internal error" not in line


def test_verbose_shows_the_command_and_the_env_it_gets(repo, ck, tmp_path):
    repo.script("vv", {"tags": ["verbose-step"], "env": {"CK_FOO": "bar"}}, "echo hi\n")
    for flag in ("-v", "--verbose"):
        rc, out, err = ck("run", "script", "--tags=verbose-step", flag, cwd=str(tmp_path))
        assert rc == 0, err
        assert "$ bash " in err and "run.sh" in err and "CK_FOO=bar" in err
        assert "CK_ENV_OUT=" in err and "$ bash" not in out
    rc, out, err = ck("run", "script", "--tags=verbose-step", cwd=str(tmp_path))
    assert "$ bash" not in err and "CK_FOO" not in err


def test_benchmark_script_timeout(repo, ck, tmp_path):
    repo.script("slowb", {"tags": ["slow-bench"]}, SLOW)
    rc, out, err = ck("benchmark", "script", "--tags=slow-bench", "--repetitions=2",
                      "--timeout=1", cwd=str(tmp_path))
    assert rc == 14 and "by its timeout (--timeout=1 for the whole run)" in _one_error_line(err)


def test_a_command_ignoring_sigterm_is_killed_after_the_grace(monkeypatch):
    monkeypatch.setattr(proc, "GRACE_S", 0.5)
    start = time.monotonic()
    with pytest.raises(CommandFailed, match="by its timeout"):
        proc.run("trap '' TERM; sleep 30 & wait; sleep 30", timeout=0.3)
    assert time.monotonic() - start < 10
