"""Crash consistency: writers killed with SIGKILL at random points leave a store that
loads whole, holds every write they finished, and each unfinished one done or not done."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from cknowledge import api
from tests.conftest import SRC, ok

WRITER = textwrap.dedent("""
    import random, sys, cknowledge
    prefix, seed, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(seed)
    out = open(log, "a", buffering=1)
    live, n = [], 0
    while True:
        roll = rnd.random()
        if not live or roll < 0.35:
            op, name, arg = "add", f"{prefix}-{n}", ""
            n += 1
        else:
            name = rnd.choice(live)
            op = "update" if roll < 0.7 else "ren" if roll < 0.85 else "rm"
            arg = f"k{n}" if op == "update" else name + "r" if op == "ren" else ""
            n += 1
        out.write(f"B {op} {name} {arg}\\n")
        req = {"action": op, "automation": "dataset", "artifact": name}
        if op == "update":
            req["meta"] = {arg: True}
        elif op == "ren":
            req["new_name"] = arg
        r = cknowledge.access(req)
        if r["return"]:
            print(req, r, file=sys.stderr, flush=True)
            sys.exit(1)
        out.write("E\\n")
        if op == "add":
            live.append(name)
        elif op == "ren":
            live[live.index(name)] = arg
        elif op == "rm":
            live.remove(name)
""")


def _apply(state: dict[str, set[str]], op: str, name: str, arg: str) -> dict[str, set[str]]:
    state = {k: set(v) for k, v in state.items()}
    if op == "add":
        state[name] = set()
    elif op == "update":
        state[name].add(arg)
    elif op == "ren":
        state[arg] = state.pop(name)
    else:
        state.pop(name)
    return state


def _replay(log: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The state after the finished operations, and after the unfinished one too."""
    state: dict[str, set[str]] = {}
    pending = None
    with open(log) as fh:
        for line in fh.read().splitlines():
            if line.startswith("B "):
                pending = (line.split(" ") + [""])[1:4]
            elif line == "E" and pending:
                state = _apply(state, *pending)
                pending = None
    return state, (_apply(state, *pending) if pending else state)


def _wrote(log: str) -> bool:
    try:
        with open(log) as fh:
            return "\nE" in fh.read()
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_writers_killed_at_random_leave_a_whole_store(home, tmp_path) -> None:
    rnd = random.Random(os.getpid())
    env = dict(os.environ, CK_HOME=str(home),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    ok(action="add", automation="dataset", artifact="seed")  # the repo and index exist
    api.reset()
    logs = []
    for rnd_no in range(4):
        procs = []
        for w in range(2):
            log = str(tmp_path / f"r{rnd_no}w{w}.log")
            logs.append((f"r{rnd_no}w{w}", log))
            procs.append(subprocess.Popen(
                [sys.executable, "-c", WRITER, f"r{rnd_no}w{w}", str(rnd.randrange(1 << 30)), log],
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True))
        deadline = time.monotonic() + 30  # started (slower under coverage), then writing
        while time.monotonic() < deadline and not all(_wrote(log) for _, log in logs[-2:]):
            time.sleep(0.05)
        time.sleep(rnd.uniform(0.05, 0.6))
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert not err.strip(), err
    api.reset()
    r = ok(action="find", automation="dataset", with_meta=True)
    assert not r.get("warnings"), r["warnings"]
    found = {e["name"]: e for e in r["list"]}
    folder = os.path.join(str(home), "repos", "local", "dataset")
    assert sorted(found) == sorted(n for n in os.listdir(folder) if not n.startswith("."))
    assert len({e["uid"] for e in found.values()}) == len(found)
    finished = 0
    for prefix, log in logs:
        before, after = _replay(log)
        have = {name: {k for k in e["meta"] if k.startswith("k")}
                for name, e in found.items() if name.split("-")[0] == prefix}
        assert have in (before, after), (prefix, have, before, after)
        finished += len(before)
    assert finished > 0
    for e in list(found.values())[::5]:
        assert ok(action="load", automation="dataset", artifact=e["name"])["uid"] == e["uid"]
