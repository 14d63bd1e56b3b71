"""Several processes writing at once lose nothing and leave no debris."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from cknowledge import api
from cknowledge.store.metaio import find_meta_file, read_meta
from tests.conftest import SRC, ok

ADDER = textwrap.dedent("""
    import sys, cknowledge
    worker, count = int(sys.argv[1]), int(sys.argv[2])
    for i in range(count):
        r = cknowledge.access({"action": "add", "automation": "dataset",
                               "artifact": f"w{worker}-{i:04d}",
                               "tags": f"bulk,worker{worker}", "meta": {"i": i}})
        if r["return"]:
            print(r, file=sys.stderr); sys.exit(1)
""")

UPDATER = textwrap.dedent("""
    import sys, cknowledge
    worker, count = int(sys.argv[1]), int(sys.argv[2])
    for i in range(count):
        r = cknowledge.access({"action": "update", "automation": "dataset",
                               "artifact": "shared", "meta": {f"w{worker}_{i}": i,
                               "nested": {f"w{worker}_{i}": True}}})
        if r["return"]:
            print(r, file=sys.stderr); sys.exit(1)
""")


def _spawn(home, script: str, worker: int, count: int) -> subprocess.Popen:
    env = dict(os.environ, CK_HOME=str(home),
               PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", script, str(worker), str(count)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run_all(home, script: str, workers: int, count: int) -> None:
    procs = [_spawn(home, script, w, count) for w in range(workers)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err


def _stray(root: str) -> list[str]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        out.extend(os.path.join(dirpath, n) for n in dirs + files
                   if n.startswith(".tmp") or os.path.basename(dirpath) == ".staging")
    return out


def test_concurrent_adds_lose_nothing(home) -> None:
    _run_all(home, ADDER, 4, 250)
    api.reset()
    found = ok(action="find", automation="dataset", tags="bulk")["list"]
    assert len(found) == 1000
    assert len({e["uid"] for e in found}) == 1000
    for w in range(4):
        assert len(ok(action="find", automation="dataset", tags=f"worker{w}")["list"]) == 250
    for e in found[::97]:
        loaded = ok(action="load", automation="dataset", artifact=e["name"])
        assert loaded["uid"] == e["uid"] and loaded["meta"]["i"] == int(e["name"][-4:])
    folder = os.path.join(str(home), "repos", "local", "dataset")
    assert len([n for n in os.listdir(folder) if not n.startswith(".")]) == 1000  # no hidden work folders counted
    assert _stray(str(home)) == []
    # a fresh process agrees with this one
    from tests.conftest import run_ck

    rc, out, err = run_ck(home, "find", "dataset", "--tags=bulk,worker3", "--json")
    assert rc == 0, err
    import json

    assert len(json.loads(out)["list"]) == 250


def test_concurrent_updates_of_one_entry_lose_no_key(home) -> None:
    e = ok(action="add", automation="dataset", artifact="shared", tags="s")
    api.reset()
    workers, count = 4, 12
    _run_all(home, UPDATER, workers, count)
    api.reset()
    meta = ok(action="load", automation="dataset", artifact="shared")["meta"]
    want = {f"w{w}_{i}" for w in range(workers) for i in range(count)}
    assert want <= set(meta), sorted(want - set(meta))
    assert want <= set(meta["nested"]), sorted(want - set(meta["nested"]))
    on_disk = read_meta(find_meta_file(e["path"]))
    assert want <= set(on_disk)
    assert on_disk["uid"] == e["uid"]
    assert _stray(str(home)) == []
