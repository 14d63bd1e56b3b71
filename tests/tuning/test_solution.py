"""`ck autotune solution:X` over a solution's inputs (each trial a real benchmark run of a
fast command), constraints, resume; crowd-tuning against a real hub: --submit of every
trial with its provenance, --seed-from-hub and `ck advise` from other platforms' results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cknowledge.tuning.crowd import distance, neighbours
from cknowledge.tuning.record import read_trials
from tests.solutions.test_generic import put_toy

pytestmark = pytest.mark.builtin


def test_autotune_a_solution_over_its_inputs(home: Path, ck: Any, ckj: Any) -> None:
    put_toy(home, ckj)
    got = ckj("autotune", "solution:toy", "--space=n,mode", "--objectives=score:max,cost:min",
              "--strategy=grid", "--budget=8", "--name=t1", "--quiet")
    # grid order: (0, a), (0, b), (1, a), ...; only n=0 mode=a breaks the rule score >= 0.2
    assert got["trials"]["count"] == 8 and got["trials"]["failed"] == 1
    trials = read_trials(got["experiment"]["trials"])
    failed = [t for t in trials if t["status"] == "failed"]
    assert all("invalid run" in t["reason"] and "score = " in t["reason"] for t in failed)
    ok = [t for t in trials if t["status"] == "ok"]
    assert all(t["info"]["experiment"].startswith("toy-") for t in ok)  # each run recorded
    assert {p["config"]["n"] for p in got["front"]} >= {2}   # cheapest feasible point
    for p in got["front"]:  # nothing on the front is dominated by another successful trial
        s, c = p["objectives"]["score"]["mean"], p["objectives"]["cost"]["mean"]
        assert not any(t["stats"]["score"]["mean"] > s and t["stats"]["cost"]["mean"] < c
                       for t in ok)
    more = ckj("autotune", "solution:toy", "--name=t1", "--resume", "--budget=10", "--quiet")
    assert more["trials"]["resumed"] == 8 and more["trials"]["new"] == 2


def test_fixed_inputs_constraints_and_their_mistakes(home: Path, ck: Any, ckj: Any) -> None:
    put_toy(home, ckj)
    got = ckj("autotune", "solution:toy", "--space=n", "--mode=b", "--objectives=score:max",
              "--constraint=cost<=10", "--strategy=grid", "--budget=11", "--quiet")
    trials = read_trials(got["experiment"]["trials"])
    assert all(t["config"].keys() == {"n"} for t in trials)
    assert got["trials"]["infeasible"] == 6                     # n = 5..10 cost more than 10
    infeasible = [t for t in trials if t["status"] == "infeasible"]
    assert all("breaks the constraint cost<=10" in t["reason"] for t in infeasible)
    assert [p["config"]["n"] for p in got["front"]] == [4]      # the best feasible score
    rc, out, err = ck("autotune", "solution:toy", "--space=n", "--mode=b",
                      "--objectives=score:max", "--constraint=score>=5", "--budget=3", "--quiet")
    assert rc == 14
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "ck: error: solution:toy: every one of the 3 trials was infeasible: no configuration "
        "met score>=5 (each trial's values are in ")
    assert lines[0].endswith("trials.jsonl); relax the constraint or widen the space")
    for args, text in ((["--constraint=scor>=1"], "no metric 'scor' (did you mean: score?)"),
                       (["--constraint=score=>1"], "cannot read the constraint"),
                       (["--space=n,colour"], "--space names 'colour', which is not an input"),
                       (["--colour=red"], "has no input --colour"),
                       (["--objectives=speed:max"], "unknown objective metric 'speed'")):
        rc, out, err = ck("autotune", "solution:toy", *args, "--budget=2")
        assert rc == 2 and len(err.strip().splitlines()) == 1 and text in err, (args, err)


# -- crowd-tuning against a real hub --------------------------------------------------------
BOARD = {"name": "toy", "title": "toy", "config_keys": ["n", "mode"],
         "metrics": [{"name": "score", "better": "higher"}, {"name": "cost", "better": "lower"},
                     {"name": "time", "unit": "s", "better": "lower"},
                     {"name": "throughput", "better": "higher"}]}


@pytest.fixture
def hub(tmp_path: Path) -> Any:
    from tests.hub.test_client import start_hub

    server = start_hub(tmp_path / "hub")
    admin = server.user("admin", admin=True)
    r = httpx.post(f"{server.url}/api/v1/scoreboards", json=BOARD,
                   headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 201, r.text
    server.token = server.user("carol")
    yield server
    server.stop()


def test_submit_sends_every_trial_with_its_provenance(home: Path, ck: Any, ckj: Any,
                                                      hub: Any) -> None:
    put_toy(home, ckj)
    rc, out, err = ck("autotune", "solution:toy", "--space=n", "--mode=b", "--budget=4",
                      "--objectives=score:max,cost:min", "--submit", f"--hub={hub.url}",
                      "--json", "--quiet", env={"CK_HUB_TOKEN": hub.token})
    assert rc == 0, err
    got = json.loads(out)
    trials = read_trials(got["experiment"]["trials"])
    rows = httpx.get(f"{hub.url}/api/v1/scoreboards/toy/results?limit=50").json()["items"]
    assert sorted(r["id"] for r in rows) == sorted(t["info"]["hub_result"] for t in trials)
    for t in trials:
        full = httpx.get(f"{hub.url}/api/v1/results/{t['info']['hub_result']}").json()
        assert full["config"] == {"n": t["config"]["n"], "mode": "b"}
        assert full["metrics"]["score"] == pytest.approx(t["stats"]["score"]["mean"])
        exp = ckj("load", f"experiment:{t['info']['experiment']}")
        assert full["experiment"]["uid"] == exp["uid"]           # provenance: the experiment
        assert full["platform"]["fingerprint"] == exp["meta"]["platform"]["fingerprint"]
        assert full["platform"]["facts"]["cores"] >= 1 and full["submitter"] == "carol"


def _post(hub: Any, fp: str, facts: dict[str, Any], n: int, score: float, cost: float) -> None:
    body = {"solution": {"name": "toy", "version": "1.0"}, "components": [],
            "config": {"n": n, "mode": "a"}, "metrics": {"score": score, "cost": cost},
            "platform": {"fingerprint": fp, "facts": facts}, "reference": False}
    r = httpx.post(f"{hub.url}/api/v1/scoreboards/toy/results", json=body,
                   headers={"Authorization": f"Bearer {hub.token}"})
    assert r.status_code == 201, r.text


PLATFORMS = {  # fingerprint: facts, and how far from an x86_64 Linux machine they are
    "a" * 16: {"os": "Linux", "arch": "x86_64", "cpu": "Same CPU", "cores": 2},
    "b" * 16: {"os": "Linux", "arch": "x86_64", "cpu": "Other CPU", "cores": 64},
    "c" * 16: {"os": "Darwin", "arch": "arm64", "cpu": "Apple M9", "cores": 8},
}


def test_distance_prefers_the_same_architecture_and_size() -> None:
    here = {"fingerprint": "f" * 16, "os": "Linux", "arch": "x86_64", "cpu": "Same CPU",
            "cores": 2, "memory_gib": 16}
    assert distance(here, PLATFORMS["a" * 16]) == 0
    assert distance(here, PLATFORMS["b" * 16]) == pytest.approx(1 + 5)   # cpu + log2(32)
    assert distance(here, PLATFORMS["c" * 16]) == pytest.approx(4 + 2 + 1 + 2)
    near = neighbours(here, PLATFORMS, 2)
    assert [p["fingerprint"] for p in near] == ["a" * 16, "b" * 16]


def test_advise_and_seed_from_hub_learn_from_the_nearest_platforms(
        home: Path, ck: Any, ckj: Any, hub: Any) -> None:
    put_toy(home, ckj)
    # the nearest platform finds n=7 best; far platforms (scaled 10x) disagree: n=2
    for n in range(0, 11):
        _post(hub, "a" * 16, PLATFORMS["a" * 16], n, 1.0 / (1 + abs(n - 7)), 2.5 * n)
        _post(hub, "c" * 16, PLATFORMS["c" * 16], n, 10.0 / (1 + abs(n - 2)), 25.0 * n)
    rc, out, err = ck("advise", "solution:toy", "--objectives=score:max", "--neighbours=1",
                      f"--hub={hub.url}", "--mode=a", "--json")
    assert rc == 0, err
    advice = json.loads(out)
    assert advice["config"] == {"mode": "a", "n": 7}
    assert [p["fingerprint"] for p in advice["platforms"]] == ["a" * 16]
    assert len(advice["results"]) == 1            # the one result of n=7 on that platform
    rc, out, err = ck("advise", "solution:toy", "--objectives=score:max,cost:min",
                      "--constraint=cost<=10", "--neighbours=1", f"--hub={hub.url}")
    assert rc == 0 and "--n=4" in out and "aaaaaaaaaaaaaaaa  distance" in out, out
    rc, out, err = ck("advise", "solution:toy", "--objectives=score:max",
                      "--constraint=cost<=-1", f"--hub={hub.url}")
    assert rc == 16 and "predicted to meet cost<=-1" in err
    # a warm-started run tries the neighbour's best first
    rc, out, err = ck("autotune", "solution:toy", "--space=n", "--mode=a", "--budget=3",
                      "--objectives=score:max", "--strategy=tpe", "--seed-from-hub",
                      "--neighbours=1", f"--hub={hub.url}", "--json", "--quiet")
    assert rc == 0, err
    got = json.loads(out)
    first = read_trials(got["experiment"]["trials"])[0]
    assert first["config"] == {"n": 7}                 # the neighbour's best, tried first
    assert got["warm_start"]["first"][0] == {"n": 7}
    assert got["warm_start"]["platforms"][0]["fingerprint"] == "a" * 16


def test_advise_without_results_says_so(home: Path, ck: Any, ckj: Any, hub: Any) -> None:
    put_toy(home, ckj)
    rc, out, err = ck("advise", "solution:toy", f"--hub={hub.url}")
    assert rc == 16 and "has no results to learn from" in err
    assert len(err.strip().splitlines()) == 1


def test_an_invalid_run_is_recorded_but_not_submitted(home: Path, ck: Any, ckj: Any,
                                                      hub: Any) -> None:
    put_toy(home, ckj)
    rc, out, err = ck("benchmark", "solution:toy", "--n=0", "--submit", f"--hub={hub.url}",
                      "--quiet", env={"CK_HUB_TOKEN": hub.token})
    assert rc == 14 and err.strip().endswith("marked invalid; not submitted)"), err
    assert httpx.get(f"{hub.url}/api/v1/scoreboards/toy").json()["count"] == 0
    rc, out, err = ck("benchmark", "solution:toy", "--n=5", "--submit", f"--hub={hub.url}",
                      "--quiet", env={"CK_HUB_TOKEN": hub.token})
    assert rc == 0 and "submitted:   result 1" in out, err


def test_cb_init_and_benchmark_a_command_solution_submit_after_login(
        home: Path, ck: Any, ckj: Any, hub: Any) -> None:
    from tests.solutions.test_flagship import run_cb

    put_toy(home, ckj)
    rc, out, err = run_cb(home, "init", "toy")
    assert rc == 0 and "solution:toy: ready (0 steps" in out, err
    rc, out, err = ck("login", "hub", f"--hub={hub.url}", f"--token={hub.token}")
    assert rc == 0, err
    rc, out, err = run_cb(home, "benchmark", "toy", "--n=5", "--json")  # logged in: submits
    assert rc == 0, err
    got = json.loads(out)
    assert got["valid"] and got["submitted"]["duplicate"] is False
    row = httpx.get(f"{hub.url}/api/v1/results/{got['submitted']['id']}").json()
    assert row["config"] == {"n": 5, "mode": "a"} and row["submitter"] == "carol"


def test_concurrent_tuners_in_one_home_lose_nothing(home: Path, ckj: Any) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import SRC

    put_toy(home, ckj)
    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC)
    procs = [subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "autotune",
                               "solution:toy", "--space=n", "--mode=b", "--budget=3",
                               f"--seed={i}", "--objectives=score:max", "--quiet", "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, stdin=subprocess.DEVNULL) for i in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    runs = [json.loads(o)["experiment"]["name"] for o, _ in outs]
    assert len(set(runs)) == 3                          # three tuning runs, none lost
    trials = [t for o, _ in outs for t in read_trials(json.loads(o)["experiment"]["trials"])]
    names = {t["info"]["experiment"] for t in trials}
    assert len(trials) == 9 and len(names) == 9         # nine benchmark runs, each recorded
    assert len(ckj("find", "experiment", "--tags=benchmark,toy")["list"]) == 9


def test_ck_scoreboard_creates_the_solutions_board(home: Path, ck: Any, ckj: Any,
                                                   tmp_path: Path) -> None:
    from tests.hub.test_client import start_hub

    put_toy(home, ckj)
    server = start_hub(tmp_path / "hub2")
    try:
        admin, carol = server.user("admin", admin=True), server.user("carol")
        rc, out, err = ck("scoreboard", "solution:toy", f"--hub={server.url}",
                          env={"CK_HUB_TOKEN": carol})
        assert rc != 0 and "only an admin" in err and len(err.strip().splitlines()) == 1
        rc, out, err = ck("scoreboard", "solution:toy", f"--hub={server.url}",
                          env={"CK_HUB_TOKEN": admin})
        assert rc == 0 and "scoreboard toy created" in out, err
        board = httpx.get(f"{server.url}/api/v1/scoreboards/toy").json()
        assert [m["name"] for m in board["metrics"]] == ["time", "score", "cost", "throughput"]
        assert board["config_keys"] == ["n", "mode"]
        rc, out, err = ck("scoreboard", "solution:toy", f"--hub={server.url}",
                          env={"CK_HUB_TOKEN": admin})
        assert rc == 8 and "exists already" in err
        rc, out, err = ck("benchmark", "solution:toy", "--n=5", "--submit",
                          f"--hub={server.url}", "--quiet", env={"CK_HUB_TOKEN": carol})
        assert rc == 0 and "submitted:" in out, err
    finally:
        server.stop()


def test_submit_checks_the_hub_first_and_a_refused_submission_keeps_the_trial(
        home: Path, ck: Any, ckj: Any, tmp_path: Path) -> None:
    from tests.hub.test_client import start_hub

    put_toy(home, ckj)
    server = start_hub(tmp_path / "hub3")
    try:
        admin, carol = server.user("admin", admin=True), server.user("carol")
        env = {"CK_HUB_TOKEN": carol}
        args = ("autotune", "solution:toy", "--space=n", "--mode=b", "--budget=2",
                "--objectives=score:max", "--submit", f"--hub={server.url}", "--quiet")
        rc, out, err = ck(*args, env=env)
        assert rc == 16 and "has no scoreboard 'toy'; an admin creates it with `ck " \
            "scoreboard solution:NAME" in err and len(err.strip().splitlines()) == 1
        rc, out, err = ck(*args, env={"CK_HUB_TOKEN": "wrong"})
        assert rc == 13, err
        assert ckj("find", "experiment", "--tags=toy")["list"] == []   # nothing ran
        # a board that refuses every result (it requires a metric the toy lacks)
        board = {**BOARD, "metrics": [*BOARD["metrics"], {"name": "speed", "better": "higher"}],
                 "required": ["speed"]}
        r = httpx.post(f"{server.url}/api/v1/scoreboards", json=board,
                       headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 201, r.text
        rc, out, err = ck(*args, "--json", env=env)
        assert rc == 0, err
        got = json.loads(out)
        assert got["trials"]["ok"] == 2 and got["submitted"] == {"sent": 0, "unsent": 2}
        assert "NOT submitted: 2" in got["table"] and "speed is required" in got["table"]
    finally:
        server.stop()
