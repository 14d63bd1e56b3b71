#!/usr/bin/env python3
"""Solutions benchmark: harness overhead, search efficiency, warm start, crowd submission.

    .venv/bin/python bench/solutions.py            # everything (~4 min on 2 cores)
    .venv/bin/python bench/solutions.py --quick    # 2 seeds, smaller budgets (smoke run)

1. Harness overhead. A command solution whose command is ``sleep 1`` (host, one
   repetition). Alternating, N times each: the command run directly (``subprocess.run``),
   ``access({"action": "benchmark", "automation": "solution", ...})`` in this process (the
   harness: inputs, run folder, the command, metrics, a recorded experiment, the HTML
   report, the result file), and ``ck benchmark`` as a new process (adds Python start-up
   and imports). Overhead = median(harness) / median(direct) - 1. Goal: <= 2% for the
   harness.

2. Search efficiency on a synthetic 6-parameter problem with a known front: x1..x3 floats in
   [0, 1], k an int 0..9, ``mode`` a, b or c, ``scale`` a float in [0.5, 2] that does nothing
   (a distractor). g = 1 + 2 * (x2 + x3 + k / 9) / 3 + {a: 0, b: 0.3, c: 0.6}[mode];
   f1 = x1, f2 = g * (1 - sqrt(x1 / g)) (ZDT1's shape, both minimised). The true front is
   g = 1 (x2 = x3 = k = 0, mode a): f2 = 1 - sqrt(f1). Reference point (1.1, 2.0): f1 never
   exceeds 1, so 1.1 keeps the front's end point's contribution, and f2 = 2 bounds the
   region g <= 2 where points are near the front — a far larger bound would let the
   hypervolume be dominated by easy, distant points. The true front's hypervolume there is
   1 + 2/3 + 0.2 = 1.8667. For each seed: random (budget R), TPE and NSGA-II (budget T)
   through ``run_tuning`` (no kernel: nothing written). Best(seed) = the largest
   hypervolume any of the seed's runs reached; trials(strategy, seed) = the first trial
   count whose front reaches 95% of it (inf if never). Goal: median(TPE) or median(NSGA-II)
   <= median(random) / 2.

3. Warm start (simulated platforms). Four platform classes share the problem's structure
   but differ: the optimum of x2, x3 sits at c = 0.05 (this machine), 0.0, 0.15 and 0.3
   (three others), f2 is scaled by 1, 1.5, 3 and 0.7, and their facts differ (2, 4, 16 and
   64 cores; the last another CPU model). Each other platform contributes 60 random trials
   as hub rows; ``crowd.neighbours`` and ``crowd.predict`` (the code behind
   ``--seed-from-hub``) pick the 3 nearest and turn their results into predictions here,
   which ``run_tuning``'s warm start feeds to TPE and queues first. Cold TPE vs warm TPE on
   this machine's objective: trials to reach 95% of the best hypervolume either reached.
   Goal: median(warm) <= median(cold) / 2.

4. Crowd. A real hub (uvicorn, SQLite) with the toy solution's scoreboard; 4 ``ck autotune
   solution:toy --submit`` processes at once (separate homes: four machines), 10 trials
   each. Goal: the hub holds every trial (sum of trials == results on the board, each
   trial's result id is on the hub) and the hub's Pareto front of (score max, cost min)
   equals the front computed offline from all trials' values.

Writes bench/results/solutions.json and bench/results/solutions.md (also printed).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
SRC = os.path.join(PROJECT, "src")
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, SRC)

REF = (1.1, 2.0)
TRUE_HV = 1.0 + 2.0 / 3.0 + 0.2
GOAL = 0.95


def log(msg: str) -> None:
    sys.stderr.write(f"[{datetime.datetime.now():%H:%M:%S}] {msg}\n")
    sys.stderr.flush()


# -- 1. harness overhead ----------------------------------------------------------------------
SLEEP_SOLUTION = {
    "alias": "sleep1", "uid": "5ee95ee95ee95ee9", "tags": ["solution", "sleep1"],
    "version": "1.0", "inputs": {}, "prepare": [],
    "run": {"harness": "command", "command": ["sleep", "1"]},
    "scoreboard": "sleep1", "metrics": [{"name": "time", "unit": "s", "better": "lower"}]}


def write_solution(home: str, meta: dict, files: dict[str, str] | None = None) -> None:
    import yaml

    folder = os.path.join(home, "repos", "local", "solution", meta["alias"])
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "meta.yaml"), "w") as fh:
        yaml.safe_dump(meta, fh)
    for name, text in (files or {}).items():
        with open(os.path.join(folder, name), "w") as fh:
            fh.write(text)


def overhead(n: int) -> dict:
    import cknowledge
    from cknowledge import api

    home = tempfile.mkdtemp(prefix="ck-bench-sol-")
    os.environ["CK_HOME"] = home
    api.reset()
    cknowledge.access({"action": "list", "automation": "repo"})
    write_solution(home, SLEEP_SOLUTION)
    env = dict(os.environ, PYTHONPATH=SRC)
    request = {"action": "benchmark", "automation": "solution", "artifact": "sleep1",
               "quiet": True}
    assert cknowledge.access(request)["return"] == 0   # warm: imports, index
    direct, harness, cli, inner = [], [], [], []
    for i in range(n):
        t = time.perf_counter()
        subprocess.run(["sleep", "1"], check=True)
        direct.append(time.perf_counter() - t)
        t = time.perf_counter()
        r = cknowledge.access(request)
        harness.append(time.perf_counter() - t)
        assert r["return"] == 0, r
        inner.append(r["metrics"]["time"])
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cknowledge.cli.main", "benchmark",
                        "solution:sleep1", "--quiet"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        cli.append(time.perf_counter() - t)
        log(f"overhead {i + 1}/{n}: direct {direct[-1]:.4f} s, harness {harness[-1]:.4f} s, "
            f"ck {cli[-1]:.4f} s")
    shutil.rmtree(home, ignore_errors=True)
    md, mh, mc = (statistics.median(x) for x in (direct, harness, cli))
    # pairs run back to back see the same load: the median of their differences is the
    # overhead least disturbed by other work on the machine
    paired = statistics.median(h - d for h, d in zip(harness, direct)) / md
    books = statistics.median(h - i for h, i in zip(harness, inner))
    return {"n": n, "direct_s": direct, "harness_s": harness, "cli_s": cli,
            "measured_by_harness_s": inner, "median_direct_s": md, "median_harness_s": mh,
            "median_cli_s": mc, "harness_overhead": mh / md - 1, "paired_overhead": paired,
            "bookkeeping_s": books, "cli_overhead": mc / md - 1, "load": os.getloadavg(),
            "pass": paired <= 0.02}


# -- 2. search efficiency -------------------------------------------------------------------
SPACE = {"choices": {
    "x1": {"type": "float", "low": 0.0, "high": 1.0, "to": "none"},
    "x2": {"type": "float", "low": 0.0, "high": 1.0, "to": "none"},
    "x3": {"type": "float", "low": 0.0, "high": 1.0, "to": "none"},
    "k": {"type": "int", "low": 0, "high": 9, "to": "none"},
    "mode": {"type": "categorical", "values": ["a", "b", "c"], "to": "none"},
    "scale": {"type": "float", "low": 0.5, "high": 2.0, "to": "none"}}}
MODE = {"a": 0.0, "b": 0.3, "c": 0.6}


def problem(c: float = 0.0, s: float = 1.0):
    def evaluate(config: dict) -> dict:
        x1 = config["x1"]
        spread = (abs(config["x2"] - c) + abs(config["x3"] - c) + config["k"] / 9) / 3
        g = 1 + 2 * spread + MODE[config["mode"]]
        f2 = g * (1 - math.sqrt(x1 / g))
        return {"f1": [x1], "f2": [s * f2]}
    return evaluate


def hv_curve(records: list, ref=REF) -> list[float]:
    from cknowledge.tuning.pareto import hypervolume, pareto_front

    pts: list[list[float]] = []
    out = []
    for r in records:
        if r.get("values"):
            pts.append(list(r["values"]))
        front = [pts[i] for i in pareto_front(pts)] if pts else []
        out.append(hypervolume(front, ref))
    return out


def first_reaching(curve: list[float], target: float) -> float:
    for i, v in enumerate(curve):
        if v >= target:
            return i + 1
    return math.inf


def tune(evaluate, strategy: str, budget: int, seed: int, warm=None) -> list:
    from cknowledge.tuning.runner import run_tuning

    seen: list = []
    run_tuning(None, evaluate, space=SPACE, objectives="f1:min,f2:min", metrics=("f1", "f2"),
               strategy=strategy, budget=budget, seed=seed, plots=False,
               on_trial=seen.append, warm=warm, reference=list(REF))
    return seen


def search(seeds: list[int], random_budget: int, budget: int) -> dict:
    runs = []
    for seed in seeds:
        curves = {}
        for strategy, b in (("random", random_budget), ("tpe", budget), ("nsga2", budget)):
            t = time.perf_counter()
            curves[strategy] = hv_curve(tune(problem(), strategy, b, seed))
            log(f"search seed {seed} {strategy}: hv {curves[strategy][-1]:.4f} "
                f"({time.perf_counter() - t:.1f} s)")
        best = max(max(c) for c in curves.values())
        runs.append({"seed": seed, "best_hv": best, "final_hv": {k: c[-1] for k, c in curves.items()},
                     "trials_to_goal": {k: first_reaching(c, GOAL * best)
                                        for k, c in curves.items()}})
    med = {s: statistics.median(r["trials_to_goal"][s] for r in runs)
           for s in ("random", "tpe", "nsga2")}
    return {"true_hv": TRUE_HV, "reference": list(REF), "runs": runs, "median_trials": med,
            "random_budget": random_budget, "budget": budget,
            "pass": min(med["tpe"], med["nsga2"]) <= med["random"] / 2}


# -- 3. warm start ---------------------------------------------------------------------------
HERE_PLATFORM = {"fingerprint": "0" * 16, "os": "Linux", "arch": "x86_64", "cpu": "CPU A",
                 "cores": 2, "memory_gib": 16}
OTHERS = [  # fingerprint, facts, optimum c, f2 scale
    ("1" * 16, {"os": "Linux", "arch": "x86_64", "cpu": "CPU A", "cores": 4, "memory_gib": 16},
     0.0, 1.5),
    ("2" * 16, {"os": "Linux", "arch": "x86_64", "cpu": "CPU A", "cores": 16,
                "memory_gib": 64}, 0.15, 3.0),
    ("3" * 16, {"os": "Linux", "arch": "x86_64", "cpu": "CPU B", "cores": 64,
                "memory_gib": 256}, 0.3, 0.7),
]


def hub_rows(seed: int, per_platform: int) -> tuple[list, dict]:
    rows, facts = [], {}
    rid = 0
    for fp, f, c, s in OTHERS:
        facts[fp] = f
        for rec in tune(problem(c, s), "tpe", per_platform, seed * 100 + int(fp[0])):
            if not rec.get("values"):
                continue
            rid += 1
            rows.append({"id": rid, "platform_fingerprint": fp, "platform_summary": f["cpu"],
                         "config": rec["config"], "reference": False,
                         "metrics": {"f1": rec["values"][0], "f2": rec["values"][1]}})
    return rows, facts


def warm_start(seeds: list[int], budget: int, per_platform: int) -> dict:
    from cknowledge.tuning import crowd

    here_c, here_s = 0.05, 1.0
    runs = []
    for seed in seeds:
        rows, facts = hub_rows(seed, per_platform)
        near = crowd.neighbours(HERE_PLATFORM, facts, 3)

        def warm(space, objectives):
            points = crowd.predict(rows, near, list(space.choices), ["f1", "f2"], None)
            first = crowd.first_configs(points, objectives, budget)
            return {"points": [(p["config"], [p["predicted"]["f1"], p["predicted"]["f2"]])
                               for p in points], "first": first,
                    "platforms": [{"fingerprint": p["fingerprint"],
                                   "distance": p["distance"]} for p in near]}

        cold = hv_curve(tune(problem(here_c, here_s), "tpe", budget, seed))
        hot = hv_curve(tune(problem(here_c, here_s), "tpe", budget, seed, warm=warm))
        best = max(max(cold), max(hot))
        runs.append({"seed": seed, "best_hv": best, "cold_final": cold[-1], "warm_final": hot[-1],
                     "trials_to_goal": {"cold": first_reaching(cold, GOAL * best),
                                        "warm": first_reaching(hot, GOAL * best)},
                     "neighbours": [(p["fingerprint"], p["distance"]) for p in near]})
        log(f"warm seed {seed}: {runs[-1]['trials_to_goal']}")
    med = {k: statistics.median(r["trials_to_goal"][k] for r in runs) for k in ("cold", "warm")}
    return {"runs": runs, "median_trials": med, "budget": budget,
            "per_platform": per_platform, "pass": med["warm"] <= med["cold"] / 2}


# -- 4. crowd ---------------------------------------------------------------------------------
TOY_WORK = """import json, os, sys
n = int(sys.argv[1]); mode = sys.argv[2]
score = 1.0 / (1 + abs(n - 5)) + (0.1 if mode == "b" else 0.0)
json.dump({"score": score}, open(os.environ["CK_METRICS_FILE"], "w"))
print(f"CK_METRIC_COST={n * 2.5 + (1 if mode == 'a' else 0)}")
"""
TOY = {"alias": "toy", "uid": "70770770770770a1", "tags": ["solution", "toy"], "version": "1.0",
       "inputs": {"n": {"type": "int", "min": 0, "max": 10, "default": 3},
                  "mode": {"choices": ["a", "b"], "default": "a"}},
       "prepare": [], "run": {"harness": "command",
                              "command": ["{python}", "{entry}/work.py", "{n}", "{mode}"]},
       "scoreboard": "toy",
       "metrics": [{"name": "score", "from": "json"},
                   {"name": "cost", "from": "env", "better": "lower"}]}
SERVER = """
import sys, uvicorn
from cknowledge.hub import create_app
uvicorn.run(create_app(sys.argv[1], sys.argv[2]), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning", access_log=False)
"""


def crowd(tuners: int, budget: int) -> dict:
    from cknowledge.hub.admin import add_user
    from cknowledge.tuning.pareto import pareto_front
    from cknowledge.tuning.record import read_trials

    root = tempfile.mkdtemp(prefix="ck-bench-crowd-")
    db = f"sqlite:///{root}/hub.sqlite"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=SRC)
    server = subprocess.Popen([sys.executable, "-c", SERVER, db, root, str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        admin = add_user(db, root, "admin", admin=True)
        board = {"name": "toy", "metrics": [{"name": "score", "better": "higher"},
                                            {"name": "cost", "better": "lower"}]}
        req = urllib.request.Request(url + "/api/v1/scoreboards", data=json.dumps(board).encode(),
                                     headers={"Authorization": f"Bearer {admin}",
                                              "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10)
        procs = []
        homes = []
        for i in range(tuners):
            home = os.path.join(root, f"home{i}")
            homes.append(home)
            token = add_user(db, root, f"tuner{i}")
            subprocess.run([sys.executable, "-m", "cknowledge.cli.main", "list", "repo"],
                           env=dict(env, CK_HOME=home), check=True, stdout=subprocess.DEVNULL)
            write_solution(home, TOY, {"work.py": TOY_WORK})
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "cknowledge.cli.main", "autotune", "solution:toy",
                 "--space=n,mode", "--objectives=score:max,cost:min", f"--budget={budget}",
                 f"--seed={i}", "--strategy=random", "--submit", f"--hub={url}",
                 "--name=crowd", "--quiet", "--json"],
                env=dict(env, CK_HOME=home, CK_HUB_TOKEN=token), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True))
        t = time.perf_counter()
        outs = [p.communicate(timeout=900) for p in procs]
        wall = time.perf_counter() - t
        bad = [(p.returncode, e[-500:]) for p, (_, e) in zip(procs, outs) if p.returncode]
        trials = []
        for home in homes:
            trials += read_trials(os.path.join(home, "repos", "local", "experiment", "crowd",
                                               "trials.jsonl"))
        ids = {t["info"].get("hub_result") for t in trials if t.get("info")}
        with urllib.request.urlopen(url + "/api/v1/scoreboards/toy/results?limit=500") as r:
            rows = json.load(r)
        with urllib.request.urlopen(url + "/api/v1/scoreboards/toy/pareto?x=score&y=cost") as r:
            hub_front = json.load(r)
        hub_values = sorted({(p["x"], p["y"]) for p in hub_front["points"] if p["front"]})
        points = [(t["stats"]["score"]["mean"], t["stats"]["cost"]["mean"]) for t in trials
                  if t["status"] == "ok"]
        offline = sorted({points[i] for i in pareto_front([[-s, c] for s, c in points])})
        return {"tuners": tuners, "budget": budget, "wall_s": wall, "failed_tuners": bad,
                "trials": len(trials), "ok_trials": len(points),
                "hub_results": rows["total"], "trial_ids_on_hub": len(ids & {r["id"] for r in rows["items"]}),
                "hub_front": hub_values, "offline_front": offline,
                "pass": not bad and rows["total"] == len(trials) == len(ids)
                and hub_values == offline}
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


def machine() -> str:
    from cknowledge.detect.platform import platform_facts

    f = platform_facts()
    cpu = f.get("cpu") or {}
    return (f"{cpu.get('model')}, {cpu.get('logical_cores')} logical cores, "
            f"{(f.get('memory') or {}).get('total_gib')} GiB, "
            f"{(f.get('distro') or {}).get('pretty_name')}, Python {sys.version.split()[0]}")


def report(res: dict) -> str:
    o, s, w, c = res["overhead"], res["search"], res["warm"], res["crowd"]
    ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
    fmt = lambda x: "never" if x == math.inf else f"{x:g}"  # noqa: E731
    lines = [f"# Solutions benchmark ({res['date']})", "", f"Machine: {res['machine']}", "",
             "## 1. Harness overhead on a 1 s command", "",
             f"median of {o['n']}: direct {o['median_direct_s']:.4f} s, harness (access()) "
             f"{o['median_harness_s']:.4f} s ({100 * o['harness_overhead']:+.2f}%); median "
             f"of the back-to-back differences **{100 * o['paired_overhead']:+.2f}%** "
             f"({ok(o['pass'])}); the harness's own bookkeeping around the timed command "
             f"{1000 * o['bookkeeping_s']:.1f} ms; `ck benchmark` as a new process "
             f"{o['median_cli_s']:.4f} s ({100 * o['cli_overhead']:+.2f}%: Python start-up "
             f"and imports). Load average during the run: "
             f"{', '.join(f'{x:.1f}' for x in o['load'])}", "",
             "## 2. Search efficiency (synthetic 6-parameter problem, known front)", "",
             f"reference point {s['reference']}, true front hypervolume {s['true_hv']:.4f}; "
             f"random budget {s['random_budget']}, TPE/NSGA-II {s['budget']}", "",
             "| seed | best hv | random | tpe | nsga2 | final hv random / tpe / nsga2 |",
             "|---|---|---|---|---|---|"]
    for r in s["runs"]:
        t, f = r["trials_to_goal"], r["final_hv"]
        lines.append(f"| {r['seed']} | {r['best_hv']:.4f} | {fmt(t['random'])} | {fmt(t['tpe'])} "
                     f"| {fmt(t['nsga2'])} | {f['random']:.4f} / {f['tpe']:.4f} / "
                     f"{f['nsga2']:.4f} |")
    m = s["median_trials"]
    lines += ["", f"median trials to 95% of the best: random {fmt(m['random'])}, TPE "
                  f"{fmt(m['tpe'])}, NSGA-II {fmt(m['nsga2'])} -> {ok(s['pass'])}", "",
              "## 3. Warm start from 3 simulated platform classes", "",
              "| seed | best hv | cold | warm | nearest (distance) |", "|---|---|---|---|---|"]
    for r in w["runs"]:
        t = r["trials_to_goal"]
        lines.append(f"| {r['seed']} | {r['best_hv']:.4f} | {fmt(t['cold'])} | {fmt(t['warm'])} | "
                     + ", ".join(f"{fp[:4]}.. ({d:g})" for fp, d in r["neighbours"]) + " |")
    m = w["median_trials"]
    lines += ["", f"median trials to 95%: cold TPE {fmt(m['cold'])}, warm TPE {fmt(m['warm'])}"
                  f" (budget {w['budget']}) -> {ok(w['pass'])}", "",
              "## 4. Crowd: concurrent tuners submitting to one hub", "",
              f"{c['tuners']} tuners x {c['budget']} trials in {c['wall_s']:.1f} s: "
              f"{c['trials']} trials recorded, {c['hub_results']} results on the hub, "
              f"{c['trial_ids_on_hub']} trial result ids found there; hub front "
              f"{c['hub_front']} vs offline {c['offline_front']} -> {ok(c['pass'])}"]
    return "\n".join(lines) + "\n"


def _finite(value):
    """inf (a goal never reached) as null: JSON has no infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]
    res = {"date": datetime.date.today().isoformat(), "machine": machine(),
           "command": "bench/solutions.py" + (" --quick" if args.quick else "")}
    res["overhead"] = overhead(3 if args.quick else 11)
    res["search"] = search(seeds, 80 if args.quick else 500, 40 if args.quick else 100)
    res["warm"] = warm_start(seeds, 30 if args.quick else 60, 40 if args.quick else 60)
    res["crowd"] = crowd(4, 5 if args.quick else 10)
    os.makedirs(RESULTS, exist_ok=True)
    text = report(res)
    with open(os.path.join(RESULTS, "solutions.json"), "w") as fh:
        json.dump(_finite(res), fh, indent=1, default=str)
    with open(os.path.join(RESULTS, "solutions.md"), "w") as fh:
        fh.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
