"""--device=cuda: one clear refusal without an NVIDIA GPU (before anything is prepared), the
runner's refusal when the venv's onnxruntime has no CUDA provider, and the GPU in the system
description of a CUDA run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cknowledge.errors import InvalidInput
from cknowledge.mlperf import sysdesc
from cknowledge.mlperf.harness import RUNNER, nvidia_gpus, run_harness
from tests.components.conftest import BUILTIN

no_gpu = pytest.mark.skipif(bool(nvidia_gpus()), reason="this machine has an NVIDIA GPU")


@no_gpu
def test_benchmark_with_cuda_is_refused_up_front_without_a_gpu(home: Path, ck: Any) -> None:
    shutil.copytree(BUILTIN / "solution" / "mlperf-object-detection",
                    home / "repos" / "local" / "solution" / "mlperf-object-detection")
    rc, out, err = ck("benchmark", "solution:mlperf-object-detection", "--backend=onnxruntime",
                      "--device=cuda")
    assert rc == 2 and err.count("\n") == 1
    assert "--device=cuda needs an NVIDIA GPU" in err and "--device=cpu" in err
    assert not (home / "cache").exists()  # nothing was prepared
    rc, out, err = ck("benchmark", "solution:mlperf-object-detection", "--device=cuda")
    assert rc == 2 and "onnxruntime backend only" in err


@no_gpu
def test_run_harness_refuses_cuda_before_starting(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="needs an NVIDIA GPU"):
        run_harness("/nonexistent/python", "onnxruntime", "m.onnx", str(tmp_path), "Offline",
                    "performance", 1, 1, str(tmp_path / "out"), device="cuda")
    with pytest.raises(InvalidInput, match="unknown device 'tpu'"):
        run_harness("/nonexistent/python", "onnxruntime", "m.onnx", str(tmp_path), "Offline",
                    "performance", 1, 1, str(tmp_path / "out"), device="tpu")
    assert not (tmp_path / "out").exists()


def test_the_runner_refuses_cuda_when_onnxruntime_has_no_cuda_provider(
        mlperf_python: str, photo_dataset: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not loaded: the provider is checked first")
    proc = subprocess.run([mlperf_python, "-I", RUNNER, "--backend", "onnxruntime", "--model",
                           str(model), "--dataset", str(photo_dataset), "--scenario", "Offline",
                           "--mode", "performance", "--output", str(tmp_path / "out"),
                           "--device", "cuda"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2
    assert "--device=cuda: the solution venv's onnxruntime has no CUDA execution provider" \
        in proc.stderr and "onnxruntime-gpu" in proc.stderr


def test_a_cuda_run_names_its_gpu_in_the_system_description() -> None:
    facts = {"cpu": {"model": "AMD EPYC", "logical_cores": 16}, "memory": {"total_gib": 128},
             "kernel": "6.8", "distro": {"pretty_name": "Ubuntu 24.04"}, "fingerprint": "f",
             "gpus": [{"vendor": "NVIDIA", "name": "NVIDIA H100 80GB HBM3", "memory_gib": 79.6,
                       "driver": "550.54"}]}
    given = {"cooling": "air", "host_memory_configuration": "8x 16 GiB",
             "host_storage_capacity": "1 TB", "host_storage_type": "NVMe SSD",
             "host_networking": "Ethernet", "host_network_card_count": "1"}
    with pytest.raises(InvalidInput) as info:
        sysdesc.describe("box-onnxruntime-cuda", facts, "onnxruntime-gpu 1.20", "open", "acme",
                         "Python 3.11", here=False, given=given, device="cuda")
    assert "accelerator_host_interconnect" in info.value.message
    assert "accelerator_memory_configuration" in info.value.message
    desc = sysdesc.describe("box-onnxruntime-cuda", facts, "onnxruntime-gpu 1.20", "open",
                            "acme", "Python 3.11", here=False, device="cuda",
                            given={**given, "accelerator_host_interconnect": "PCIe 5.0 x16",
                                   "accelerator_memory_configuration": "HBM3"})
    assert (desc["accelerators_per_node"], desc["accelerator_model_name"],
            desc["accelerator_memory_capacity"]) == ("1", "NVIDIA H100 80GB HBM3", "79.6 GiB")
    cpu = sysdesc.describe("box-onnxruntime", facts, "onnxruntime 1.20", "open", "acme",
                           "Python 3.11", here=False, given=given)
    assert (cpu["accelerators_per_node"], cpu["accelerator_model_name"]) == ("0", "N/A")
