"""`ck submission` and `ck check submission`: the tree from recorded runs of the real harness,
its files and fields, truncation, the model mapping, missing runs, byte-identical rebuilds, and
the checker from its package entry (a stand-in served from a local git repository; the real
MLCommons checker where CK_TEST_MLPERF_INFERENCE_SRC names a checkout)."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from cknowledge import api
from cknowledge.mlperf import sysdesc
from cknowledge.mlperf.harness import run_harness
from cknowledge.mlperf.submission import MAX_ACCURACY_LOG, truncate
from tests.components.conftest import BUILTIN
from tests.conftest import git

SOLUTION = "mlperf-object-detection"
MODEL = "ssdlite-mobilenet-v2-person"
SYSTEM = ["--system.cooling=air", "--system.host_memory_configuration=2x 8 GiB"]
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def harness_runs(mlperf_python: str, model_pb: str, photo_dataset: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real runs of the harness (TensorFlow, the 4 photos), both scenarios and modes."""
    base = tmp_path_factory.mktemp("runs")
    runs = {}
    for scenario in ("Offline", "SingleStream"):
        folder = base / scenario
        modes = {}
        for mode in ("performance", "accuracy"):
            out = folder / "raw" / mode
            modes[mode] = run_harness(mlperf_python, "tensorflow", model_pb, str(photo_dataset),
                                      scenario, mode, None, 2, str(out), min_duration_ms=300,
                                      max_batch=2)
            modes[mode]["output"] = str(out)
        runs[scenario] = {"folder": str(folder), "modes": modes}
    return runs


def record(home: Path, run: dict[str, Any], scenario: str, name: str,
           created: str = "2026-12-01T10:00:00+0000", valid: bool = True) -> None:
    """An experiment entry as `ck benchmark solution:X` records one."""
    from cknowledge.detect.platform import platform_facts
    from cknowledge.store.cid import ArtifactRef

    facts = platform_facts()
    system = f"x86_64-{facts['cpu'].get('logical_cores')}c-{facts['fingerprint'][:8]}"
    meta = {"kind": "solution-benchmark", "valid": valid, "created": created,
            "component": {"automation": "solution", "name": SOLUTION},
            "inputs": {"backend": "tensorflow", "scenario": scenario, "count": 4,
                       "duration_ms": 300},
            "platform": facts,
            "details": {"run_folder": run["folder"], "harness": run["modes"], "valid": valid,
                        "layout": {"results": os.path.join(run["folder"], "results", system,
                                                           MODEL, scenario)}}}
    kernel = api.kernel_for(str(home))
    kernel.store.add("experiment", ArtifactRef(None, name), meta=meta,
                     tags=["benchmark", SOLUTION])


@pytest.fixture
def solution(home: Path) -> Path:
    local = home / "repos" / "local"
    dst = local / "solution" / SOLUTION
    shutil.copytree(BUILTIN / "solution" / SOLUTION, dst)
    return dst


@pytest.fixture
def recorded(home: Path, solution: Path, harness_runs: dict[str, Any]) -> Path:
    record(home, harness_runs["Offline"], "Offline", "run-offline")
    record(home, harness_runs["SingleStream"], "SingleStream", "run-singlestream")
    return home


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_the_tree_has_every_file_and_field_and_rebuilds_byte_identical(
        recorded: Path, ck: Any, tmp_path: Path, harness_runs: dict[str, Any]) -> None:
    out = tmp_path / "sub"
    rc, text, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                       f"--output={out}", "--draft", *SYSTEM, "--json", timeout=120)
    assert rc == 0, err
    result = json.loads(text)
    assert result["version"] == "v6.1" and result["benchmark"] == "yolo-95"
    root = out / "open" / "acme"
    assert json.loads((root / "model_mapping.json").read_text()) == {MODEL: "yolo-95"}
    assert (root / "src" / SOLUTION / "runner" / "main.py").is_file()
    assert (root / "src" / SOLUTION / "solution.yaml").is_file()
    [system_file] = list((root / "systems").iterdir())
    desc = json.loads(system_file.read_text())
    assert set(sysdesc.REQUIRED) <= set(desc)
    assert all(desc[f] not in ("", None, 0) for f in sysdesc.MEANINGFUL)
    assert (desc["division"], desc["submitter"], desc["cooling"]) == ("open", "acme", "air")
    assert desc["framework"].startswith("tensorflow-cpu ")
    for scenario in ("Offline", "SingleStream"):
        base = root / "results" / system_file.stem / MODEL / scenario
        raw = Path(harness_runs[scenario]["folder"]) / "raw"
        for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt"):
            assert (base / "performance" / "run_1" / name).read_bytes() == \
                (raw / "performance" / name).read_bytes()
            assert (base / "accuracy" / name).is_file()
        assert (base / "user.conf").read_bytes() == (raw / "performance" / "user.conf") \
            .read_bytes()
        measured = json.loads((base / "measurements.json").read_text())
        for field in ("input_data_types", "retraining", "starting_weights_filename",
                      "weight_data_types", "weight_transformations"):
            assert measured[field]
        assert "ck benchmark solution:" in (base / "README.md").read_text()
        # truncated as MLCommons does: the hash of the whole log, the first and last 4 KiB
        log = (raw / "accuracy" / "mlperf_log_accuracy.json").read_bytes()
        assert len(log) > MAX_ACCURACY_LOG
        small = (base / "accuracy" / "mlperf_log_accuracy.json").read_bytes()
        assert len(small) < MAX_ACCURACY_LOG
        assert small == log[:4096] + b"\n\n...\n\n" + log[-4096:]
        acc = (base / "accuracy" / "accuracy.txt").read_text()
        assert acc.startswith("mAP=") and \
            acc.endswith(f"\nhash={hashlib.sha256(log).hexdigest()}\n")
    again = tmp_path / "again"
    rc, _, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                    f"--output={again}", "--draft", *SYSTEM, timeout=120)
    assert rc == 0, err
    assert files(out) == files(again)
    # a tree is written whole: an existing folder is refused and left as it was
    rc, _, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                    f"--output={again}", "--draft", *SYSTEM)
    assert rc == 2 and "not an empty folder" in err and files(again) == files(out)


