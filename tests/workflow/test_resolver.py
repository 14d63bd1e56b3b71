"""The dependency resolver on JSON fixtures (``resolver_cases.json``), through dry runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import flatten, run

CASES = json.loads(Path(__file__).with_name("resolver_cases.json").read_text())["cases"]


def build(repo, fake_soft, case: dict[str, Any]) -> None:
    for s in case.get("scripts", []):
        meta: dict[str, Any] = {"tags": s["tags"], "deps": s.get("deps", [])}
        if s.get("version") is not None:
            meta["version"] = s["version"]
        repo.entry("script", s["name"], meta)
    for p in case.get("packages", []):
        meta = {"tags": p["tags"], "version": p["version"], "deps": p.get("deps", []),
                "install": {"method": "build", "commands": ["true"]}}
        repo.entry("package", p["name"], meta)
    found = {}
    for s in case.get("soft", []):
        repo.entry("soft", s["name"], {"tags": s["tags"],
                                       "detect": {"executables": [s["name"]]}})
        found[s["name"]] = s["found"]
    fake_soft(found)


def by_name(graph: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for node in flatten(graph)[1:]:
        out.setdefault(node["name"], []).append(node)
    return out


def depth_of(graph: dict[str, Any], name: str, depth: int = 0) -> int | None:
    if graph["name"] == name:
        return depth
    for child in graph["deps"]:
        d = depth_of(child, name, depth + 1)
        if d is not None:
            return d
    return None


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_resolver_case(case, repo, fake_soft, home):
    build(repo, fake_soft, case)
    request = {"dry_run": True, "tags": case["run"]["tags"]}
    if case["run"].get("version"):
        request["version"] = case["run"]["version"]
    result = run(**request)
    expect = case["expect"]
    if "error" in expect:
        assert result["return"] == expect["error"], result
        message = result["error"]
        for text in expect["contains"]:
            assert text in message, (text, message)
        for text in expect.get("not_contains", []):
            assert text not in message, (text, message)
        assert "\n" not in message, "one message"
        return
    assert result["return"] == 0, result
    graph = result["graph"]
    nodes = by_name(graph)
    for name, want in expect.get("chosen", {}).items():
        assert name in nodes, (name, sorted(nodes), result["text"])
        for node in nodes[name]:
            for field, value in want.items():
                got = node["entry"] if field == "entry" else node[field]
                assert got == value, (name, field, got, value, result["text"])
    for name, depth in expect.get("depth", {}).items():
        assert depth_of(graph, name) == depth, result["text"]
    if "same_key" in expect:
        keys = {n["key"] for n in nodes[expect["same_key"]]}
        assert len(nodes[expect["same_key"]]) >= 2 and len(keys) == 1
    for field, value in expect.get("root", {}).items():
        assert (graph["entry"] if field == "entry" else graph[field]) == value, result["text"]
    # a dry run runs nothing and stores nothing
    assert not (home / "cache").exists() or not any(
        p.name == "ck-cache.json" for p in (home / "cache").rglob("*"))


def test_conflict_is_found_before_anything_runs(repo, fake_soft, home, tmp_path):
    """A conflict deep in the graph stops the run before any step (even an earlier,
    independent one) starts."""
    marker = tmp_path / "ran"
    repo.script("app", {"tags": ["rz-app"], "deps": [
        {"tags": "rz-first", "names": ["first"]},
        {"tags": "rz-a"}, {"tags": "rz-b"}]})
    repo.script("first", {"tags": ["rz-first"]}, f'touch "{marker}"\n')
    repo.script("step-a", {"tags": ["rz-a"], "deps": [{"tags": "rz-cc", "version": ">=13"}]})
    repo.script("step-b", {"tags": ["rz-b"], "deps": [{"tags": "rz-cc", "version": "<13"}]})
    repo.entry("soft", "cc-soft", {"tags": ["rz-cc"], "detect": {"executables": ["cc"]}})
    fake_soft({"cc-soft": [{"version": "12.2.0", "path": "/opt/cc12/bin/cc"},
                           {"version": "13.1.0", "path": "/opt/cc13/bin/cc"}]})
    result = run(tags="rz-app")
    assert result["return"] == 18, result
    assert "step-a" in result["error"] and "step-b" in result["error"]
    assert not marker.exists()


def test_dependency_version_range_that_does_not_parse_is_invalid_input(repo, fake_soft):
    repo.script("app", {"tags": ["rz-app"], "deps": [{"tags": "rz-cc", "version": ">=x.y"}]})
    result = run(tags="rz-app", dry_run=True)
    assert result["return"] == 2, result
    assert "script:local:app" in result["error"] and "rz-cc" in result["error"]


def test_root_version_range_that_does_not_parse_is_invalid_input(repo):
    repo.script("app", {"tags": ["rz-app"]})
    result = run(tags="rz-app", version=">>1", dry_run=True)
    assert result["return"] == 2, result
    assert ">>1" in result["error"]


def test_root_version_unsatisfiable_names_found(repo):
    repo.script("tool", {"tags": ["rz-tool"], "version": "1.2"})
    result = run(tags="rz-tool", version=">=2", dry_run=True)
    assert result["return"] == 18, result
    assert ">=2" in result["error"] and "1.2" in result["error"]


def test_no_script_has_the_tags(repo):
    result = run(tags="rz-nonexistent", dry_run=True)
    assert result["return"] == 16, result
    assert "rz-nonexistent" in result["error"]
