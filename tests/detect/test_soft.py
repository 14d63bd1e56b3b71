"""Software detection from mock executables described as data (mock_tools.yaml)."""

from __future__ import annotations

import json
import os
import sys
import time
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest

from cknowledge.detect.soft import Found, detect, parse_detector
from cknowledge.errors import InvalidInput, MetaError

from .conftest import builtin_entry

pytestmark = pytest.mark.builtin  # the shipped detectors

GCC = builtin_entry("compiler-gcc")


def versions(found: list[Found]) -> list[str]:
    return [f.version for f in found]


def test_versions_side_by_side_newest_first(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("side_by_side")
    found = detect(GCC, paths=tools.paths("usr", "opt"), home=str(tmp_path / "h"))
    assert versions(found) == ["12.2.0", "9.4.0"]
    newest = found[0]
    assert newest.name == "compiler-gcc"
    assert newest.path == os.path.join(tools.dirs["opt"], "gcc")
    assert newest.env == {"CK_CC": newest.path, "CK_GCC_BIN": newest.path,
                          "CK_GCC_BIN_DIR": tools.dirs["opt"], "CK_GCC_VERSION": "12.2.0"}
    assert newest.to_dict()["version"] == "12.2.0" and newest.to_dict()["env"] == newest.env
    # gcc-ar-12 does not match the gcc patterns: it never ran
    assert tools.calls(os.path.join(tools.dirs["opt"], "gcc-ar-12")) == 0


@pytest.mark.parametrize(("rng", "expected"), [
    (">=9,<12", ["9.4.0"]), (">=10", ["12.2.0"]), ("==12.*", ["12.2.0"]), ("<9", []),
    (None, ["12.2.0", "9.4.0"]),
])
def test_version_range_filters(mock_tools, tmp_path: Path, rng: str | None,
                               expected: list[str]) -> None:
    tools = mock_tools("side_by_side")
    found = detect(GCC, version=rng, paths=tools.paths("usr", "opt"), home=str(tmp_path / "h"))
    assert versions(found) == expected


def test_bad_range_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="version range"):
        detect(GCC, version=">=nine", paths=[], home=str(tmp_path))


