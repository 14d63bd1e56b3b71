"""``ck show experiment --tags=...`` (documented in the README and docs/solutions.md)."""

from __future__ import annotations

import json

from tests.conftest import access, ok

from .test_entries import A, B


def _add(name: str, times: list[float], tags: str, created: str, **extra: object) -> None:
    meta = {"kind": "benchmark", "created": created,
            "component": {"automation": "solution", "name": "mlperf-x", "uid": "0" * 16},
            "inputs": {}, "platform": {"fingerprint": "f" * 16},
            "metrics": {"time": {"unit": "s", "samples": times}}, **extra}
    ok(action="add", automation="experiment", artifact=name, meta=meta, tags=tags)


def test_show_by_tags_lists_every_matching_run_oldest_first(home, ck) -> None:
    _add("run-2", B, "benchmark,mlperf-x", "2026-01-02T00:00:00")
    _add("run-1", A, "benchmark,mlperf-x", "2026-01-01T00:00:00")
    _add("other", A, "benchmark,other", "2026-01-03T00:00:00")
    r = ok(action="show", automation="experiment", tags="mlperf-x")
    assert [e["name"] for e in r["list"]] == ["run-1", "run-2"] and r["count"] == 2
    assert r["text"].startswith("2 experiments with the tags mlperf-x")
    assert "experiment:local:run-1" in r["text"] and "experiment:local:run-2" in r["text"]
    assert "other" not in r["text"]
    rc, out, err = ck("show", "experiment", "--tags=mlperf-x")
    assert rc == 0, err
    assert "experiment:local:run-1" in out and "95% CI" in out
    rc, out, err = ck("show", "experiment", "--tags=mlperf-x", "--json")
    assert rc == 0 and [e["name"] for e in json.loads(out)["list"]] == ["run-1", "run-2"]
    # exclusion and a name pattern work as in find
    r = ok(action="show", automation="experiment", tags="benchmark,-other")
    assert [e["name"] for e in r["list"]] == ["run-1", "run-2"]
    r = ok(action="show", automation="experiment", artifact="run-*")
    assert [e["name"] for e in r["list"]] == ["run-1", "run-2"]
    # one name still shows that entry alone
    assert ok(action="show", automation="experiment", artifact="run-1")["name"] == "run-1"


def test_show_by_tags_with_nothing_matching_is_not_found(home, ck) -> None:
    r = access(action="show", automation="experiment", tags="nothing-here")
    assert r["return"] == 16 and "nothing-here" in r["error"]
    rc, out, err = ck("show", "experiment", "--tags=nothing-here")
    assert rc == 16 and err.startswith("ck: error:") and len(err.strip().splitlines()) == 1


def test_show_by_tags_keeps_entries_without_metrics(home) -> None:
    ok(action="add", automation="experiment", artifact="tune-1", tags="mlperf-x",
       meta={"kind": "tuning"})
    _add("run-1", A, "mlperf-x", "2026-01-01T00:00:00")
    r = ok(action="show", automation="experiment", tags="mlperf-x")
    assert [e["name"] for e in r["list"]] == ["run-1", "tune-1"]
    assert "tune-1: no metrics (a tuning entry)" in r["text"]
