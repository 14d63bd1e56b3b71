"""Dependencies resolve as: a valid cached install → detection → install."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import cache_records, run, run_ok


@pytest.fixture
def setup(repo, fake_soft):
    repo.entry("package", "tool-pkg", {
        "tags": ["pk-tool"], "version": "14.1.0",
        "install": {"method": "build",
                    "commands": ["mkdir -p bin && echo built > bin/tool && echo building"],
                    "env": {"CK_TOOL": "{install_dir}/bin/tool", "CK_TOOL_VERSION": "{version}"}}})
    repo.entry("soft", "tool-soft", {"tags": ["pk-tool"], "detect": {"executables": ["tool"]}})
    fake_soft({"tool-soft": [{"version": "12.2.0", "path": "/usr/bin/tool",
                              "env": {"CK_TOOL": "/usr/bin/tool"}}]})
    repo.script("new", {"tags": ["pk-new"], "deps": [{"tags": "pk-tool", "version": ">=13"}]},
                'echo "USED=$CK_TOOL" >> "$CK_ENV_OUT"\n')
    repo.script("any", {"tags": ["pk-any"], "deps": [{"tags": "pk-tool"}]},
                'echo "USED=$CK_TOOL" >> "$CK_ENV_OUT"\n')
    return repo


def test_detected_soft_is_used_when_it_fits(setup, home):
    r = run_ok(tags="pk-any")
    assert r["new_env"] == {"USED": "/usr/bin/tool"}
    assert cache_records(home) == []                 # nothing installed


def test_install_when_detection_does_not_fit_then_reuse(setup, home):
    r = run_ok(tags="pk-new")
    tool = r["new_env"]["USED"]
    assert tool.startswith(str(home / "cache" / "package")) and Path(tool).read_text() == "built\n"
    (dep,) = r["deps"].values()
    assert dep["kind"] == "package" and dep["version"] == "14.1.0" and dep["cached"] is False
    recs = cache_records(home)
    assert len(recs) == 1 and recs[0]["kind"] == "package" and tool in recs[0]["paths"]
    again = run_ok(tags="pk-new")
    assert again["new_env"] == r["new_env"]
    assert next(iter(again["deps"].values()))["cached"] is True
    # a valid cached install now comes before detection, even without a range
    anyr = run_ok(tags="pk-any")
    assert anyr["new_env"] == {"USED": tool}
    assert "[cached]" in run_ok(tags="pk-any", dry_run=True)["text"]


def test_install_whose_files_are_gone_is_redone(setup, home):
    r = run_ok(tags="pk-new")
    tool = r["new_env"]["USED"]
    os.unlink(tool)
    # detection is preferred again over the broken install for an open range
    assert run_ok(tags="pk-any")["new_env"] == {"USED": "/usr/bin/tool"}
    r2 = run_ok(tags="pk-new")
    assert r2["new_env"]["USED"] == tool and os.path.exists(tool)
    assert next(iter(r2["deps"].values()))["cached"] is False


def test_package_install_command(setup, home):
    result = cknowledge_access(action="install", automation="package", tags="pk-tool")
    assert result["return"] == 0, result
    assert result["new_env"]["CK_TOOL_VERSION"] == "14.1.0"
    again = cknowledge_access(action="install", automation="package", tags="pk-tool")
    assert again["cached"] is True and again["key"] == result["key"]


def test_failed_install_leaves_nothing(repo, home):
    repo.entry("package", "broken", {
        "tags": ["pk-broken"], "version": "1.0",
        "install": {"method": "build", "commands": ["echo 'compiler exploded'; exit 9"]}})
    repo.script("s", {"tags": ["pk-s"], "deps": [{"tags": "pk-broken"}]}, "true\n")
    result = run(tags="pk-s")
    assert result["return"] == 14, result
    assert "exit status 9" in result["error"] and "compiler exploded" in result["error"]
    assert cache_records(home) == []
    root = home / "cache" / "package"
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_dir()
                                     and not p.name.startswith(".") and len(p.name) > 2]


def cknowledge_access(**request):
    import cknowledge

    request.setdefault("quiet", True)
    return cknowledge.access(request)
