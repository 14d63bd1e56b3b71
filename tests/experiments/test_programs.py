"""Benchmarks of the built-in C programs: record, compare, replay with drift, the CLI."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.conftest import access, ok

pytestmark = [pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"),
              pytest.mark.builtin]

SMALL = {"dataset": "cbench-n-small"}


def _bench(**kw: object) -> dict:
    return ok(action="benchmark", automation="program", artifact="cbench-crc32", **SMALL, **kw)


def test_a_recorded_benchmark_holds_every_section(home, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CK_RAPL_DIR", str(tmp_path / "no-rapl"))
    r = _bench(repetitions=3, warmup=1, record=True, name="crc")
    assert r["experiment"]["name"] == "crc" and r["experiment"]["repo"] == "local"
    meta = ok(action="load", automation="experiment", artifact="crc")["meta"]
    assert meta["kind"] == "benchmark"
    assert meta["component"] == {"automation": "program", "name": "cbench-crc32",
                                 "uid": "8a3f5c2e7d914b06", "repo": "builtin"}
    assert meta["inputs"]["repetitions"] == 3 and meta["inputs"]["warmup"] == 1
    assert meta["inputs"]["dataset"] == "cbench-n-small"
    time_m = meta["metrics"]["time"]
    assert len(time_m["samples"]) == 3 and time_m["stats"]["n"] == 3 and time_m["unit"] == "s"
    assert time_m["stats"]["ci95"] is not None and isinstance(time_m["stats"]["noisy"], bool)
    assert meta["metrics"]["size"]["samples"][0] > 0 and meta["metrics"]["size"]["stats"]["n"] == 1
    assert len(meta["details"]["warmup_time_s"]) == 1
    gcc = [n for n in meta["lock"]["nodes"] if n["kind"] == "soft"]
    assert gcc and gcc[0]["name"] == "compiler-gcc" and gcc[0]["version"]
    assert meta["lock"]["nodes"][-1]["name"] == "cbench-crc32"
    assert meta["platform"]["fingerprint"] and meta["platform"]["cpu"]["logical_cores"]
    assert meta["env"]["CK_HOME"] == str(home) and "PATH" in meta["env"]
    assert meta["step_env"]["CK_OPT"] == "-O2"
    assert set(meta["git"]) == {"builtin"} and meta["git"]["builtin"]["path"]
    assert meta["energy"].startswith("unavailable: no RAPL counters")
    assert meta["noisy_cv"] == 0.05 and meta["created"]
    # not recorded: statistics only, no entry
    plain = _bench(repetitions=2, warmup=0)
    assert plain["experiment"] is None and plain["metrics"]["time"]["stats"]["n"] == 2
    assert [e["name"] for e in ok(action="find", automation="experiment")["list"]] == ["crc"]


def test_compare_two_optimisation_levels(home) -> None:
    _bench(opt="-O0", repetitions=3, warmup=0, record=True, name="o0")
    _bench(opt="-O3", repetitions=3, warmup=0, record=True, name="o3")
    r = ok(action="compare", automation="experiment", artifact="o0", target="o3")
    t = r["metrics"]["time"]
    assert t["t"] is not None and isinstance(t["significant"], bool) and t["a"]["n"] == 3
    whats = {d["what"]: (d["recorded"], d["now"]) for d in r["environment"]}
    assert whats["inputs.opt"] == ("-O0", "-O3")
    assert whats["step_env.CK_OPT"] == ("-O0", "-O3")
    assert "lock.program:cbench-crc32.parts.env" in whats
    assert not any(w.startswith(("platform.", "lock.soft:")) for w in whats)


def test_replay_reports_a_changed_env_var(home, monkeypatch) -> None:
    monkeypatch.setenv("CK_BENCH_NOTE", "tuned")
    _bench(repetitions=2, warmup=0, record=True, name="e")
    monkeypatch.delenv("CK_BENCH_NOTE")
    r = ok(action="replay", automation="experiment", artifact="e")
    assert r["lock"] == "reproduced"
    assert r["drift"] == [{"what": "env.CK_BENCH_NOTE", "recorded": "tuned", "now": None}]
    assert r["metrics"]["size"]["agree"] is True and isinstance(r["agree"], bool)
    assert len(r["metrics_now"]["time"]["samples"]) == 2


def test_replay_reports_a_changed_compiler_version(home) -> None:
    _bench(repetitions=2, warmup=0, record=True, name="e")
    entry = ok(action="load", automation="experiment", artifact="e")
    lock = entry["meta"]["lock"]
    gcc = next(n for n in lock["nodes"] if n["name"] == "compiler-gcc")
    now_version = gcc["version"]
    gcc["version"] = "11.4.0"                       # as if recorded on a machine with gcc 11
    ok(action="update", automation="experiment", artifact="e", meta={"lock": lock})
    r = ok(action="replay", automation="experiment", artifact="e")
    assert r["lock"].startswith("not reproducible") and "11.4.0" in r["lock"]
    assert {"what": "lock.soft:compiler-gcc.version", "recorded": "11.4.0",
            "now": now_version} in r["drift"]
    assert f"lock.soft:compiler-gcc.version: 11.4.0 → {now_version}" in r["text"]
    assert len(r["metrics_now"]["time"]["samples"]) == 2     # it ran on what is here


def test_the_cli_benchmarks_records_and_shows(ck, ckj, home) -> None:
    out = ckj("benchmark", "program:cbench-crc32", "--repetitions=2", "--warmup=0", "--record",
              "--name=cli")
    assert out["experiment"]["name"] == "cli" and out["metrics"]["time"]["stats"]["n"] == 2
    shown = ckj("show", "experiment:cli")
    assert "95% CI" in shown["text"] and "cbench-crc32" in shown["text"]
    rc, _, err = ck("benchmark", "program:cbench-crc32", "--repetitions=0")
    assert rc == 2 and "--repetitions must be at least 1" in err
    rc, _, err = ck("replay", "experiment:nope")
    assert rc == 16 and "nope" in err
    rc, out_text, err = ck("export", "experiment:cli", "--format=json", "--file",
                           os.path.join(str(home), "cli.json"))
    assert rc == 0, err
    rows = json.loads(open(os.path.join(str(home), "cli.json")).read())
    assert [r["metric"] for r in rows] == ["time", "time", "size"]


def test_benchmark_without_a_program_name_is_an_error(home) -> None:
    r = access(action="benchmark", automation="program")
    assert r["return"] == 2 and "ck benchmark program:NAME" in r["error"]
