"""The shipped solutions' reference rows on a new hub's scoreboards."""

from __future__ import annotations

from typing import Any

import pytest

from cknowledge.home import builtin_repo_dir
from cknowledge.hub.references import REFERENCE_USER, manifests, seed


@pytest.mark.builtin
def test_reference_rows_are_seeded_once(hub_app: Any, hub_client: Any) -> None:
    shipped = dict(manifests(builtin_repo_dir()))
    refs = shipped["mlperf-object-detection"]["reference"]
    assert len(refs) >= 4
    db = hub_app.state.hub.db
    assert seed(db, builtin_repo_dir()) == {"added": len(refs), "present": 0}
    assert seed(db, builtin_repo_dir()) == {"added": 0, "present": len(refs)}
    rows = hub_client.get("/api/v1/scoreboards/mlperf-object-detection/results",
                          params={"reference": "true", "limit": 100}).json()
    assert rows["total"] == len(refs)
    assert all(r["reference"] and r["submitter"] == REFERENCE_USER for r in rows["items"])
    by_config = {(r["config"]["backend"], r["config"]["scenario"]): r for r in rows["items"]}
    want = refs[0]
    got = by_config[(want["config"]["backend"], want["config"]["scenario"])]
    assert got["metrics"]["qps"] == pytest.approx(want["metrics"]["qps"])
    full = hub_client.get(f"/api/v1/results/{got['id']}").json()
    assert full["platform"]["facts"]["description"] == want["platform"]
    page = hub_client.get("/scoreboards/mlperf-object-detection").text
    assert "ref" in page and "mlperf-object-detection" in page


def test_no_shipped_solutions_seed_nothing(hub_app: Any, tmp_path: Any) -> None:
    assert seed(hub_app.state.hub.db, str(tmp_path)) == {"added": 0, "present": 0}


def _submission(scenario: str, qps: float, latency: float) -> dict[str, Any]:
    return {"solution": {"name": "mlperf-object-detection", "version": "1.0.0"},
            "components": [], "config": {"scenario": scenario, "backend": "onnxruntime"},
            "metrics": {"qps": qps, "latency_p90_ms": latency},
            "platform": {"fingerprint": "0123456789abcdef", "facts": {"os": "Linux"}},
            "reference": False}


def test_results_filter_by_scenario(hub_client: Any, hub_users: Any) -> None:
    board = "/api/v1/scoreboards/mlperf-object-detection"
    for scenario, qps, latency in (("Offline", 50.0, 9000.0), ("SingleStream", 40.0, 20.0),
                                   ("SingleStream", 60.0, 15.0)):
        r = hub_client.post(f"{board}/results", headers=hub_users.auth("alice"),
                            json=_submission(scenario, qps, latency))
        assert r.status_code == 201, r.text
    rows = hub_client.get(f"{board}/results", params={"scenario": "SingleStream"}).json()
    assert rows["total"] == 2
    assert {r["config"]["scenario"] for r in rows["items"]} == {"SingleStream"}
    assert hub_client.get(f"{board}/results", params={"scenario": "Server"}).json()["total"] == 0
    front = hub_client.get(f"{board}/pareto", params={"x": "qps", "y": "latency_p90_ms",
                                                      "scenario": "SingleStream"}).json()
    assert len(front["front"]) == 1     # 60 samples/s at 15 ms beats 40 at 20 ms
    page = hub_client.get("/scoreboards/mlperf-object-detection",
                          params={"scenario": "Offline"}).text
    assert '<select name="scenario">' in page and "<option selected>Offline</option>" in page
    assert "9,000" in page and ">40<" not in page
