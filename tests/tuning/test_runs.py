"""The tuning loop on a synthetic problem: strategies, recording, failures, resume."""

from __future__ import annotations

import json
import os

import pytest

from cknowledge.errors import AlreadyExists, CommandFailed, InvalidInput
from cknowledge.tuning.record import read_trials
from cknowledge.tuning.runner import run_tuning
from tests.tuning import synthetic
from tests.tuning.synthetic import METRICS, OBJECTIVES, SPACE, evaluate


def tune(kernel=None, **kw):
    fn = kw.pop("evaluate", evaluate)
    args = {"space": SPACE, "objectives": OBJECTIVES, "metrics": METRICS, "budget": 16,
            "seed": 3, **kw}
    return run_tuning(kernel, fn, **args)


@pytest.mark.parametrize("strategy", ["random", "grid", "tpe", "nsga2"])
def test_each_strategy_finds_a_front(strategy) -> None:
    configs = []
    r = tune(strategy=strategy, on_trial=lambda rec: configs.append(json.dumps(rec["config"])))
    assert r["trials"] == {"count": 16, "ok": 16, "failed": 0, "infeasible": 0, "new": 16, "resumed": 0}
    assert len(set(configs)) == 16, "a configuration was evaluated twice"
    assert r["front"] and r["hypervolume"] > 0
    for point in r["front"]:
        assert set(point["objectives"]) == {"f1", "f2"}
        assert point["objectives"]["f1"]["ci95_half"] > 0
        assert point["objectives"]["f2"]["ci95_half"] is None
    assert r["table"].startswith(f"Pareto front: {len(r['front'])} of 16")
    assert r["png"] is None and "experiment" not in r       # nothing recorded without a kernel
    again = tune(strategy=strategy)
    assert [p["config"] for p in again["front"]] == [p["config"] for p in r["front"]]


def test_grid_goes_in_order_and_stops_when_the_space_is_done() -> None:
    space = {"choices": {"x": {"type": "int", "low": 0, "high": 2, "to": "none"},
                         "mode": {"type": "categorical", "values": ["a", "b"], "to": "none"},
                         "fast": {"type": "flag", "flag": "-ffast"}}}
    seen = []
    r = tune(space=space, strategy="grid", budget=50,
             on_trial=lambda rec: seen.append(rec["config"]))
    assert r["trials"]["count"] == 12 and r["exhausted"] is True
    assert seen[:3] == [{"x": 0, "mode": "a", "fast": False}, {"x": 0, "mode": "a", "fast": True},
                        {"x": 0, "mode": "b", "fast": False}]
    # random stops too once every configuration was tried
    r = tune(space=space, strategy="random", budget=50)
    assert r["trials"]["count"] == 12
    # a fixed choice shrinks the space
    r = tune(space=space, strategy="grid", budget=50, fixed={"fast": "on"},
             on_trial=lambda rec: seen.append(rec["config"]))
    assert r["trials"]["count"] == 6 and all(c["fast"] is True for c in seen[-6:])


def test_maximised_objectives_and_a_given_reference() -> None:
    def evaluate_max(config):
        return {"gain": [float(config["x"])], "cost": [float(config["x"]) ** 0.5 + config["fast"]]}

    r = tune(evaluate=evaluate_max, objectives="gain:max,cost:min", metrics=["gain", "cost"],
             strategy="grid", budget=100, reference=[0.0, 10.0])
    best_gain = max(p["objectives"]["gain"]["mean"] for p in r["front"])
    assert best_gain == 12 and r["reference"] == [0.0, 10.0]
    assert all(p["config"]["fast"] is False for p in r["front"])
    assert r["hypervolume"] > 0


