"""Regressions found by trying the tool as a new user would."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import access, ok

pytestmark = [pytest.mark.builtin,
              pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")]


def test_a_bad_format_placeholder_is_refused_before_anything_runs(home, tmp_path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text('choices:\n  opt: {type: categorical, values: ["-O1"]}\n'
                     '  u: {type: int, low: 2, high: 4, format: "--param=x={valu}"}\n')
    r = access(action="autotune", automation="program", artifact="cbench-crc32",
               space=str(space), budget=1, name="bad")
    assert r["return"] == 2 and "the only placeholder is {value}" in r["error"]
    assert access(action="load", automation="experiment", artifact="bad")["return"] == 16


def test_unbalanced_quotes_in_flags_are_an_input_error(home) -> None:
    r = access(action="reduce", automation="program", artifact="cbench-crc32", flags='"-O3')
    assert r["return"] == 2 and "No closing quotation" in r["error"]
    r = access(action="run", automation="program", artifact="cbench-crc32", flags='"-O3')
    assert r["return"] == 2 and "No closing quotation" in r["error"]


def test_resume_refuses_another_program_or_settings(home) -> None:
    ok(action="autotune", automation="program", artifact="cbench-crc32", budget=1,
       repetitions=2, name="t", quiet=True)
    r = access(action="autotune", automation="program", artifact="cbench-qsort", budget=2,
               name="t", resume=True)
    assert r["return"] == 2 and "program" in r["error"]
    r = access(action="autotune", automation="program", artifact="cbench-crc32", budget=2,
               name="t", resume=True, repetitions=3)
    assert r["return"] == 2 and "repetitions" in r["error"]
    r = access(action="export", automation="experiment", artifact="t", format="csv")
    assert r["return"] == 2 and "no benchmark samples" in r["error"]


def test_a_run_where_every_trial_fails_is_an_error(home, tmp_path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text('choices:\n  opt: {type: categorical, values: ["-O1", "-O2"]}\n'
                     '  bogus: {type: flag, flag: "-fno-such-gcc-flag-at-all"}\n')
    r = access(action="autotune", automation="program", artifact="cbench-crc32",
               space=str(space), budget=2, name="allfail", fixed={"bogus": True},
               repetitions=2)
    assert r["return"] == 14 and "all 2 trials failed" in r["error"]
    assert "trials.jsonl" in r["error"]
