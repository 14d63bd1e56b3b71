"""`ck detect soft`: entries by tags or name, errors, the shipped detectors, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest
import yaml

from ..conftest import access, ok

pytestmark = pytest.mark.builtin  # the shipped detectors


def test_detect_by_tags_with_mock_paths(home, mock_tools) -> None:
    tools = mock_tools("side_by_side")
    r = ok(action="detect", automation="soft", tags="compiler,gcc",
           paths=tools.paths("usr", "opt"))
    assert [(f["name"], f["version"]) for f in r["list"]] == [
        ("compiler-gcc", "12.2.0"), ("compiler-gcc", "9.4.0")]
    assert r["list"][1]["env"]["CK_GCC_VERSION"] == "9.4.0"
    r = ok(action="detect", automation="soft", artifact="compiler-gcc", version=">=9,<12",
           paths=tools.paths("usr", "opt"))
    assert [f["version"] for f in r["list"]] == ["9.4.0"]


def test_nothing_installed_is_an_empty_list_with_a_message(home, tmp_path: Path) -> None:
    r = ok(action="detect", automation="soft", tags="gcc", paths=[str(tmp_path)])
    assert r["list"] == [] and "compiler-gcc" in r["message"]


def test_nothing_in_the_range_is_not_found_naming_what_is_outside(home, mock_tools,
                                                                   ck) -> None:
    tools = mock_tools("side_by_side")
    r = access(action="detect", automation="soft", tags="compiler,gcc", version=">=99",
               paths=tools.paths("usr", "opt"))
    assert r["return"] == 16
    assert "within '>=99'" in r["error"] and "12.2.0 at" in r["error"] \
        and "9.4.0 at" in r["error"]
    rc, out, err = ck("detect", "soft", "--tags=compiler,gcc", "--version=>=99",
                      f"--paths={','.join(tools.paths('usr', 'opt'))}")
    assert rc == 16 and out == "" and "found outside it: 12.2.0" in err
    assert len(err.strip().splitlines()) == 1
    r = access(action="detect", automation="soft", tags="gcc", version=">=99",
               paths=[str(home)])
    assert r["return"] == 16 and "nothing was found outside it either" in r["error"]


def test_no_matching_entry_is_not_found(home) -> None:
    r = access(action="detect", automation="soft", tags="no-such-tool")
    assert r["return"] == 16 and "no-such-tool" in r["error"]


def test_bad_version_range_is_invalid_input(home) -> None:
    r = access(action="detect", automation="soft", tags="gcc", version=">=9,<<14")
    assert r["return"] == 2 and "version range" in r["error"]


def test_bad_python_is_invalid_input(home, tmp_path: Path) -> None:
    r = access(action="detect", automation="soft", tags="numpy", python=str(tmp_path / "nope"))
    assert r["return"] == 2


def test_shipped_detectors_are_well_formed(home) -> None:
    found = ok(action="find", automation="soft", repo="builtin", with_meta=True)["list"]
    by_name = {e["name"]: e for e in found}
    assert {"compiler-gcc", "compiler-clang", "python", "cmake", "git", "numpy",
            "onnxruntime", "tensorflow"} <= set(by_name)
    assert set(by_name["compiler-gcc"]["tags"]) >= {"compiler", "gcc", "c", "cc"}
    assert "python-package" in by_name["tensorflow"]["tags"]
    from cknowledge.detect.soft import parse_detector

    for entry in by_name.values():
        assert len(entry["uid"]) == 16 and parse_detector(entry).name == entry["name"]
    assert len({e["uid"] for e in by_name.values()}) == len(by_name)


def test_python_package_entry_in_a_temp_repo(home, tmp_path: Path) -> None:
    entry = tmp_path / "myrepo" / "soft" / "pytest-pkg"
    entry.mkdir(parents=True)
    (entry / "meta.yaml").write_text(yaml.safe_dump({
        "alias": "pytest-pkg", "uid": "00000000000000e1", "automation": "soft",
        "tags": ["python-package", "pytest"],
        "detect": {"python_package": "pytest", "env": {"CK_PYTEST_VERSION": "{version}"}}}))
    ok(action="pull", automation="repo", source=str(tmp_path / "myrepo"))
    r = ok(action="detect", automation="soft", tags="python-package,pytest", python=sys.executable)
    assert [(f["name"], f["version"]) for f in r["list"]] == [("pytest-pkg", dist_version("pytest"))]
    assert r["list"][0]["env"] == {"CK_PYTEST_VERSION": dist_version("pytest")}
    assert r["list"][0]["python"] == sys.executable


def test_one_broken_detector_does_not_hide_the_others(home, tmp_path: Path, mock_tools) -> None:
    tools = mock_tools("side_by_side")
    entry = tmp_path / "r2" / "soft" / "gcc-broken"
    entry.mkdir(parents=True)
    (entry / "meta.yaml").write_text(yaml.safe_dump({
        "alias": "gcc-broken", "uid": "00000000000000e2", "automation": "soft", "tags": ["gcc"],
        "detect": {"executables": ["gcc"], "version_regex": "(unclosed"}}))
    ok(action="pull", automation="repo", source=str(tmp_path / "r2"))
    r = ok(action="detect", automation="soft", tags="gcc", paths=tools.paths("usr", "opt"))
    assert [f["version"] for f in r["list"]] == ["12.2.0", "9.4.0"]
    assert any("gcc-broken" in w and "regular expression" in w for w in r["warnings"])
    only = access(action="detect", automation="soft", artifact="gcc-broken",
                  paths=tools.paths("usr"))
    assert only["return"] == 6


def test_real_gcc_through_the_cli(ck) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc on PATH")
    expected = subprocess.run([gcc, "-dumpfullversion"], capture_output=True, text=True,
                              check=True).stdout.strip()
    rc, out, err = ck("detect", "soft", "--tags=compiler,gcc", "--json")
    assert rc == 0, err
    found = json.loads(out)["list"]
    assert expected in [f["version"] for f in found]
    assert all(f["name"] == "compiler-gcc" and f["env"]["CK_CC"] == f["path"] for f in found)
    rc, out, err = ck("detect", "soft", "--tags=gcc", f"--version=>{expected}", "--json")
    data = json.loads(out)
    if rc == 0:  # another, newer gcc is installed too
        assert expected not in [f["version"] for f in data["list"]]
    else:  # nothing in range: 16, naming what is outside it
        assert rc == 16 and data["return"] == 16 and expected in data["error"]
    rc, out, err = ck("detect", "soft", "--tags=gcc", "--version=>=x")
    assert rc == 2 and err.startswith("ck: error:") and out == ""
