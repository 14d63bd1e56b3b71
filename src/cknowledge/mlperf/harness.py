"""Running the LoadGen harness in a solution's managed venv and reading what it wrote.

:func:`run_harness` starts ``PYTHON -I runner/main.py ...`` through
:func:`cknowledge.proc.run` (stdin closed, process group killed on timeout), takes the
runner's closing JSON line, and adds the parsed LoadGen logs (``"loadgen"``: summary,
detail errors and warnings) and, in accuracy mode, the mAP from accuracy.txt. A runner
failure raises :class:`~cknowledge.errors.CommandFailed` with the runner's own one-line
reason first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import proc
from ..errors import CommandFailed, InvalidInput, NotFound
from . import results

RUNNER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner")
RUNNER = os.path.join(RUNNER_DIR, "main.py")
BACKENDS = ("tensorflow", "onnxruntime")
SCENARIOS = ("SingleStream", "Offline")
MODES = ("performance", "accuracy")
_ERROR_PREFIX = "mlperf harness: error: "


# what the runner imports in the venv: module -> the package that provides it
MODULES = {"mlperf_loadgen": "mlcommons-loadgen", "numpy": "numpy", "PIL": "pillow",
           "pycocotools": "pycocotools"}
BACKEND_MODULES = {"tensorflow": {"tensorflow": "tensorflow-cpu"},
                   "onnxruntime": {"onnxruntime": "onnxruntime"}}
_FIND = ("import importlib.util, sys\n"
         "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))\n")


def missing_packages(python: str, backends: list[str]) -> list[str]:
    """The packages the runner needs for ``backends`` that the venv of ``python`` lacks
    (found without importing them: a fraction of a second)."""
    if not os.path.isfile(python):
        raise NotFound(f"the MLPerf harness's venv python {python} does not exist: install "
                       "the solution's dependencies first")
    wanted = dict(MODULES)
    for backend in backends:
        wanted.update(BACKEND_MODULES.get(backend) or {})
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = proc.run([python, "-I", "-c", _FIND, *wanted], env=env, timeout=120,
                   what="checking the MLPerf venv")
    return [wanted[m] for m in out.split() if m in wanted]


DEVICES = ("cpu", "cuda")


def nvidia_gpus() -> list[dict[str, Any]]:
    """The NVIDIA GPUs ``ck detect platform`` finds (NVML)."""
    from ..detect.platform import platform_facts

    return [g for g in platform_facts().get("gpus") or []
            if isinstance(g, dict) and "nvidia" in str(g.get("vendor", "")).lower()]


def check_device(device: str, backend: str) -> None:
    """Refuse a device this machine or backend cannot run, before anything starts."""
    if device not in DEVICES:
        raise InvalidInput(f"unknown device {device!r}: use one of {', '.join(DEVICES)}")
    if device == "cpu":
        return
    if backend != "onnxruntime":
        raise InvalidInput(f"--device={device} runs the onnxruntime backend only: use "
                           "--backend=onnxruntime (the tensorflow backend is tensorflow-cpu)")
    if not nvidia_gpus():
        raise InvalidInput(f"--device={device} needs an NVIDIA GPU, and `ck detect platform` "
                           "finds none on this machine (NVML through nvidia-ml-py): use "
                           "--device=cpu")


def runner_command(python: str, backend: str, model: str, dataset: str, scenario: str,
                   mode: str, count: int | None, threads: int, output: str,
                   inter_threads: int = 1, min_duration_ms: int | None = None,
                   min_query_count: int | None = None, max_duration_ms: int | None = None,
                   max_batch: int | None = None, target_qps: float | None = None,
                   expected_latency_ms: float | None = None,
                   audit_config: str | None = None, device: str = "cpu") -> list[str]:
    """The runner's argv (inputs checked; paths made absolute)."""
    if backend not in BACKENDS:
        raise InvalidInput(f"unknown MLPerf backend {backend!r}: use one of "
                           f"{', '.join(BACKENDS)}")
    if scenario not in SCENARIOS:
        raise InvalidInput(f"unknown MLPerf scenario {scenario!r}: the harness runs "
                           f"{', '.join(SCENARIOS)}")
    if mode not in MODES:
        raise InvalidInput(f"unknown MLPerf mode {mode!r}: use one of {', '.join(MODES)}")
    check_device(device, backend)
    if count is not None and count < 1:
        raise InvalidInput(f"the MLPerf sample count must be at least 1, not {count}")
    if threads < 0 or inter_threads < 0:
        raise InvalidInput("MLPerf threads must be 0 (the runtime's default) or more")
    for what, path, check in (("venv python", python, os.path.isfile),
                              ("model", model, os.path.isfile),
                              ("dataset folder", dataset, os.path.isdir)):
        if not check(path):
            raise NotFound(f"the MLPerf harness's {what} {path} does not exist: install the "
                           "solution's dependencies first")
    argv = [python, "-I", RUNNER, "--backend", backend, "--model", os.path.abspath(model),
            "--dataset", os.path.abspath(dataset), "--scenario", scenario, "--mode", mode,
            "--threads", str(threads), "--inter-threads", str(inter_threads),
            "--output", os.path.abspath(output)]
    options: tuple[tuple[str, float | int | None], ...] = (
        ("--count", count), ("--min-duration-ms", min_duration_ms),
        ("--min-query-count", min_query_count), ("--max-duration-ms", max_duration_ms),
        ("--max-batch", max_batch), ("--target-qps", target_qps),
        ("--expected-latency-ms", expected_latency_ms))
    for flag, value in options:
        if value is not None:
            argv += [flag, str(value)]
    if device != "cpu":
        argv += ["--device", device]
    if audit_config is not None:
        if not os.path.isfile(audit_config):
            raise NotFound(f"the compliance test's audit.config {audit_config} does not exist")
        argv += ["--audit-config", os.path.abspath(audit_config)]
    return argv