@pytest.mark.slow
def test_missing_and_short_runs_are_one_message_naming_the_commands(
        home: Path, solution: Path, harness_runs: dict[str, Any], ck: Any,
        tmp_path: Path) -> None:
    record(home, harness_runs["Offline"], "Offline", "run-offline")
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                      f"--output={tmp_path / 'sub'}", *SYSTEM)
    assert rc == 16 and err.count("\n") == 1 and err.startswith("ck: error:")
    assert "lacks 2 runs" in err
    assert ("experiment:run-offline ran 300 ms, under MLPerf's minimum of 600000 ms" in err)
    for scenario in ("Offline", "SingleStream"):
        assert (f"ck benchmark solution:{SOLUTION} --backend=tensorflow "
                f"--scenario={scenario} --duration_ms=600000") in err
    assert not (tmp_path / "sub").exists()
    # --draft accepts the short run; SingleStream is still missing unless not asked for
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                      f"--output={tmp_path / 'sub'}", "--draft", *SYSTEM)
    assert rc == 16 and "lacks 1 run:" in err and "SingleStream" in err
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                      f"--output={tmp_path / 'sub'}", "--draft", "--scenarios=Offline",
                      *SYSTEM)
    assert rc == 0, err
    # the system fields that no detector knows are asked for, all in one message
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                      f"--output={tmp_path / 'sub2'}", "--draft", "--scenarios=Offline")
    assert rc == 2 and "--system.cooling=air" in err and "host_memory_configuration" in err


def test_closed_division_is_refused_up_front(solution: Path, ck: Any, tmp_path: Path) -> None:
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--division=closed",
                      "--submitter=acme", f"--output={tmp_path / 'sub'}")
    assert rc == 2 and "closed division is refused" in err and MODEL in err
    assert "not the official model and dataset" in err and "--division=open" in err
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--submitter=../x",
                      f"--output={tmp_path / 'sub'}")
    assert rc == 5 and "submitter" in err
    rc, out, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                      f"--output={tmp_path / 'sub'}")
    assert rc == 16 and "Offline performance and accuracy run (tensorflow) missing" in err
    assert not (tmp_path / "sub").exists()


def test_truncation_of_a_small_log_keeps_it_whole(tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    log.write_bytes(b"[]")
    (tmp_path / "accuracy.txt").write_text("mAP=1.000%\n")
    digest = truncate(str(log), str(tmp_path / "out.json"), str(tmp_path / "accuracy.txt"),
                      str(tmp_path / "out.txt"))
    assert (tmp_path / "out.json").read_bytes() == b"[]"
    assert (tmp_path / "out.txt").read_text() == f"mAP=1.000%\n\nhash={digest}\n"


def stand_in_package(home: Path, tmp_path: Path) -> str:
    """The mlperf-inference-src entry, retargeted at a local git repository that holds the
    stand-in checker at tools/submission/submission_checker/main.py."""
    repo = tmp_path / "inference"
    checker = repo / "tools" / "submission" / "submission_checker"
    checker.mkdir(parents=True)
    shutil.copyfile(HERE / "stand_in_checker.py", checker / "main.py")
    git("init", "-q", "-b", "master", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "stand-in checker", cwd=repo)
    commit = git("rev-parse", "HEAD", cwd=repo).strip()
    entry = home / "repos" / "local" / "package" / "mlperf-inference-src"
    shutil.copytree(BUILTIN / "package" / "mlperf-inference-src", entry)
    meta = yaml.safe_load((entry / "meta.yaml").read_text())
    assert meta["install"]["url"] == "https://github.com/mlcommons/inference.git"
    assert len(meta["install"]["revision"]) == 40
    meta["install"].update(url=repo.as_uri(), revision=commit)
    (entry / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    return commit


@pytest.mark.slow
def test_check_submission_runs_the_checker_from_its_package(
        recorded: Path, ck: Any, tmp_path: Path) -> None:
    stand_in_package(recorded, tmp_path)
    out = tmp_path / "sub"
    rc, _, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                    f"--output={out}", "--draft", *SYSTEM, timeout=120)
    assert rc == 0, err
    rc, text, err = ck("check", "submission", str(out), f"--csv={tmp_path / 'summary.csv'}",
                       timeout=300)
    assert rc == 0, err
    assert "MLPerf submission checker (v6.1): submission looks OK" in text
    assert "Offline" in text and "SingleStream" in text
    assert "Offline" in (tmp_path / "summary.csv").read_text()
    # the checker's own reasons come back in one line, and the exit status says it failed
    [user_conf] = list(out.rglob("SingleStream/user.conf"))
    user_conf.unlink()
    rc, text, err = ck("check", "submission", str(out), timeout=300)
    assert rc == 14 and err.count("\n") == 1 and "submission has errors" in err
    assert "SingleStream is missing user.conf" in err


def test_check_submission_refuses_what_is_not_a_tree(home: Path, ck: Any,
                                                     tmp_path: Path) -> None:
    rc, out, err = ck("check", "submission", str(tmp_path / "nowhere"))
    assert rc == 16 and "does not exist" in err
    rc, out, err = ck("check", "submission", str(tmp_path))
    assert rc == 2 and "not a submission tree" in err
    (tmp_path / "open").mkdir()
    rc, out, err = ck("check", "submission", str(tmp_path), "--skip=everything")
    assert rc == 2 and "no switch to skip everything" in err
    rc, out, err = ck("check", "submission", str(tmp_path), "--version=6")
    assert rc == 2 and "not an MLPerf round" in err


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CK_TEST_MLPERF_INFERENCE_SRC"),
                    reason="CK_TEST_MLPERF_INFERENCE_SRC names no MLCommons inference checkout")