def test_failing_candidate_is_skipped_with_a_note(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("broken")
    notes: list[str] = []
    found = detect(GCC, paths=tools.paths("usr", "opt"), home=str(tmp_path / "h"), notes=notes)
    assert versions(found) == ["13.2.1"]
    text = "\n".join(notes)
    assert "gcc-11" in text and "exit status 1" in text
    assert "no version in its output" in text and os.path.join(tools.dirs["opt"], "gcc") in text


def test_clang_pretending_to_be_gcc_is_rejected(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("clang_as_gcc")
    notes: list[str] = []
    found = detect(GCC, paths=tools.paths("xcode", "usr"), home=str(tmp_path / "h"), notes=notes)
    assert [(f.version, os.path.basename(f.path)) for f in found] == [("12.3.0", "gcc-12")]
    assert any("not compiler-gcc" in n and "xcode" in n for n in notes)


def test_symlinks_to_one_binary_are_reported_once(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("symlinks")
    usr = tools.dirs["usr"]
    found = detect(GCC, paths=[usr, tools.dirs["local"], usr], home=str(tmp_path / "h"))
    assert len(found) == 1
    assert found[0].path == os.path.join(usr, "gcc")          # the first name met on PATH
    assert found[0].real_path == os.path.join(usr, "gcc-12")
    assert tools.calls() == 1


def test_clang_detector(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("clang")
    found = detect(builtin_entry("compiler-clang"), paths=tools.paths("usr"),
                   home=str(tmp_path / "h"))
    assert versions(found) == ["14.0.0"] and found[0].env["CK_CLANG_VERSION"] == "14.0.0"


def test_results_are_registered_and_reused(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("reuse")
    home = str(tmp_path / "h")
    gcc = Path(tools.dirs["usr"]) / "gcc"
    assert versions(detect(GCC, paths=tools.paths("usr"), home=home)) == ["10.5.0"]
    assert tools.calls(str(gcc)) == 1
    stored = json.loads((Path(home) / "detect" / f"{GCC['uid']}.json").read_text())
    assert stored["results"][str(gcc)]["version"] == "10.5.0"
    # the same binary: the stored version is reused, the tool does not run
    assert versions(detect(GCC, paths=tools.paths("usr"), home=home)) == ["10.5.0"]
    assert tools.calls(str(gcc)) == 1
    # touched: it runs again
    later = time.time() + 10
    os.utime(gcc, (later, later))
    assert versions(detect(GCC, paths=tools.paths("usr"), home=home)) == ["10.5.0"]
    assert tools.calls(str(gcc)) == 2
    # replaced by another version: the new version is found
    tools.write(gcc, "gcc (GCC) 11.4.0")
    assert versions(detect(GCC, paths=tools.paths("usr"), home=home)) == ["11.4.0"]
    assert tools.calls(str(gcc)) == 3
    # an edited detector discards the stored results
    edited = json.loads(json.dumps(GCC))
    edited["meta"]["detect"]["env"] = {"CK_X": "{version}"}
    assert detect(edited, paths=tools.paths("usr"), home=home)[0].env == {"CK_X": "11.4.0"}
    assert tools.calls(str(gcc)) == 4


def test_hook_determine_version_and_candidates(mock_tools, tmp_path: Path) -> None:
    tools = mock_tools("reuse")
    entry_dir = tmp_path / "entry"
    entry_dir.mkdir()
    extra = tmp_path / "elsewhere" / "mytool"
    extra.parent.mkdir()
    extra.write_text("#!/bin/sh\nexit 0\n")
    extra.chmod(0o755)
    (entry_dir / "detect.py").write_text(
        "import os\n"
        f"def candidates():\n    return [{str(extra)!r}]\n"
        "def determine_version(path):\n"
        "    if os.path.basename(path) == 'gcc':\n        raise RuntimeError('boom')\n"
        "    return '7.1.' + str(len(os.path.basename(path)))\n")
    entry = {"name": "mytool", "uid": "00000000000000f1", "path": str(entry_dir),
             "meta": {"detect": {"executables": ["gcc"], "env": {"T": "{name}@{dir}"}}}}
    notes: list[str] = []
    found = detect(entry, paths=tools.paths("usr"), home=str(tmp_path / "h"), notes=notes)
    assert [(f.path, f.version) for f in found] == [(str(extra), "7.1.6")]
    assert found[0].env == {"T": f"mytool@{extra.parent}"}
    assert any("RuntimeError: boom" in n for n in notes)      # the hook's failure is isolated
    assert tools.calls() == 0                                  # the hook replaced version_args


@pytest.mark.parametrize(("section", "message"), [
    ({"executables": ["x"], "version_regex": "("}, "not a regular expression"),
    ({"executables": ["x"], "env": {"A": "{nope}"}}, "uses {nope}"),
    ({"executables": 3}, "must be a string or a list"),
    ({}, "needs 'executables' or 'python_package'"),
])
def test_malformed_detect_section(tmp_path: Path, section: dict[str, object], message: str) -> None:
    entry = {"name": "bad", "uid": "00000000000000f2", "path": str(tmp_path), "meta": {"detect": section}}
    with pytest.raises(MetaError, match=message.replace("{", r"\{").replace("(", r"\(")):
        parse_detector(entry)


def test_python_package_in_this_interpreter(tmp_path: Path) -> None:
    entry = {"name": "pytest-pkg", "uid": "00000000000000f3", "path": str(tmp_path),
             "meta": {"detect": {"python_package": ["pytest", "surely-not-installed-pkg"],
                                 "env": {"V": "{version}", "P": "{path}"}}}}
    home = str(tmp_path / "h")
    found = detect(entry, python=sys.executable, home=home)
    assert len(found) == 1
    assert found[0].version == dist_version("pytest") and found[0].package == "pytest"
    assert os.path.isdir(found[0].path) and os.path.basename(found[0].path) == "pytest"
    assert found[0].env == {"V": dist_version("pytest"), "P": found[0].path}
    assert detect(entry, version="<1", home=home) == []
