"""Running MLCommons' submission checker on a submission tree.

The checker is ``tools/submission/submission_checker`` of the MLCommons inference sources,
installed from the package entry ``mlperf-inference-src`` (a git checkout pinned by commit,
through the same rules as every package) or taken from a checkout the user names
(``source``). It runs with cknowledge's own interpreter (it needs only PyYAML), writes its
summary CSV, and exits 0 when "submission looks OK". :func:`run_checker` returns its
verdict, its error lines and the CSV rows; a tree it rejects is a result, not an exception
(``ok`` is False), so that every reason can be read.
"""

from __future__ import annotations

import csv
import os
import re
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from .. import proc
from ..errors import CommandFailed, InvalidInput, NotFound
from .submission import DIVISIONS, VERSION

_ERROR = re.compile(r"^(?:\[[^\]]* ERROR\]|ERROR:[^:]*:)\s*(.*)$")
_GENERIC = ("Some ", "NoResults ", "SUMMARY:")
PACKAGE_TAGS = "mlperf,inference-src,submission-checker"
SOURCE_VAR = "CK_MLPERF_INFERENCE_SRC"
# the checker's own switches, named without their dashes (all off for an official run)
SKIPS = {"compliance": "--skip_compliance",
         "dataset-size-check": "--skip-dataset-size-check",
         "meaningful-fields-emptiness-check": "--skip-meaningful-fields-emptiness-check",
         "empty-files-check": "--skip-empty-files-check",
         "calibration-check": "--skip-calibration-check",
         "power-check": "--skip-power-check",
         "all-systems-have-results-check": "--skip-all-systems-have-results-check"}


def entry_point(source: str) -> list[str]:
    """The checker's command line under ``source`` (the package layout of recent rounds,
    else the single script of older ones)."""
    package = os.path.join(source, "tools", "submission", "submission_checker", "main.py")
    if os.path.isfile(package):
        return [package]
    script = os.path.join(source, "tools", "submission", "submission_checker.py")
    if os.path.isfile(script):
        return [script]
    raise NotFound(f"{source} holds no tools/submission/submission_checker: name a checkout "
                   "of the MLCommons inference sources")


def install_source(kernel: Any, on_line: Callable[[str], None] | None) -> str:
    """The inference sources from the package entry (installed once, then cached)."""
    from ..workflow import run

    result = run(kernel, "package", None, PACKAGE_TAGS, None, {}, None, on_line=on_line)
    source = (result.get("new_env") or {}).get(SOURCE_VAR)
    if not source or not os.path.isdir(str(source)):
        raise NotFound(f"the package {PACKAGE_TAGS} exported no {SOURCE_VAR}; reinstall it "
                       f"(`ck rm cache --tags={PACKAGE_TAGS}`)")
    return str(source)


def _check_tree(folder: str) -> str:
    root = os.path.abspath(folder)
    if not os.path.isdir(root):
        raise NotFound(f"the submission folder {folder} does not exist: build it with `ck "
                       "submission solution:NAME --output=DIR`")
    if not any(os.path.isdir(os.path.join(root, d)) for d in DIVISIONS):
        raise InvalidInput(f"{folder} is not a submission tree: it has none of "
                           f"{', '.join(DIVISIONS)}/ (give the folder `ck submission` wrote)")
    return root


