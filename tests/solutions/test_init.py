"""`ck init solution:X` through the real workflow engine, on a small local solution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

SOLUTION = {
    "alias": "tiny", "uid": "00000000000000a1", "tags": ["solution", "tiny"],
    "python": ">=3.8",
    "inputs": {"backend": {"choices": ["one", "two"], "default": "one"}},
    "prepare": [
        {"name": "first", "tags": "tiny-step,first"},
        {"name": "second", "tags": "tiny-step,second", "when": {"backend": ["two"]}},
    ],
    "run": {"harness": "mlperf-loadgen", "python": {"step": "first", "var": "CK_TINY_FIRST"},
            "model": {"one": {"step": "first", "var": "CK_TINY_FIRST"},
                      "two": {"step": "second", "var": "CK_TINY_SECOND"}},
            "dataset": {"step": "first", "var": "CK_TINY_FIRST"}, "model_name": "tiny"},
    "scoreboard": "tiny",
    "metrics": [{"name": "qps"}],
}


def write(root: Path, kind: str, name: str, meta: dict[str, Any], run_sh: str | None = None
          ) -> None:
    folder = root / kind / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    if run_sh is not None:
        (folder / "run.sh").write_text(run_sh)


@pytest.fixture
def tiny(home: Path, ckj: Any) -> Path:
    ckj("list", "repo")  # creates the home and its local repo
    root = home / "repos" / "local"
    write(root, "solution", "tiny", SOLUTION)
    write(root, "script", "tiny-first", {
        "alias": "tiny-first", "uid": "00000000000000b1", "tags": ["tiny-step", "first"],
        "cache": True}, 'echo "CK_TINY_FIRST=$PWD/first.txt" >> "$CK_ENV_OUT"; '
                        'echo made > first.txt; echo first step ran\n')
    write(root, "script", "tiny-second", {
        "alias": "tiny-second", "uid": "00000000000000b2", "tags": ["tiny-step", "second"],
        "cache": True}, 'echo "CK_TINY_SECOND=$PWD" >> "$CK_ENV_OUT"\n')
    return root


@pytest.mark.builtin
def test_init_prepares_every_step_then_finds_them_cached(tiny: Path, ck: Any) -> None:
    rc, out, err = ck("init", "solution:tiny", "--json")
    assert rc == 0, err
    first = json.loads(out)
    assert [s["step"] for s in first["steps"]] == ["first", "second"]
    assert not any(s["cached"] for s in first["steps"])
    assert first["python"]["version"]
    assert "first step ran" in err   # progress goes to stderr, JSON stays clean
    made = Path(first["steps"][0]["path"]) / "first.txt"
    assert made.read_text() == "made\n"
    rc, out, err = ck("init", "solution:tiny", "--json")
    again = json.loads(out)
    assert all(s["cached"] for s in again["steps"])
    assert "first step ran" not in err
    rc, out, err = ck("init", "solution:tiny")
    assert rc == 0 and "ready (2 steps" in out and "cached" in out


@pytest.mark.builtin
def test_init_for_one_backend_skips_the_others_steps(tiny: Path, ckj: Any) -> None:
    got = ckj("init", "solution:tiny", "--backend=one")
    assert [s["step"] for s in got["steps"]] == ["first"]


@pytest.mark.builtin
def test_a_failing_step_is_named(tiny: Path, ck: Any) -> None:
    (tiny / "script" / "tiny-first" / "run.sh").write_text("echo broken >&2; exit 3\n")
    rc, out, err = ck("init", "solution:tiny")
    assert rc == 14
    assert "ck: error: solution:tiny: step 'first' (script --tags=tiny-step,first) failed:" in err
    rc, out, err = ck("init", "solution:nope")
    assert rc == 16 and "nope" in err
    rc, out, err = ck("init", "solution")
    assert rc == 2 and "name the solution" in err


@pytest.mark.builtin
def test_a_python_outside_the_range_stops_init(tiny: Path, ck: Any) -> None:
    meta = dict(SOLUTION, python=">=9.0")
    write(tiny, "solution", "tiny", meta)
    rc, out, err = ck("init", "solution:tiny")
    assert rc == 18
    assert "needs Python >=9.0" in err and "found outside it" in err


@pytest.mark.builtin
def test_cb_init_is_ck_init_solution(tiny: Path, home: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import SRC

    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC)
    proc = subprocess.run([sys.executable, "-c", "import sys; from cknowledge.cli.main import "
                           "cb_main; sys.exit(cb_main(['init', 'tiny', '--json']))"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["solution"] == "tiny"
