"""The MLPerf object-detection solution in a container built from scratch: a VALID LoadGen
run, offline, the image under 2.5 GB, the run folder and experiment on the host (slow: the
image's venv holds TensorFlow CPU and ONNX Runtime, ~5 min to build on 2 cores)."""

from __future__ import annotations

import json
import os

import pytest

from cknowledge import api

pytestmark = [pytest.mark.slow, pytest.mark.builtin]


def test_mlperf_solution_runs_valid_in_its_image(engine, home, ck):
    rc, out, err = ck("benchmark", "solution:mlperf-object-detection", "--docker",
                      "--backend=onnxruntime", "--scenario=Offline", "--count=4",
                      "--duration_ms=1000", "--offline", "--json", timeout=2400)
    assert rc == 0, err[-3000:]
    result = json.loads(out)
    container = result["container"]
    assert container["size"] < 2.5e9, container
    assert result["valid"] is True
    run_dir = result["run_folder"]
    assert run_dir.startswith(str(home / "solutions" / "mlperf-object-detection" / "runs"))
    assert os.path.isdir(os.path.join(run_dir, "results"))
    exp = result["experiment"]
    found = api.access({"action": "load", "automation": "experiment",
                        "artifact": f"{exp['repo']}:{exp['name']}"}, home=str(home))
    assert found["return"] == 0, found
    assert found["meta"]["env"]["CK_CONTAINER_IMAGE"] == container["image"]
