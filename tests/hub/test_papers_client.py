"""Papers between two machines: alice publishes paper:NAME with `cb publish` (privately
first), bob downloads it, runs `ck reproduce ... --submit`, and his reproduction shows on
the hub's paper page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.hub.test_client import Home, HubServer, homes, hub_server, logged_in  # noqa: F401

pytestmark = pytest.mark.builtin

SPACE = """summary: two levels
objectives: "time:min,size:min"
choices:
  opt: {type: categorical, values: ["-O1", "-Os"]}
"""
META = {"title": "Binary sizes", "authors": ["Alice"],
        "claims": [{"id": "size", "figure": "Figure 1", "value": 3000.0,
                    "tolerance": {"rel": 0.5},
                    "metric": "front[describe=-Os].objectives.size",
                    "workflow": {"action": "autotune", "automation": "program",
                                 "artifact": "cbench-matmul",
                                 "inputs": {"strategy": "grid", "budget": 2,
                                            "repetitions": 2,
                                            "space": "{paper_dir}/space.yaml"}}}],
        "artifacts": [{"component": "program:cbench-matmul"}]}


def test_publish_reproduce_submit(hub_server: HubServer,  # noqa: F811
                                  logged_in: tuple[Home, Home]) -> None:  # noqa: F811
    alice, bob = logged_in
    alice.entry("paper", "sizes", META, files={"space.yaml": SPACE})
    out = alice.ok(action="publish", automation="hub", component="paper:sizes",
                   version="1.0.0", private=True)
    assert out["version"] == "1.0.0"
    # private: bob cannot download it until invited
    denied = bob(action="download", automation="hub", component="paper:sizes")
    assert denied["return"] == 16
    alice.ok(action="invite", automation="hub", component="paper:sizes", user="bob")
    got = bob.ok(action="download", automation="hub", component="paper:sizes")
    assert got["list"][0]["status"] == "downloaded"

    rep = bob.ok(action="reproduce", automation="paper", artifact="sizes", submit=True,
                 quiet=True)
    assert rep["claims"]["size"]["verdict"] == "reproduced"
    assert rep["submitted"]["duplicate"] is False
    assert rep["submitted"]["url"] == f"{hub_server.url}/papers/sizes"

    public = httpx.get(f"{hub_server.url}/api/v1/papers/sizes")
    assert public.status_code == 404            # still private
    alice.ok(action="visibility", automation="hub", component="paper:sizes", private=False)
    page = httpx.get(f"{hub_server.url}/api/v1/papers/sizes").json()
    assert page["reproductions"] == 1 and page["items"][0]["submitter"] == "bob"
    assert page["items"][0]["verdicts"] == {"size": "reproduced"}
    badges = {b["badge"]: b["earned"] for b in page["badges"]}
    assert badges["reproduced"] is True and badges["functional"] is True
    assert badges["available"] is False          # program:cbench-matmul is not published
    status = bob.ok(action="badges", automation="paper", artifact="paper:sizes")
    assert "badge reproduced: earned" in status["text"]
    html = httpx.get(f"{hub_server.url}/papers/sizes").text
    assert "bob" in html and "ck reproduce paper:sizes" in html
    assert Path(rep["html"]).is_file()