def run_checker(kernel: Any, folder: str, version: str = VERSION,
                source: str | None = None, skip: list[str] | None = None,
                csv_path: str | None = None, timeout: float | None = 1800,
                on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the checker on ``folder``; return its verdict, errors and summary rows."""
    root = _check_tree(folder)
    if not re.fullmatch(r"v\d+\.\d+", version):
        raise InvalidInput(f"--version={version!r} is not an MLPerf round: use e.g. {VERSION}")
    if csv_path is not None and ("\x00" in csv_path or not os.path.isdir(
            os.path.dirname(os.path.abspath(csv_path)) if "\x00" not in csv_path else "")):
        raise InvalidInput(f"--csv={csv_path!r}: its folder does not exist; name a file in an "
                           "existing folder")
    unknown = [s for s in skip or [] if s not in SKIPS]
    if unknown:
        raise InvalidInput(f"the checker has no switch to skip {', '.join(unknown)}: "
                           f"use {', '.join(SKIPS)}")
    if source is not None and not os.path.isdir(source):
        raise NotFound(f"--source={source} is not a folder: name a checkout of the MLCommons "
                       "inference sources, or leave it out to use the package")
    src = os.path.abspath(source) if source else install_source(kernel, on_line)
    script = entry_point(src)
    work = tempfile.mkdtemp(prefix="ck-checker-")
    summary = os.path.abspath(csv_path) if csv_path else os.path.join(work, "summary.csv")
    argv = [sys.executable, "-I", *script, "--input", root, "--version", version,
            "--csv", summary, *[SKIPS[s] for s in skip or []]]
    lines: list[str] = []

    def keep(line: str) -> None:
        lines.append(line.rstrip("\n"))

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    status = 0
    try:
        proc.run(argv, cwd=work, env=env, timeout=timeout, on_line=keep,
                 what="the MLPerf submission checker")
    except CommandFailed as exc:
        if exc.details.get("timeout") is not None or not lines:
            raise
        status = 1
    errors = problems(lines, root)
    verdict = next((line.split("SUMMARY:", 1)[1].strip() for line in reversed(lines)
                    if "SUMMARY:" in line), None)
    if verdict is None:
        tail = " | ".join(lines[-3:])
        raise CommandFailed(f"the MLPerf submission checker ({script[0]}) ended without its "
                            f"SUMMARY line (exit {status}); last output: {tail}",
                            output=lines[-50:])
    rows = _rows(summary)
    return {"folder": root, "ok": status == 0 and verdict == "submission looks OK",
            "verdict": verdict, "errors": errors, "summary_csv": summary if rows or
            os.path.isfile(summary) else None, "rows": rows, "version": version,
            "checker": script[0], "command": proc.command_text(argv), "skipped": skip or [],
            "output": lines}


def problems(lines: list[str], root: str) -> list[str]:
    """The checker's own error messages (paths shown inside the tree), without its
    per-check and closing summaries, each once."""
    found: list[str] = []
    for line in lines:
        match = _ERROR.match(line.strip())
        if not match or match.group(1).startswith(_GENERIC):
            continue
        message = match.group(1).replace(root + os.sep, "")
        if message not in found:
            found.append(message)
    return found


def refuse(result: dict[str, Any]) -> None:
    """Raise when the checker rejected the tree: one line with its reasons."""
    if result["ok"]:
        return
    reasons = "; ".join(result["errors"][:10]) or "see its output (--json)"
    more = f" (and {len(result['errors']) - 10} more)" if len(result["errors"]) > 10 else ""
    if any("does not cover all dataset" in e for e in result["errors"]) and \
            "dataset-size-check" not in result["skipped"]:
        more += (" (an open submission measured on another dataset than the benchmark's: "
                 "--skip=dataset-size-check passes the checker's switch for it)")
    raise CommandFailed(f"MLCommons' submission checker ({result['version']}) rejects "
                        f"{result['folder']}: {result['verdict']}: {reasons}{more}",
                        result=result)


def _rows(path: str) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except OSError:
        return []


def text(result: dict[str, Any]) -> str:
    lines = [f"MLPerf submission checker ({result['version']}): {result['verdict']}"]
    for row in result["rows"]:
        lines.append(f"  {row.get('Division')}/{row.get('Organization')} "
                     f"{row.get('SystemName') or row.get('Platform')} {row.get('Model')} "
                     f"({row.get('MlperfModel')}) {row.get('Scenario')}: "
                     f"{row.get('Result')} {row.get('Units')}, accuracy {row.get('Accuracy')}")
    for line in result["errors"][:40]:
        lines.append("  " + line)
    if len(result["errors"]) > 40:
        lines.append(f"  ... {len(result['errors']) - 40} more error lines (--json has all)")
    if result["skipped"]:
        lines.append(f"skipped on request: {', '.join(result['skipped'])}")
    if result.get("summary_csv"):
        lines.append(f"summary CSV: {result['summary_csv']}")
    return "\n".join(lines)
