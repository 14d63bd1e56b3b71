"""`ck reproduce paper:NAME` end to end, with real workflows (`ck autotune` of the built-in
cbench-matmul kernel over two -O levels: a few seconds)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import access

pytestmark = pytest.mark.builtin

SPACE = """summary: two levels
objectives: "time:min,size:min"
choices:
  opt: {type: categorical, values: ["-O1", "-Os"]}
"""
TUNE = {"action": "autotune", "automation": "program", "artifact": "cbench-matmul",
        "inputs": {"strategy": "grid", "budget": 2, "repetitions": 2,
                   "objectives": "time:min,size:min", "space": "{paper_dir}/space.yaml"}}


def make_paper(name: str, claims: list[dict[str, Any]], **extra: Any) -> str:
    meta = {"title": "A paper", "authors": ["A. Author"], "claims": claims, **extra}
    added = access(action="add", automation="paper", artifact=name, meta=meta)
    assert added["return"] == 0, added
    Path(added["path"], "space.yaml").write_text(SPACE)
    return str(added["path"])


def size_claim(cid: str, value: float, **kw: Any) -> dict[str, Any]:
    return {"id": cid, "figure": "Figure 1", "workflow": TUNE,
            "metric": "front[describe=-Os].objectives.size", "value": value,
            "tolerance": {"rel": 0.5}, **kw}


def test_verdicts_report_and_shared_workflow(home: Path, tmp_path: Path) -> None:
    make_paper("p", [
        size_claim("near", 3000.0),                      # any gcc: well within 50%
        size_claim("far", 100.0),                         # no binary is this small
        size_claim("elsewhere", 3000.0, hardware="same"),  # on another hardware class
        {"id": "broken", "figure": "Table 2", "metric": "metrics.qps", "value": 1.0,
         "tolerance": {"abs": 1},
         "workflow": {"action": "benchmark", "automation": "solution",
                      "artifact": "no-such-solution"}},
    ], hardware={"cpu_model": "No Such CPU*", "description": "an imaginary machine"})
    out = access(action="reproduce", automation="paper", artifact="p",
                 output=str(tmp_path / "rep"), quiet=True)
    assert out["return"] == 0, out
    verdicts = {k: v["verdict"] for k, v in out["claims"].items()}
    assert verdicts == {"near": "reproduced", "far": "not_reproduced",
                        "elsewhere": "not_comparable", "broken": "failed"}
    assert "no-such-solution" in out["claims"]["broken"]["reason"]
    assert out["in_paper_class"] is False and "cpu_model" in out["class_differences"][0]
    assert out["counts"] == {"reproduced": 1, "not_reproduced": 1, "not_comparable": 1,
                             "failed": 1}
    # one autotune run served the three claims that share its workflow
    runs = access(action="find", automation="experiment")["list"]
    assert len(runs) == 1
    assert out["badges"][0] == {"badge": "functional", "earned": False,
                                "evidence": "workflows that did not finish: broken"}
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["claims"]["far"]["measured"]["mean"] > 1000
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Figure 1" in html and "<svg" in html and "not reproduced" in html
    assert "reproduced" in out["text"] and out["html"].endswith("report.html")


def test_only_chosen_claims_run_and_the_badge_says_so(home: Path) -> None:
    make_paper("q", [size_claim("a", 3000.0), size_claim("b", 3000.0)])
    out = access(action="reproduce", automation="paper", artifact="q", claims=["b"],
                 quiet=True)
    assert list(out["claims"]) == ["b"] and out["claims"]["b"]["verdict"] == "reproduced"
    assert out["complete"] is False and out["badges"][0]["earned"] is False
    assert os.path.isdir(out["folder"]) and "/papers/q/reproductions/" in out["folder"]
    bad = access(action="reproduce", automation="paper", artifact="q", claims=["zz"])
    assert bad["return"] == 2 and "no claim 'zz'" in bad["error"]
    # nothing ran for the refused request: one reproduction folder only
    assert len(os.listdir(os.path.dirname(out["folder"]))) == 1


def test_drift_against_the_recorded_environment(home: Path, tmp_path: Path) -> None:
    make_paper("d", [size_claim("a", 3000.0)],
               environment={"platform": {"arch": "sparc64", "os": "Linux"}})
    out = access(action="reproduce", automation="paper", artifact="d",
                 output=str(tmp_path / "o"), quiet=True)
    whats = {d["what"]: d for d in out["claims"]["a"]["drift"]}
    assert whats["platform.arch"]["recorded"] == "sparc64"
    assert "platform.arch" in (tmp_path / "o" / "report.html").read_text()


def test_cli_reproduce_and_errors(ck: Any, home: Path) -> None:
    make_paper("c", [size_claim("a", 3000.0)])
    rc, out, err = ck("reproduce", "paper:c", "--quiet")
    assert rc == 0, err
    assert "a " in out and "reproduced" in out and "report:" in out
    rc, out, err = ck("reproduce", "paper:nope")
    assert rc == 16 and err.count("\n") == 1 and err.startswith("ck: error:")
    rc, out, err = ck("reproduce", "paper:c", "--output=" + str(home / "repos"))
    assert rc == 2 and "new or empty folder" in err


def test_the_shipped_example_is_valid(home: Path) -> None:
    out = access(action="check", automation="paper", artifact="cknowledge-flagship")
    assert out["return"] == 0 and out["valid"] and len(out["claims"]) == 5
    assert out["workflows"] == 3


def test_the_shipped_example_figure_2_reproduces(home: Path) -> None:
    """Figure 2's claims (the cbench Pareto front) of the shipped paper, run for real; the
    time claim is judged only on the paper's hardware class."""
    out = access(action="reproduce", automation="paper", artifact="cknowledge-flagship",
                 claims=["pareto-front-size", "pareto-o3-time"], quiet=True)
    assert out["return"] == 0, out
    size = out["claims"]["pareto-front-size"]
    assert size["verdict"] == "reproduced", size
    assert out["claims"]["pareto-o3-time"]["verdict"] in ("reproduced", "not_reproduced",
                                                          "not_comparable")
