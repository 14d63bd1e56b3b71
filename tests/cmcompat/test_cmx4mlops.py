"""The real CM collection cmx4mlops 1.0.1 (its PyPI wheel, sha256-checked, unpacked as a
repo folder): its offline scripts run unmodified."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.builtin]


@pytest.fixture
def cmx(ck: Any, hooks: str) -> str:
    rc, out, err = ck("install", "package:cmx4mlops", "--json", timeout=900)
    assert rc == 0, err
    path = json.loads(out)["new_env"]["CK_CMX4MLOPS_REPO"]
    rc, out, err = ck("pull", "repo", path)
    assert rc == 0, err
    return str(path)


def run(ck: Any, *args: str, cwd: str) -> dict[str, Any]:
    rc, out, err = ck("run", "script", *args, "--json", cwd=cwd, timeout=600)
    assert rc == 0, err[-3000:]
    data: dict[str, Any] = json.loads(out)
    return data


def test_detection_scripts(cmx: str, ck: Any, tmp_path: Path) -> None:
    env = run(ck, "--tags=detect,os", cwd=str(tmp_path))["new_env"]
    assert env["CM_HOST_OS_TYPE"] == "linux" and env["CM_HOST_OS_BITS"] in ("32", "64")
    assert env["CM_HOST_PLATFORM_FLAVOR"] == os.uname().machine
    env = run(ck, "script:detect-cpu", cwd=str(tmp_path))["new_env"]
    assert int(env["CM_HOST_CPU_TOTAL_LOGICAL_CORES"]) == os.cpu_count()
    first = run(ck, "script:get-python3", cwd=str(tmp_path))
    assert first["new_env"]["CM_PYTHON_VERSION"].count(".") == 2 and not first["cached"]
    again = run(ck, "script:get-python3", cwd=str(tmp_path))
    assert again["cached"] and again["new_env"] == first["new_env"]
    assert not list(tmp_path.glob("tmp-*"))


def test_dry_run_of_the_mlperf_app(cmx: str, ck: Any, tmp_path: Path) -> None:
    out = run(ck, "app mlperf inference", "--tags=_onnxruntime,_cpu", "--dry-run",
              cwd=str(tmp_path))
    assert out["unresolved"] == [] and "get-python3" in out["text"]
    assert out["graph"]["script"].startswith("cmx4mlops:app-mlperf-inference,")
