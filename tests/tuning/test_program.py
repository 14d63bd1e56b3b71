"""Autotuning and reducing the flags of the built-in C kernels with the real gcc."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from cknowledge.tuning.program import reduce_flags
from cknowledge.tuning.space import Objective
from tests.conftest import access, ok

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.mark.builtin
@needs_gcc
def test_autotune_cbench_crc32_end_to_end(ck) -> None:
    rc, out, err = ck("autotune", "program:cbench-crc32", "--strategy=random", "--budget=3",
                      "--repetitions=2", "--name=e2e", "--json")
    assert rc == 0, err
    r = json.loads(out)
    assert r["trials"]["count"] == 3 and r["trials"]["failed"] == 0
    assert r["objectives"] == ["time:min", "size:min"]           # from the shipped space.yaml
    assert r["front"] and r["hypervolume"] is not None and r["hypervolume"] > 0
    for point in r["front"]:
        assert point["objectives"]["time"]["mean"] > 0
        assert point["objectives"]["size"]["ci95_half"] is None
        assert point["info"]["opt"] in ("-O0", "-O1", "-O2", "-O3", "-Os")
    assert "Pareto front" in r["table"] and "time (s, min)" in r["table"]
    assert os.path.getsize(r["png"]) > 1000
    with open(r["png"], "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(r["html"], encoding="utf-8") as fh:
        html = fh.read()
    assert "Plotly.newPlot" in html and "plotly.js" in html and "<script src=\"http" not in html
    assert "trial 1/3 ok: time=" in err                          # progress on stderr
    assert os.path.dirname(r["png"]) == r["experiment"]["path"]
    meta = ok(action="load", automation="experiment", artifact="e2e")["meta"]
    assert meta["status"] == "done" and meta["program"] == "program:cbench-crc32"
    assert meta["repetitions"] == 2


@pytest.mark.builtin
@needs_gcc
def test_a_flag_gcc_rejects_fails_its_trials_only(home, tmp_path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("choices:\n"
                     "  opt: {values: [-O1, -O2]}\n"
                     "  bogus: {type: flag, flag: -fno-such-gcc-flag}\n")
    r = ok(action="autotune", automation="program", artifact="cbench-qsort", space=str(space),
           strategy="grid", budget=10, repetitions=2, objectives="time", name="bogus")
    assert r["trials"] == {"count": 4, "ok": 2, "failed": 2, "infeasible": 0, "new": 4, "resumed": 0}
    from cknowledge.tuning.record import read_trials

    failed = [t for t in read_trials(r["experiment"]["trials"]) if t["status"] == "failed"]
    assert all(t["config"]["bogus"] is True for t in failed)
    assert all("-fno-such-gcc-flag" in t["reason"] for t in failed)
    assert all(p["config"]["bogus"] is False for p in r["front"])


@pytest.mark.builtin
def test_wrong_inputs_fail_before_anything_is_built(ck, home) -> None:
    for args, words in [
        (["--objectives=time:min,sise:min"], ["'sise'", "valid: time, size"]),
        (["--objectives=time:fast"], ["valid: min, max"]),
        (["--strategy=nsga"], ["'nsga'", "nsga2"]),
        (["--fixed.optt=-O2"], ["'optt'", "did you mean: opt"]),
        (["--fixed.opt=-O7"], ["'-O7'", "-O3"]),
        (["--backend=slurm"], ["local, ray"]),
        (["--dataset=no-such-input"], ["no-such-input"]),
    ]:
        rc, out, err = ck("autotune", "program:cbench-crc32", "--budget=2", *args)
        assert rc in (2, 16), (args, rc, err)
        for word in words:
            assert word in err, (args, err)
    rc, out, err = ck("autotune", "program:no-such-program")
    assert rc == 16
    assert ok(action="show", automation="cache")["list"] == []
    assert ok(action="find", automation="experiment")["list"] == []


def test_reduce_flags_keeps_only_what_matters() -> None:
    # time depends on -fa only; every flag adds 10 bytes
    def measure(text: str) -> dict[str, list[float]]:
        flags = text.split()
        base = 1.0 if "-fa" in flags else 2.0
        return {"time": [base * 0.99, base, base * 1.01], "size": [100.0 + 10 * len(flags)]}

    r = reduce_flags(measure, ["-fa", "-fb", "-fc"], Objective("time", "min"))
    assert r["kept"] == ["-fa"] and r["removed"] == ["-fb", "-fc"] and r["flags"] == "-fa"
    assert r["final"]["mean"] == pytest.approx(1.0)
    assert [s["flag"] for s in r["steps"]][:3] == ["-fa", "-fb", "-fc"]
    r = reduce_flags(measure, ["-fa", "-fb", "-fc"], Objective("size", "min"))
    assert r["kept"] == [] and r["flags"] == ""

    # noise: a removal that is worse but within the noise is taken
    def noisy(text: str) -> dict[str, list[float]]:
        base = 1.0 if "-fa" in text.split() else 1.02
        return {"time": [base - 0.1, base, base + 0.1]}

    assert reduce_flags(noisy, ["-fa"], Objective("time", "min"))["kept"] == []


@pytest.mark.builtin
@needs_gcc
def test_ck_reduce_on_a_real_program(home) -> None:
    r = ok(action="reduce", automation="program", artifact="cbench-matmul",
           flags="-O2 -fomit-frame-pointer",
           objective="size", repetitions=2)
    assert set(r["kept"]) | set(r["removed"]) == {"-O2", "-fomit-frame-pointer"}
    assert r["final"]["mean"] <= r["reference"]["mean"]
    assert r["evaluations"] >= 3
    bad = access(action="reduce", automation="program", artifact="cbench-matmul",
                 flags="-O2", objective="tim")
    assert bad["return"] == 2 and "valid: time, size" in bad["error"]