def test_failed_trials_are_recorded_and_tuning_goes_on(home) -> None:
    from cknowledge.api import kernel_for

    def flaky(config):
        if config["mode"] == "c":
            raise CommandFailed("gcc: error: unrecognized command-line option '-fbogus'")
        if config["mode"] == "b" and config["fast"]:
            return {"f1": [float("nan")], "f2": [1.0]}
        if config["x"] == 0:
            raise RuntimeError("boom")
        return evaluate(config)

    kernel = kernel_for(str(home))
    r = tune(kernel, evaluate=flaky, strategy="grid", budget=40, name="flaky")
    assert r["trials"]["count"] == 40 and r["trials"]["failed"] > 0
    assert r["trials"]["ok"] + r["trials"]["failed"] == 40
    records = read_trials(r["experiment"]["trials"])
    assert len(records) == 40 and [rec["number"] for rec in records] == list(range(40))
    reasons = {rec["reason"] for rec in records if rec["status"] == "failed"}
    assert "gcc: error: unrecognized command-line option '-fbogus'" in reasons
    assert "RuntimeError: boom" in reasons
    assert "the evaluation gave a non-finite f1" in reasons
    assert all(rec["config"]["mode"] != "c" for rec in records if rec["status"] == "ok")
    assert all(p["config"]["mode"] != "c" for p in r["front"])
    assert os.path.isfile(r["png"]) and os.path.isfile(r["html"])
    entry = kernel.store.load("experiment", __import__("cknowledge.store.cid", fromlist=["x"])
                              .ArtifactRef("local", "flaky"))
    meta = entry["meta"]
    assert meta["status"] == "done" and meta["strategy"] == "grid" and meta["budget"] == 40
    assert meta["objectives"] == ["f1:min", "f2:min"] and meta["kind"] == "tuning"
    assert meta["summary"]["trials"]["failed"] == r["trials"]["failed"]


def test_a_run_name_is_not_reused_and_resume_extends_a_budget(home) -> None:
    from cknowledge.api import kernel_for

    kernel = kernel_for(str(home))
    calls = []

    def counted(config):
        calls.append(config)
        return evaluate(config)

    first = tune(kernel, evaluate=counted, strategy="tpe", budget=6, name="grow")
    assert first["trials"]["count"] == 6 and len(calls) == 6
    with pytest.raises(AlreadyExists, match="--resume"):
        tune(kernel, evaluate=counted, strategy="tpe", budget=6, name="grow")
    # resuming takes the stored settings; a different one is an error
    with pytest.raises(InvalidInput, match="strategy"):
        run_tuning(kernel, counted, metrics=METRICS, strategy="nsga2", name="grow", resume=True)
    more = run_tuning(kernel, counted, metrics=METRICS, budget=10, name="grow", resume=True)
    assert more["trials"] == {"count": 10, "ok": 10, "failed": 0, "infeasible": 0, "new": 4, "resumed": 6}
    assert len(calls) == 10
    assert len({json.dumps(c, sort_keys=True) for c in calls}) == 10
    records = read_trials(more["experiment"]["trials"])
    assert [r["number"] for r in records] == list(range(10))


def test_keyboard_interrupt_keeps_the_finished_trials(home) -> None:
    from cknowledge.api import kernel_for

    kernel = kernel_for(str(home))
    calls = []

    def interrupted(config):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(config)
        return evaluate(config)

    with pytest.raises(KeyboardInterrupt):
        tune(kernel, evaluate=interrupted, strategy="random", budget=8, name="ctrlc")
    from cknowledge.store.cid import ArtifactRef

    entry = kernel.store.load("experiment", ArtifactRef("local", "ctrlc"))
    assert entry["meta"]["status"] == "interrupted"
    assert len(read_trials(os.path.join(entry["path"], "trials.jsonl"))) == 3
    # without --name, --resume picks the latest unfinished run
    r = run_tuning(kernel, evaluate, metrics=METRICS, resume=True)
    assert r["trials"]["count"] == 8 and r["trials"]["resumed"] == 3
    assert r["experiment"]["name"] == "ctrlc"


def test_a_line_cut_short_by_a_kill_is_ignored(tmp_path) -> None:
    from cknowledge.tuning.record import TrialLog

    path = str(tmp_path / "trials.jsonl")
    with open(path, "w") as fh:
        fh.write('{"number": 0, "status": "ok"}\n{"number": 1, "sta')
    assert read_trials(path) == [{"number": 0, "status": "ok"}]
    log = TrialLog(path)
    log.append({"number": 1, "status": "failed"})
    log.close()
    assert [r["number"] for r in read_trials(path)] == [0, 1]


def test_the_harness_is_cheap() -> None:
    r = tune(strategy="random", budget=200, space={"choices": {
        "x": {"type": "float", "low": 0, "high": 12, "to": "none"},
        "mode": {"type": "categorical", "values": ["a", "b", "c"], "to": "none"},
        "fast": {"type": "flag", "flag": "-ffast"}}})
    assert r["timing"]["harness_ms_per_trial"] < 5, r["timing"]


def test_synthetic_module_is_importable() -> None:
    assert synthetic.evaluate({"x": 8, "mode": "a", "fast": True})["samples"]["f1"][1] == 0
