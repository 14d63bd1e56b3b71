"""MLPerf compliance tests through the real LoadGen: TEST01 and TEST04.

A test reruns the recorded run's own runner command in performance mode with the test's
official ``audit.config`` (from the MLCommons inference sources, ``compliance/TESTxx``)
in LoadGen's working folder, then runs the test's official ``run_verification.py`` against
the run's results (performance/run_1 and the whole accuracy log). What it writes lands in
the run folder under ``compliance/`` (run once, reused by every rebuild of a submission)
and is copied into the tree as ``results/<system>/<model>/<scenario>/TESTxx``.

TEST01 (accuracy in a performance run: LoadGen logs a sample of the responses, which must
match the accuracy run's) applies to the object-detection benchmark of the round; TEST04
(caching) to the benchmarks the checker lists for it. The checker requires them in the
closed division only; the open division may carry them.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from typing import Any

from .. import proc
from ..errors import CommandFailed, InvalidInput, NotFound
from . import runs as runlib

TESTS = ("TEST01", "TEST04")
CONF_MODEL = "yolo"  # the benchmark's name in the compliance folders and mlperf.conf


def audit_config(source: str, test: str) -> str:
    folder = os.path.join(source, "compliance", test)
    for path in (os.path.join(folder, CONF_MODEL, "audit.config"),
                 os.path.join(folder, "audit.config")):
        if os.path.isfile(path):
            return path
    raise NotFound(f"the inference sources {source} have no audit.config for {test} "
                   f"({folder}/{CONF_MODEL}/audit.config)")


def _runner_argv(run: runlib.Run, output: str, audit: str) -> list[str]:
    command = str((run.modes.get("performance") or {}).get("command") or "")
    argv = shlex.split(command)
    if "--output" not in argv or "--mode" not in argv:
        raise InvalidInput(f"experiment:{run.experiment} recorded no runner command to rerun "
                           f"for a compliance test; record the run again")
    argv[argv.index("--output") + 1] = output
    argv[argv.index("--mode") + 1] = "performance"
    return argv + ["--audit-config", audit]


def _results_dir(run: runlib.Run, work: str) -> str:
    """The run's results as run_verification.py reads them: performance/run_1 and the
    whole (not truncated) accuracy log."""
    base = os.path.join(work, "results")
    os.makedirs(os.path.join(base, "performance", "run_1"), exist_ok=True)
    os.makedirs(os.path.join(base, "accuracy"), exist_ok=True)
    for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt"):
        shutil.copyfile(os.path.join(run.raw("performance"), name),
                        os.path.join(base, "performance", "run_1", name))
    shutil.copyfile(os.path.join(run.raw("accuracy"), "mlperf_log_accuracy.json"),
                    os.path.join(base, "accuracy", "mlperf_log_accuracy.json"))
    return base


def run_test(run: runlib.Run, test: str, source: str,
             on_line: Callable[[str], None] | None = None) -> str:
    """The folder ``TESTxx`` of ``run`` (made now, or by an earlier call) with what the
    verification wrote: verify_performance.txt, verify_accuracy.txt (TEST01),
    performance/run_1/ and accuracy/."""
    if test not in TESTS:
        raise InvalidInput(f"unknown compliance test {test!r}: use {', '.join(TESTS)}")
    done = os.path.join(run.folder, "compliance", test)
    if _concluded(os.path.join(done, "verify_performance.txt")):
        return done
    work = os.path.join(run.folder, "compliance", f".{test}-work")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    audit = audit_config(source, test)
    argv = _runner_argv(run, os.path.join(work, "run"), audit)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    what = f"the {test} compliance run of experiment:{run.experiment}"
    proc.run(argv, env=env, on_line=on_line, what=what)
    verify = os.path.join(source, "compliance", test, "run_verification.py")
    if not os.path.isfile(verify):
        raise NotFound(f"{verify} is missing from the inference sources")
    args = [argv[0], verify, "-r", _results_dir(run, work), "-c", os.path.join(work, "run"),
            "-o", os.path.join(work, "out")]
    if test == "TEST01":
        args += ["--dtype", "float32"]
    try:
        proc.run(args, cwd=work, env=env, on_line=on_line,
                 what=f"{test}'s run_verification.py")
    except CommandFailed as exc:
        raise CommandFailed(f"{what}: the verification failed: {exc.message}",
                            **exc.details) from None
    produced = os.path.join(work, "out", test)
    for name in ("verify_performance.txt",) + (("verify_accuracy.txt",)
                                               if test == "TEST01" else ()):
        if not _concluded(os.path.join(produced, name)):
            raise CommandFailed(f"{what}: run_verification.py came to no TEST PASS or TEST "
                                f"FAIL in {name} (see {work})")
    shutil.rmtree(done, ignore_errors=True)
    os.replace(produced, done)
    shutil.rmtree(work, ignore_errors=True)
    return done


def _concluded(path: str) -> bool:
    """Whether a verification file states its verdict (a crashed script's does not)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    return "TEST PASS" in text or "TEST FAIL" in text


def verdict(folder: str) -> dict[str, Any]:
    """TEST PASS or not, per verification file of a test folder."""
    found = {}
    for name in ("verify_accuracy.txt", "verify_performance.txt"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as fh:
                found[name] = "TEST PASS" in fh.read()
    return found
