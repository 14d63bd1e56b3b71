"""pip installs into a managed venv, offline, from a wheel built by hand."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cknowledge.errors import InvalidInput, NotFound
from cknowledge.install import install
from cknowledge.install.pip import pip_env, requirement_name

MODULE = "ckdemo_tinymod"


def build_wheel(folder: str, name: str = "ckdemo-tiny", version: str = "1.2.3") -> str:
    """A minimal pure-Python wheel: one module and its dist-info."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{MODULE}.py": f"VALUE = 'tiny {version}'\n".encode(),
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                             "Summary: a test wheel\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = os.path.join(folder, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as zf:
        for name_, data in files.items():
            zf.writestr(name_, data)
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    wheels = tmp_path_factory.mktemp("wheels")
    build_wheel(str(wheels))
    target = tmp_path_factory.mktemp("pkg")
    lines: list[tuple] = []
    spec = {"method": "pip", "packages": ["ckdemo-tiny==1.2.3"], "find_links": str(wheels),
            "no_index": True, "no_deps": True,
            "env": {"CK_TINY_PY": "{venv_python}", "CK_TINY_VERSION": "{version}"},
            "build": [('"$CK_VENV_PYTHON" -c "import ckdemo_tinymod as m; print(m.VALUE)" '
                       '> value.txt')]}
    res = install(spec, str(target), progress=lambda *a: lines.append(a))
    return {"result": res, "target": str(target), "lines": lines}


def test_result_env_paths_and_version(installed) -> None:
    res, target = installed["result"], installed["target"]
    vpy = os.path.join(target, "venv", "bin", "python")
    assert res["version"] == "1.2.3"
    assert res["env"] == {"CK_VENV_PYTHON": vpy, "CK_VENV_DIR": os.path.join(target, "venv"),
                          "CK_TINY_PY": vpy, "CK_TINY_VERSION": "1.2.3"}
    assert res["paths"] == [vpy, os.path.join(target, "venv")]
    # the build step ran in the target with the venv's python in its environment
    assert Path(target, "value.txt").read_text() == "tiny 1.2.3\n"


def test_importable_in_the_venv_only(installed) -> None:
    vpy = installed["result"]["env"]["CK_VENV_PYTHON"]
    code = f"import {MODULE}; print({MODULE}.__file__)"
    out = subprocess.run([vpy, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(os.path.join(installed["target"], "venv"))
    outside = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=False)
    assert outside.returncode != 0 and "ModuleNotFoundError" in outside.stderr


def test_pip_output_reaches_the_progress_callback(installed) -> None:
    lines = [a[0] for a in installed["lines"]]
    assert all(a[1:] == (0, None) for a in installed["lines"])
    assert any("Successfully installed ckdemo-tiny-1.2.3" in line for line in lines)


def test_bad_specs_are_refused_before_a_venv_is_made(tmp_path) -> None:
    for spec, match in [({"packages": []}, "packages"),
                        ({"packages": ["--break-system-packages"]}, "option"),
                        ({"packages": ["x"], "find_links": 3}, "find_links")]:
        with pytest.raises(InvalidInput, match=match):
            install({"method": "pip", **spec}, str(tmp_path))
    with pytest.raises(NotFound, match="no-such-python"):
        install({"method": "pip", "packages": ["x"], "python": "/no-such-python"},
                str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_pip_environment_cannot_point_elsewhere() -> None:
    env = pip_env({"PATH": "/bin", "PIP_USER": "1", "PIP_TARGET": "/x", "PYTHONHOME": "/y",
                   "PIP_BREAK_SYSTEM_PACKAGES": "1"})
    assert env == {"PATH": "/bin", "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    assert requirement_name("numpy>=1.26; python_version>'3'") == "numpy"
    assert requirement_name("/w/ckdemo_tiny-1.2.3-py3-none-any.whl") == "ckdemo_tiny"
    assert requirement_name("./some/dir") is None