def test_the_real_checker_accepts_all_but_the_short_run_and_the_small_dataset(
        recorded: Path, ck: Any, tmp_path: Path) -> None:
    out = tmp_path / "sub"
    rc, _, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                    f"--output={out}", "--draft", *SYSTEM, timeout=120)
    assert rc == 0, err
    result = api.access({"action": "check", "automation": "submission", "artifact": str(out),
                         "source": os.environ["CK_TEST_MLPERF_INFERENCE_SRC"]})
    assert result["return"] == 14 and "submission has errors" in result["error"]
    errors = result["details"]["result"]["errors"]
    assert errors and all("Test duration less than 600s" in e or
                          "does not cover all dataset" in e for e in errors), errors


def inference_sources(tmp_path: Path) -> Path:
    """The MLCommons inference sources: the checkout CK_TEST_MLPERF_INFERENCE_SRC names, else
    a stand-in with TEST01's audit.config and run_verification.py (tests/mlperf/
    stand_in_compliance)."""
    real = os.environ.get("CK_TEST_MLPERF_INFERENCE_SRC")
    if real:
        return Path(real)
    test01 = tmp_path / "inference" / "compliance" / "TEST01"
    (test01 / "yolo").mkdir(parents=True)
    shutil.copyfile(HERE / "stand_in_compliance" / "audit.config",
                    test01 / "yolo" / "audit.config")
    shutil.copyfile(HERE / "stand_in_compliance" / "run_verification.py",
                    test01 / "run_verification.py")
    return tmp_path / "inference"


@pytest.mark.slow
def test_compliance_test01_runs_through_loadgen_with_the_audit_config(
        recorded: Path, ck: Any, tmp_path: Path) -> None:
    source = inference_sources(tmp_path)
    out = tmp_path / "sub"
    rc, text, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                       f"--output={out}", "--draft", "--scenarios=Offline", *SYSTEM,
                       "--compliance=TEST01", f"--source={source}", "--quiet", timeout=600)
    assert rc == 0, err
    assert "TEST01: accuracy PASS" in text, text
    [test01] = list(out.rglob("Offline/TEST01"))
    assert "TEST PASS" in (test01 / "verify_accuracy.txt").read_text()
    assert (test01 / "verify_performance.txt").is_file()
    detail = (test01 / "performance" / "run_1" / "mlperf_log_detail.txt").read_text()
    assert "Found Audit Config file (audit.config)" in detail
    assert '"key": "effective_test_mode", "value": "PerformanceOnly"' in detail
    sampled = json.loads((test01 / "accuracy" / "mlperf_log_accuracy.json").read_text())
    assert sampled and all(set(e) >= {"qsl_idx", "data"} for e in sampled)
    # the test ran once: a rebuild reuses it from the run folder and is byte-identical
    again = tmp_path / "again"
    rc, text, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                       f"--output={again}", "--draft", "--scenarios=Offline", *SYSTEM,
                       "--compliance=TEST01", f"--source={source}", "--quiet", timeout=60)
    assert rc == 0, err
    assert files(out) == files(again)
    rc, text, err = ck("submission", f"solution:{SOLUTION}", "--submitter=acme",
                       f"--output={tmp_path / 'x'}", "--draft", "--scenarios=Offline", *SYSTEM,
                       "--compliance=TEST05", f"--source={source}")
    assert rc == 2 and "unknown compliance test TEST05" in err
