"""One measurement of a program workflow: build (cached), warm up, repeat, collect metrics.

Every repetition is a separate run of the built binary. The metrics are named:

``time``   wall time of one run, in seconds (one value per repetition);
``size``   bytes of code and initialised data of the built binary (what ``size`` calls
           text + data; the file size where the format is not ELF) — one value: it does
           not vary.

A step that exports ``CK_METRIC_<NAME>=value`` lines adds metric ``<name>`` (lower case).
"""

from __future__ import annotations

from ..errors import InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel

METRICS = ("time", "size")


def measure_program(kernel: Kernel, artifact: str, opt: str | None = None,
                    flags: str | None = None, dataset: str | None = None,
                    repetitions: int = 5, warmup: int = 1, timeout: float | None = None,
                    validate: bool = True) -> dict[str, Any]:
    """Build and run ``program:artifact``; return samples per metric and what was built."""
    if repetitions < 1:
        raise InvalidInput("--repetitions must be at least 1")
    if warmup < 0:
        raise InvalidInput("--warmup cannot be negative")
    request: dict[str, Any] = {"action": "run", "automation": "program", "artifact": artifact,
                               "repetitions": repetitions + warmup, "validate": validate,
                               "quiet": True}
    for key, value in (("opt", opt), ("flags", flags), ("dataset", dataset),
                       ("timeout", timeout)):
        if value is not None:
            request[key] = value
    result = kernel.call(request)
    times = list(result["times_s"])[warmup:]
    size = result.get("code_size") or result["binary_size"]
    samples: dict[str, list[float]] = {"time": times, "size": [float(size)]}
    return {"samples": samples, "valid": result.get("valid"), "dataset": result.get("dataset"),
            "key": result.get("key"), "binary": result.get("binary"),
            "compile_cached": result.get("compile_cached"), "deps": result.get("deps", {}),
            "warmup_s": list(result["times_s"])[:warmup], "opt": opt, "flags": flags}
