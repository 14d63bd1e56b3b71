"""The C program workflow end to end, with the real gcc."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import access, ok

pytestmark = [pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc"), pytest.mark.builtin]


@pytest.mark.parametrize("program", ["cbench-matmul", "cbench-crc32", "cbench-qsort"])
def test_builtin_programs_compile_run_and_validate(home, program) -> None:
    r = ok(action="run", automation="program", artifact=program, opt="-O1",
           dataset="cbench-n-small")
    assert r["valid"] is True and r["dataset"] == "cbench-n-small"
    assert r["binary_size"] == os.path.getsize(r["binary"]) > 0
    assert r["deps"]["compiler,gcc"]["kind"] == "soft"
    assert r["compile_cached"] is False and r["time_s"] > 0


def test_build_is_cached_by_flags_and_the_output_is_checked(home) -> None:
    first = ok(action="run", automation="program", artifact="cbench-crc32", opt="-O2")
    again = ok(action="run", automation="program", artifact="cbench-crc32", opt="-O2")
    assert again["compile_cached"] is True and again["key"] == first["key"]
    other = ok(action="run", automation="program", artifact="cbench-crc32", opt="-O2",
               flags="-funroll-loops", repetitions=3)
    assert other["key"] != first["key"] and other["compile_cached"] is False
    assert len(other["times_s"]) == 3 and other["valid"] is True
    # a wrong reference output is an error that names both outputs
    reference = os.path.join(home, "refs")
    os.makedirs(os.path.join(home, "repos", "local", "program"), exist_ok=True)
    copy = ok(action="cp", automation="program", artifact="cbench-crc32", target="local:crc-copy")
    with open(os.path.join(copy["path"], "reference", "cbench-n-small.txt"), "w") as fh:
        fh.write("crc32 bytes=1 crc=00000000\n")
    bad = access(action="run", automation="program", artifact="crc-copy")
    assert bad["return"] == 14 and "differs from" in bad["error"] and "crc=00000000" in bad["error"]
    assert not os.path.exists(reference)


def test_a_compile_error_is_reported_and_leaves_no_cache_entry(home) -> None:
    copy = ok(action="cp", automation="program", artifact="cbench-matmul", target="local:broken")
    with open(os.path.join(copy["path"], "matmul.c"), "a") as fh:
        fh.write("\nthis is not C;\n")
    r = access(action="run", automation="program", artifact="broken")
    assert r["return"] == 14 and "compile" in r["error"] and "exit status 1" in r["error"]
    assert ok(action="show", automation="cache", tags="matmul")["list"] == []


def test_the_cli_prints_a_summary_line(ck) -> None:
    rc, out, err = ck("run", "program:cbench-qsort", "--opt=-O0", "--dataset=cbench-n-small")
    assert rc == 0, err
    assert out.startswith("program:cbench-qsort on cbench-n-small: output valid;")
    rc, out, err = ck("compile", "program:cbench-qsort", "--opt=-O0", "--dry-run")
    assert rc == 0 and "[cached]" in out and "soft:compiler-gcc" in out
