"""Running steps: invalid hits re-run, failures leave nothing behind, nothing prompts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import SRC

from .conftest import cache_folders, cache_records, run, run_ok


def test_result_whose_recorded_path_is_gone_is_rerun(repo, home, tmp_path):
    out = tmp_path / "artifact.bin"
    repo.script("make", {"tags": ["rr-make"], "cache": True},
                f'echo built > "{out}"\necho "CK_ARTIFACT={out}" >> "$CK_ENV_OUT"\n'
                'echo "CK_MODEL_DIR=$CK_WORK_DIR" >> "$CK_ENV_OUT"\n')
    a = run_ok(tags="rr-make")
    assert a["cached"] is False and a["new_env"]["CK_ARTIFACT"] == str(out)
    assert a["new_env"]["CK_MODEL_DIR"] == a["path"]      # the step ran in its cache folder
    rec = cache_records(home)
    assert len(rec) == 1 and str(out) in rec[0]["paths"]
    assert run_ok(tags="rr-make")["cached"] is True
    out.unlink()
    b = run_ok(tags="rr-make")
    assert b["cached"] is False and b["key"] == a["key"]
    assert out.read_text() == "built\n"
    assert run_ok(tags="rr-make")["cached"] is True


def test_dry_run_does_not_count_an_invalid_hit_as_cached(repo, tmp_path):
    out = tmp_path / "artifact.bin"
    repo.script("make", {"tags": ["rr-make"], "cache": True},
                f'touch "{out}"\necho "CK_ARTIFACT={out}" >> "$CK_ENV_OUT"\n')
    run_ok(tags="rr-make")
    assert "[cached]" in run_ok(tags="rr-make", dry_run=True)["text"]
    out.unlink()
    assert "[will run]" in run_ok(tags="rr-make", dry_run=True)["text"]


def test_failed_run_reports_and_leaves_no_entry(repo, home, ck):
    folder = repo.script("fail", {"tags": ["rr-fail"], "cache": True},
                         'echo "first line"\necho "PARTIAL=1" >> "$CK_ENV_OUT"\n'
                         'echo "the last words" >&2\nexit 3\n')
    result = run(tags="rr-fail")
    assert result["return"] == 14, result
    msg = result["error"]
    assert str(folder / "run.sh") in msg and "bash" in msg
    assert "exit status 3" in msg
    assert "the last words" in msg
    assert "256" not in msg and "Traceback" not in msg
    assert cache_records(home) == []
    assert cache_folders(home) == []          # only lock files may remain
    rc, out, err = ck("show", "cache", "--json")
    assert rc == 0 and json.loads(out)["list"] == []
    rc, out, err = ck("run", "script", "--tags=rr-fail")
    assert rc == 14 and "exit status 3" in err and "the last words" in err
    assert "Traceback" not in err


def test_failed_uncached_run_reports_too(repo):
    repo.script("fail", {"tags": ["rr-fail"]}, "echo oops\nexit 5\n")
    result = run(tags="rr-fail")
    assert result["return"] == 14 and "exit status 5" in result["error"]
    assert "oops" in result["error"]


def test_failing_dependency_stops_the_parent(repo, home, tmp_path):
    marker = tmp_path / "parent-ran"
    repo.script("bad", {"tags": ["rr-bad"], "cache": True}, "exit 4\n")
    repo.script("top", {"tags": ["rr-top"], "cache": True, "deps": [{"tags": "rr-bad"}]},
                f'touch "{marker}"\n')
    result = run(tags="rr-top")
    assert result["return"] == 14 and "script:local:bad" in result["error"]
    assert not marker.exists()
    assert cache_records(home) == [] and cache_folders(home) == []


def test_killed_by_signal_is_decoded(repo, home):
    repo.script("sig", {"tags": ["rr-sig"], "cache": True},
                'echo "about to die"\nkill -9 $$\n')
    result = run(tags="rr-sig")
    assert result["return"] == 14, result
    assert "killed by signal 9" in result["error"] and "SIGKILL" in result["error"]
    assert "about to die" in result["error"]
    assert cache_folders(home) == []


def test_stdin_is_closed(repo, ck, home):
    """A script that reads stdin gets EOF at once: nothing ever waits for an answer, even
    when the caller's stdin is an open pipe nobody writes to."""
    repo.script("ask", {"tags": ["rr-ask"]},
                'if read -r answer; then echo "GOT=line:$answer" >> "$CK_ENV_OUT"; '
                'else echo "GOT=eof" >> "$CK_ENV_OUT"; fi\n')
    assert run_ok(tags="rr-ask")["new_env"] == {"GOT": "eof"}
    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC)
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "run", "script",
                             "--tags=rr-ask", "--json"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = _wait(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert json.loads(out)["new_env"] == {"GOT": "eof"}


def _wait(proc: subprocess.Popen) -> tuple[str, str]:
    """Wait without closing the child's stdin (communicate() would close it)."""
    deadline = time.monotonic() + 30
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("ck run waited on stdin")
        time.sleep(0.02)
    assert proc.stdout is not None and proc.stderr is not None
    return proc.stdout.read(), proc.stderr.read()


def test_interrupted_run_leaves_no_valid_entry(repo, home, ck, tmp_path):
    started = tmp_path / "started"
    repo.script("slow", {"tags": ["rr-slow"], "cache": True},
                'if [ -n "$RR_SLOW" ]; then touch "$RR_STARTED"; sleep 60; fi\n'
                'echo "DONE=1" >> "$CK_ENV_OUT"\n')
    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC, RR_SLOW="1",
               RR_STARTED=str(started))
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "run", "script",
                             "--tags=rr-slow"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert proc.poll() is None, "ck run ended early"
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)       # ck and the script it runs, mid-run
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    leftovers = cache_folders(home)
    assert len(leftovers) == 1                     # an incomplete folder ...
    assert not os.path.exists(os.path.join(leftovers[0], "ck-cache.json"))
    assert cache_records(home) == []               # ... which is not an entry
    rc, out, err = ck("show", "cache", "--json")
    assert rc == 0 and json.loads(out)["list"] == [], out
    assert "[will run]" in run_ok(tags="rr-slow", dry_run=True)["text"]

    rc, out, err = ck("gc", "cache", "--json")
    assert rc == 0, err
    gc = json.loads(out)
    assert gc["count"] == 1 and gc["removed"]["incomplete"] == leftovers
    assert cache_folders(home) == []

    result = run_ok(tags="rr-slow")
    assert result["cached"] is False and result["new_env"] == {"DONE": "1"}
    assert run_ok(tags="rr-slow")["cached"] is True


