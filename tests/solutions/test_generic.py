"""Solutions whose run is a command (on the host or in a managed venv) or a workflow step:
every harness kind end to end through the CLI, the three metric sources, validate rules,
one-line failures, the recorded experiment, the report, and replay with a drift."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.solutions.test_init import write

pytestmark = pytest.mark.builtin   # Python detection and the cbench programs

WORK = '''import json, os, sys, time
n = int(sys.argv[1]); mode = sys.argv[2]
factor = float(os.environ.get("CK_TOY_FACTOR", "1"))
score = factor / (1 + abs(n - 5)) + (0.1 if mode == "b" else 0.0)
if os.environ.get("CK_TOY_NO_JSON") != "1":
    with open(os.environ["CK_METRICS_FILE"], "w") as fh:
        json.dump({"quality": {"score": score}, "n": n}, fh)
with open(os.environ["CK_ENV_OUT"], "a") as fh:
    fh.write(f"CK_METRIC_COST={n * 2.5}\\n")
print(f"throughput: {100 + n} items/s")
print("python:", sys.executable)
'''

TOY: dict[str, Any] = {
    "alias": "toy", "uid": "00000000000000e1", "tags": ["solution", "toy"], "version": "1.0",
    "title": "a toy solution",
    "inputs": {"n": {"type": "int", "min": 0, "max": 10, "default": 3},
               "mode": {"choices": ["a", "b"], "default": "a"}},
    "prepare": [],
    "run": {"harness": "command", "command": ["{python}", "{entry}/work.py", "{n}", "{mode}"],
            "repetitions": 2},
    "validate": {"rules": [{"metric": "score", "min": 0.2}]},
    "scoreboard": "toy",
    "metrics": [{"name": "time", "unit": "s", "better": "lower"},
                {"name": "score", "from": "json", "key": "quality.score"},
                {"name": "cost", "from": "env", "better": "lower"},
                {"name": "throughput", "from": "regex", "pattern": r"throughput: ([0-9.]+)"}],
    "reference": [{"label": "ref n=5", "config": {"n": 5, "mode": "a"},
                   "metrics": {"score": 1.0, "cost": 12.5}, "platform": "a laptop"}],
}


def put_toy(home: Path, ckj: Any, meta: dict[str, Any] | None = None) -> Path:
    ckj("list", "repo")
    root = home / "repos" / "local"
    write(root, "solution", "toy", meta or TOY)
    (root / "solution" / "toy" / "work.py").write_text(WORK)
    return root


def test_a_command_run_reads_every_metric_source_and_records_it(home: Path, ck: Any,
                                                                 ckj: Any) -> None:
    put_toy(home, ckj)
    got = ckj("benchmark", "solution:toy", "--n=4", "--mode=b")
    assert got["valid"] is True and got["harness"] == "command"
    assert got["metrics"]["score"] == pytest.approx(0.6)
    assert got["metrics"]["cost"] == 10.0 and got["metrics"]["throughput"] == 104.0
    assert got["statistics"]["time"]["n"] == 2 and got["metrics"]["time"] > 0
    folder = Path(got["run_folder"])
    assert (folder / "raw" / "1" / "metrics.json").is_file()
    assert (folder / "raw" / "2" / "output.log").read_text().startswith("throughput: 104")
    assert not (folder / "INCOMPLETE").exists()
    assert json.loads((folder / "result.json").read_text())["metrics"]["cost"] == 10.0
    page = (folder / "report.html").read_text()
    assert "ref n=5" in page and "score &gt;= 0.2: ok" in page
    shown = ckj("load", f"experiment:{got['experiment']['name']}")["meta"]
    assert shown["kind"] == "solution-benchmark" and shown["valid"] is True
    assert shown["metrics"]["score"]["samples"] == [0.6, 0.6]
    assert shown["inputs"] == {"n": 4, "mode": "b"}
    rc, out, err = ck("benchmark", "solution:toy", "--n=4")
    assert rc == 0 and "rule score >= 0.2: ok" in out and "ref n=5" in out


def test_a_failed_rule_is_one_line_and_an_invalid_experiment(home: Path, ck: Any,
                                                             ckj: Any) -> None:
    put_toy(home, ckj)
    rc, out, err = ck("benchmark", "solution:toy", "--n=0")
    assert rc == 14
    lines = err.strip().splitlines()
    assert lines[-1].startswith("ck: error: solution:toy: the run is not valid: score = "
                                "0.166667 is below the minimum 0.2 (validate rule: score >= 0.2)")
    assert "marked invalid" in lines[-1]
    found = ckj("find", "experiment", "--tags=toy")["list"]
    assert len(found) == 1
    assert ckj("load", f"experiment:{found[0]['name']}")["meta"]["valid"] is False


def test_a_metric_the_run_did_not_produce_names_it_and_where(home: Path, ck: Any,
                                                             ckj: Any) -> None:
    put_toy(home, ckj)
    rc, out, err = ck("benchmark", "solution:toy", env={"CK_TOY_NO_JSON": "1"})
    assert rc == 14, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("ck: error: solution:toy: metric 'score' (from json key "
                           "'quality.score' of metrics.json): the run wrote no ")
    assert "raw/1/metrics.json" in last
    assert ckj("find", "experiment", "--tags=toy")["list"] == []   # nothing recorded
    runs = list((home / "solutions" / "toy" / "runs").iterdir())
    assert "metric 'score'" in (runs[0] / "INCOMPLETE").read_text()


def test_a_failing_command_is_one_line_with_its_logs(home: Path, ck: Any, ckj: Any) -> None:
    meta = copy.deepcopy(TOY)
    meta["run"]["command"] = "echo broken >&2; exit 3"
    put_toy(home, ckj, meta)
    rc, out, err = ck("benchmark", "solution:toy")
    assert rc == 14
    last = err.strip().splitlines()[-1]
    assert last.startswith("ck: error: solution:toy: ") and "exit" in last and "logs: " in last


@pytest.mark.parametrize("change, text", [
    (lambda m: m["metrics"].append({"name": "acc"}),
     "metric 'acc' needs `from: json|env|regex`"),
    (lambda m: m["metrics"].append({"name": "acc", "from": "regex"}),
     "metric 'acc': `from: regex` needs a `pattern`"),
    (lambda m: m["metrics"].append({"name": "acc", "from": "regex", "pattern": "acc"}),
     "has no group"),
    (lambda m: m["metrics"].append({"name": "acc", "from": "result"}),
     "`from: result` reads the workflow step's result"),
    (lambda m: m["run"].update(command=["{python}", "{nn}"]),
     r"run.command: \{nn\} is neither an input nor one of"),
    (lambda m: m["run"].update(where="venv"), "`where: venv` needs `python: {step, var}`"),
    (lambda m: m["run"].update(model_name="x"), "model_name: not a key of the command harness"),
    (lambda m: m["run"].pop("command"), "the command harness needs `command`"),
    (lambda m: m["validate"].update(checks=["mlperf-results"]),
     "validate.checks: mlperf-results checks the MLPerf results layout"),
    (lambda m: m["validate"]["rules"].append({"metric": "speed", "min": 1}),
     "validate.rules: metric 'speed' is not among"),
    (lambda m: m["validate"]["rules"].append({"metric": "score", "reference": "nope",
                                              "within_pct": 5}),
     "validate.rules: no reference row labelled 'nope'"),
    (lambda m: m["validate"]["rules"].append({"metric": "score", "reference": "ref n=5"}),
     "`reference` and `within_pct` go together"),
    (lambda m: m["inputs"]["n"].update(default=11), "the default 11 is above the input's max 10"),
])
def test_manifest_mistakes_are_one_line_each(home: Path, ck: Any, ckj: Any, change: Any,
                                             text: str) -> None:
    meta = copy.deepcopy(TOY)
    change(meta)
    put_toy(home, ckj, meta)
    rc, out, err = ck("benchmark", "solution:toy")
    assert rc in (6, 2), err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ck: error: solution:toy")
    import re

    assert re.search(text, lines[0]), lines[0]


def test_inputs_are_checked_before_anything_runs(home: Path, ck: Any, ckj: Any) -> None:
    put_toy(home, ckj)
    for args, text in ((["--n=11"], "--n must be at most 10, not 11"),
                       (["--n=x"], "--n must be a whole number, not 'x'"),
                       (["--mode=c"], "--mode=c is not one of a, b")):
        rc, out, err = ck("benchmark", "solution:toy", *args)
        assert rc == 2 and text in err, err
    assert not (home / "solutions").exists()


def test_a_command_in_the_managed_venv(home: Path, ckj: Any, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    meta = copy.deepcopy(TOY)
    meta["prepare"] = [{"name": "runtime", "tags": "toy-venv"}]
    meta["run"].update(where="venv", python={"step": "runtime", "var": "CK_VENV_PYTHON"},
                       command="python {entry}/work.py {n} {mode}", repetitions=1)
    root = put_toy(home, ckj, meta)
    write(root, "script", "toy-venv", {"alias": "toy-venv", "uid": "00000000000000e2",
                                       "tags": ["toy-venv"], "cache": True},
          f'echo "CK_VENV_PYTHON={python}" >> "$CK_ENV_OUT"\n')
    got = ckj("benchmark", "solution:toy")
    log = (Path(got["run_folder"]) / "raw" / "1" / "output.log").read_text()
    assert f"python: {venv}/bin/python" in log       # `python` on PATH is the venv's
    assert got["valid"] and got["metrics"]["cost"] == 7.5


SCRIPT_SOLUTION: dict[str, Any] = {
    "alias": "wf", "uid": "00000000000000e3", "tags": ["solution", "wf"], "version": "1.0",
    "inputs": {"size": {"type": "int", "min": 1, "default": 3}},
    "prepare": [],
    "run": {"harness": "workflow", "workflow": {"kind": "script", "tags": "wf-step",
                                                "inputs": {"size": "{size}"}}},
    "scoreboard": "wf",
    "metrics": [{"name": "time", "unit": "s", "better": "lower"},
                {"name": "work", "from": "env"},
                {"name": "name_len", "from": "result", "key": "name"}],
}


def test_a_workflow_script_run(home: Path, ck: Any, ckj: Any) -> None:
    ckj("list", "repo")
    root = home / "repos" / "local"
    write(root, "solution", "wf", SCRIPT_SOLUTION)
    write(root, "script", "wf-step", {"alias": "wf-step", "uid": "00000000000000e4",
                                      "tags": ["wf-step"], "input_mapping": {"size": "WF_SIZE"}},
          'echo "CK_METRIC_WORK=$((WF_SIZE * 7))" >> "$CK_ENV_OUT"\n')
    rc, out, err = ck("benchmark", "solution:wf", "--size=4")
    assert rc == 14   # the result's `name` is text, not a number: one line naming it
    assert err.strip().splitlines()[-1].startswith(
        "ck: error: solution:wf: metric 'name_len' (from the workflow result's key 'name'): "
        "'wf-step' is not a number")
    meta = copy.deepcopy(SCRIPT_SOLUTION)
    meta["metrics"] = meta["metrics"][:2]
    write(root, "solution", "wf", meta)
    got = ckj("benchmark", "solution:wf", "--size=4")
    assert got["metrics"]["work"] == 28.0 and got["harness"] == "workflow"


def test_replay_of_a_solution_run_reports_the_drift(home: Path, ck: Any, ckj: Any) -> None:
    put_toy(home, ckj)
    first = ckj("benchmark", "solution:toy", "--n=4")
    name = first["experiment"]["name"]
    same = ckj("replay", f"experiment:{name}")
    assert same["metrics"]["score"]["agree"] is True
    rc, out, err = ck("replay", f"experiment:{name}", "--json",
                      env={"CK_TOY_FACTOR": "2"})
    assert rc == 0, err
    got = json.loads(out)
    assert got["agree"] is False
    assert got["metrics"]["score"]["agree"] is False          # 0.5 -> 1.0
    assert {"what": "env.CK_TOY_FACTOR", "recorded": None, "now": "2"} in got["drift"]
    assert got["run"]["name"] != name                          # the replay is recorded too
    rc, out, err = ck("replay", f"experiment:{name}", env={"CK_TOY_FACTOR": "2"})
    assert "the results DIFFER" in out and "CK_TOY_FACTOR" in out


def test_energy_per_repetition_where_rapl_counters_are_readable(home: Path, ck: Any,
                                                                 ckj: Any,
                                                                 tmp_path: Path) -> None:
    from tests.experiments.test_scripts import _rapl

    rapl = _rapl(tmp_path / "rapl")
    meta = copy.deepcopy(TOY)  # the command "uses" 2 J of the package's counter
    meta["run"]["command"] = ('f="$CK_RAPL_DIR/intel-rapl:0/energy_uj"; '
                              'echo $(( $(cat "$f") + 2000000 )) > "$f"; '
                              'python3 {entry}/work.py {n} {mode}')
    put_toy(home, ckj, meta)
    got = ckj("benchmark", "solution:toy", "--n=4")   # energy is no declared metric
    assert "energy_j" not in got["metrics"]
    rc, out, err = ck("benchmark", "solution:toy", "--n=4", "--json",
                      env={"CK_RAPL_DIR": str(rapl)})
    assert rc == 0, err
    exp = ckj("load", f"experiment:{json.loads(out)['experiment']['name']}")["meta"]
    assert exp["metrics"]["energy_j"]["samples"] == pytest.approx([2.0, 2.0])
    assert exp["energy"]["source"] == "rapl"