def run_harness(python: str, backend: str, model: str, dataset: str, scenario: str,
                mode: str, count: int | None, threads: int, output: str,
                inter_threads: int = 1, min_duration_ms: int | None = None,
                min_query_count: int | None = None, max_duration_ms: int | None = None,
                max_batch: int | None = None, target_qps: float | None = None,
                expected_latency_ms: float | None = None, timeout: float | None = None,
                env: Mapping[str, str] | None = None, audit_config: str | None = None,
                device: str = "cpu",
                on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the harness once; return the runner's report plus ``"loadgen"`` (the parsed
    summary and detail log) and, in accuracy mode, ``"mAP_percent"``."""
    argv = runner_command(python, backend, model, dataset, scenario, mode, count, threads,
                          output, inter_threads, min_duration_ms, min_query_count,
                          max_duration_ms, max_batch, target_qps, expected_latency_ms,
                          audit_config, device)
    os.makedirs(output, exist_ok=True)
    run_env = dict(os.environ if env is None else env)
    for key in ("PYTHONPATH", "PYTHONHOME"):
        run_env.pop(key, None)
    run_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        text = proc.run(argv, env=run_env, timeout=timeout, on_line=on_line,
                        what="MLPerf harness")
    except CommandFailed as exc:
        reason = next((line[len(_ERROR_PREFIX):] for line in
                       reversed(exc.details.get("tail") or []) if line.startswith(
                           _ERROR_PREFIX)), None)
        if reason is None:
            raise
        raise CommandFailed(f"MLPerf harness ({backend}, {scenario}, {mode}) failed: "
                            f"{reason}", **exc.details) from None
    report = _last_json(text)
    report["command"] = proc.command_text(argv)
    report["loadgen_results"] = results.parse_run(output)
    report["effective_settings"] = results.effective_settings(output)
    if mode == "accuracy":
        from .layout import parse_accuracy_txt

        report["mAP_percent"] = parse_accuracy_txt(os.path.join(output, "accuracy.txt"))
    return report


def _last_json(text: str) -> dict[str, Any]:
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    tail = " | ".join(text.strip().splitlines()[-3:])
    raise CommandFailed(f"the MLPerf harness ended without its JSON report; last output: "
                        f"{tail or '(none)'}")