def test_rerun_after_interruption_without_gc(repo, home, tmp_path):
    """The next run of the same key replaces a killed run's leftover folder."""
    repo.script("s", {"tags": ["rr-s"], "cache": True}, 'echo "A=1" >> "$CK_ENV_OUT"\n')
    key = run_ok(tags="rr-s", dry_run=True)["graph"]["key"]
    from cknowledge.cache.store import CacheStore

    folder = CacheStore(str(home)).folder("script", key)
    os.makedirs(folder)
    with open(os.path.join(folder, "half-written.tmp"), "w") as fh:
        fh.write("junk")
    result = run_ok(tags="rr-s")
    assert result["cached"] is False and result["path"] == folder
    assert not os.path.exists(os.path.join(folder, "half-written.tmp"))
    assert run_ok(tags="rr-s")["cached"] is True


def test_gc_removes_entries_whose_paths_are_gone(repo, home, ck, tmp_path):
    out = tmp_path / "thing"
    repo.script("make", {"tags": ["rr-make"], "cache": True},
                f'touch "{out}"\necho "CK_THING={out}" >> "$CK_ENV_OUT"\n')
    repo.script("keep", {"tags": ["rr-keep"], "cache": True}, 'echo "K=1" >> "$CK_ENV_OUT"\n')
    run_ok(tags="rr-make")
    run_ok(tags="rr-keep")
    rc, o, e = ck("gc", "cache", "--json")
    assert rc == 0 and json.loads(o)["count"] == 0
    out.unlink()
    rc, o, e = ck("gc", "cache", "--json")
    assert rc == 0, e
    data = json.loads(o)
    assert data["count"] == 1 and len(data["removed"]["invalid"]) == 1
    assert [r["name"] for r in cache_records(home)] == ["keep"]


def test_failed_uncached_run_leaves_no_exports_behind(repo, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    repo.script("fail", {"tags": ["rr-fail"]}, 'echo "STALE=1" >> "$CK_ENV_OUT"\nexit 3\n')
    repo.script("quiet", {"tags": ["rr-quiet"]}, 'echo "nothing exported"\n')
    assert run(tags="rr-fail")["return"] == 14
    assert run_ok(tags="rr-quiet")["new_env"] == {}
    assert list(work.iterdir()) == []


def test_concurrent_runs_of_one_key_run_it_once(repo, home, tmp_path):
    log = tmp_path / "runs.log"
    repo.script("slow", {"tags": ["rr-conc"], "cache": True},
                f'echo run >> "{log}"\nsleep 0.7\necho "DONE=1" >> "$CK_ENV_OUT"\n')
    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC)
    procs = [subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "run", "script",
                               "--tags=rr-conc", "--json"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert log.read_text().splitlines() == ["run"]
    assert sorted(r["cached"] for r in results) == [False, True]
    assert results[0]["key"] == results[1]["key"]
    assert len(cache_records(home)) == 1
