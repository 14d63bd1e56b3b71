"""What every runner module shares: the error type and the lazy import of optional modules."""

from __future__ import annotations

import importlib
from typing import Any

PACKAGES = {"mlperf_loadgen": "mlcommons-loadgen", "tensorflow": "tensorflow-cpu",
            "onnxruntime": "onnxruntime", "pycocotools": "pycocotools", "numpy": "numpy",
            "PIL": "pillow"}


class HarnessError(Exception):
    """A failure the harness explains in one line (printed by main.py, exit status 2)."""


def require(module: str, purpose: str) -> Any:
    """Import ``module`` or raise a HarnessError naming it and the package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = PACKAGES.get(module.split(".")[0], module)
        raise HarnessError(
            f"the Python module {module!r} (needed for {purpose}) is missing from the solution "
            f"venv: install the package {package!r} into it ({exc})") from None
