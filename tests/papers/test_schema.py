"""The claim schema: each problem of a paper's meta is one MetaError line naming its field,
and `ck add paper:` writes nothing when the meta is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cknowledge.errors import MetaError
from cknowledge.papers.schema import check_paper, json_schema
from tests.conftest import access

WORKFLOW = {"action": "autotune", "automation": "program", "artifact": "cbench-matmul"}


def paper(**claim: Any) -> dict[str, Any]:
    base = {"id": "c1", "figure": "Table 1", "workflow": dict(WORKFLOW),
            "metric": "metrics.map", "value": 1.0, "tolerance": {"abs": 0.1}}
    base.update(claim)
    return {"title": "T", "authors": ["A"], "claims": [base]}


def test_a_valid_paper_is_typed() -> None:
    p = check_paper(paper())
    assert p.claims[0].workflow.request() == {**WORKFLOW}
    assert p.claims[0].hardware == "any"
    assert "claims" in json_schema()["properties"]


@pytest.mark.parametrize("meta, words", [
    (paper(tolerance={}), "claims[0].tolerance: give abs, rel or noise"),
    (paper(tolerance={"rel": -1}), "claims[0].tolerance.rel"),
    (paper(tolerance={"noise": True}), "noise needs samples"),
    (paper(series={"path": "front", "label": "describe", "value": "x"}),
     "give metric (one value) or series"),
    (paper(metric=None), "give metric (one value) or series"),
    (paper(metric="metrics..map"), "is not a result path"),
    (paper(value=True), "a boolean is not a number"),
    (paper(value={"a": 1.0}), "value is one number"),
    (paper(hardware="mine"), "claims[0].hardware"),
    (paper(workflow={**WORKFLOW, "action": "rm"}), "claims[0].workflow.action"),
    (paper(workflow={**WORKFLOW, "inputs": {"submit": True}}), "is not an input"),
    (paper(id="../x"), "claims[0].id"),
    (paper(colour="red"), "claims[0].colour: unknown key"),
    ({"authors": ["A"], "claims": paper()["claims"]}, "title: Field required"),
    ({**paper(), "authors": []}, "authors"),
    ({**paper(), "claims": []}, "claims"),
    ({**paper(), "doi": "not-a-doi"}, "doi"),
    ({**paper(), "checklist": {"vibes": {"answer": "yes"}}}, "unknown question 'vibes'"),
    ({**paper(), "checklist": {"license": {"answer": "maybe"}}}, "checklist.license.answer"),
])
def test_each_problem_is_one_line_naming_the_field(meta: dict[str, Any], words: str) -> None:
    with pytest.raises(MetaError) as info:
        check_paper(meta, "paper:p")
    message = info.value.message
    assert "\n" not in message
    assert message.startswith("paper:p: ")
    assert words in message, message


def test_two_claims_with_one_id_are_refused() -> None:
    meta = paper()
    meta["claims"].append(copy.deepcopy(meta["claims"][0]))
    with pytest.raises(MetaError, match="claim id 'c1' appears twice"):
        check_paper(meta)


def test_series_claims_map_labels_to_numbers() -> None:
    p = check_paper(paper(metric=None, series={"path": "front", "label": "describe",
                                               "value": "objectives.size"},
                          value={"-Os": 3130, "-O3": 4083}, tolerance={"rel": 0.1}))
    assert p.claims[0].series is not None and p.claims[0].value == {"-Os": 3130, "-O3": 4083}


def test_add_refuses_a_bad_meta_and_writes_nothing(home: Any) -> None:
    bad = paper(tolerance={})
    r = access(action="add", automation="paper", artifact="p1", meta=bad)
    assert r["return"] == 6 and "claims[0].tolerance" in r["error"] and "\n" not in r["error"]
    assert access(action="find", automation="paper")["list"] == []
    ok = access(action="add", automation="paper", artifact="p1", meta=paper())
    assert ok["return"] == 0
    loaded = access(action="load", automation="paper", artifact="p1")
    assert loaded["meta"]["claims"][0]["id"] == "c1"
    assert access(action="check", automation="paper", artifact="p1")["valid"] is True


def test_cli_add_error_is_one_line(ck: Any, tmp_path: Any) -> None:
    import json

    f = tmp_path / "paper.json"
    f.write_text(json.dumps({"meta": paper(value="lots")}))
    rc, out, err = ck("add", "paper:p2", f"@{f}")
    assert rc == 6
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ck: error: paper:p2: claims[0].value")
