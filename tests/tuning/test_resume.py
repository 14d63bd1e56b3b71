"""A tuning run killed with kill -9 keeps its finished trials; --resume completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from cknowledge.tuning.record import read_trials
from tests.conftest import SRC, run_ck

ROOT = os.path.dirname(SRC)

SCRIPT = """
import json, sys, time
from cknowledge.api import kernel_for
from cknowledge.tuning.runner import run_tuning
from tests.tuning.synthetic import SPACE, OBJECTIVES, METRICS, evaluate

home, calls, strategy, resume = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

def slow(config):
    with open(calls, "a") as fh:
        fh.write(json.dumps(config, sort_keys=True) + "\\n")
    time.sleep(0.1)
    return evaluate(config)

r = run_tuning(kernel_for(home), slow, space=SPACE, objectives=OBJECTIVES, metrics=METRICS,
               strategy=strategy, budget=12, seed=7, name="killed", resume=resume, plots=False)
print(json.dumps(r["trials"]))
"""


def _env(home: str) -> dict[str, str]:
    env = dict(os.environ, CK_HOME=home)
    env["PYTHONPATH"] = os.pathsep.join([SRC, ROOT, env.get("PYTHONPATH", "")])
    return env


def _wait_for_lines(path: str, n: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and len(read_trials(path)) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    raise AssertionError(f"no {n} trials in {path}")


@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_resume_after_kill_9_redoes_no_finished_trial(home, tmp_path, strategy) -> None:
    calls = str(tmp_path / "calls.jsonl")
    trials = os.path.join(home, "repos", "local", "experiment", "killed", "trials.jsonl")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(home), calls, strategy, "0"],
                            env=_env(str(home)), cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lines(trials, 4, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    before = read_trials(trials)
    assert 4 <= len(before) < 12
    with open(calls) as fh:
        calls_before = len(fh.readlines())
    assert calls_before - len(before) <= 1           # at most the running trial is lost
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(home), calls, strategy, "1"],
                          env=_env(str(home)), cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts == {"count": 12, "ok": 12, "failed": 0, "infeasible": 0, "new": 12 - len(before),
                      "resumed": len(before)}
    after = read_trials(trials)
    assert [r["number"] for r in after] == list(range(12))
    assert after[:len(before)] == before                 # the finished trials are kept as they were
    with open(calls) as fh:
        evaluated = fh.readlines()
    assert len(evaluated) == calls_before + 12 - len(before)   # nothing finished was redone
    keys = [json.dumps(r["config"], sort_keys=True) for r in after]
    assert len(set(keys)) == 12


@pytest.mark.builtin
@pytest.mark.skipif(__import__("shutil").which("gcc") is None, reason="needs gcc")
def test_ck_autotune_killed_then_resumed(home) -> None:
    trials = os.path.join(home, "repos", "local", "experiment", "crc", "trials.jsonl")
    env = _env(str(home))
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "autotune",
                             "program:cbench-crc32", "--strategy=random", "--budget=40",
                             "--repetitions=2", "--name=crc"],
                            env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lines(trials, 2, proc, timeout=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    before = read_trials(trials)
    rc, out, err = run_ck(home, "autotune", "program:cbench-crc32", "--resume", "--name=crc",
                          f"--budget={len(before) + 2}", "--json", timeout=300)
    assert rc == 0, err
    result = json.loads(out)
    assert result["trials"]["resumed"] == len(before) and result["trials"]["new"] == 2
    assert result["strategy"] == "random" and result["objectives"] == ["time:min", "size:min"]
    after = read_trials(trials)
    assert after[:len(before)] == before and len(after) == len(before) + 2
    assert os.path.isfile(result["png"]) and os.path.isfile(result["html"])


def test_a_plain_kill_marks_the_run_interrupted(home, tmp_path) -> None:
    from cknowledge.api import kernel_for
    from cknowledge.store.cid import ArtifactRef

    calls = str(tmp_path / "calls.jsonl")
    trials = os.path.join(home, "repos", "local", "experiment", "killed", "trials.jsonl")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(home), calls, "grid", "0"],
                            env=_env(str(home)), cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lines(trials, 2, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    entry = kernel_for(str(home)).store.load("experiment", ArtifactRef("local", "killed"))
    assert entry["meta"]["status"] == "interrupted"
    assert len(read_trials(trials)) >= 2
