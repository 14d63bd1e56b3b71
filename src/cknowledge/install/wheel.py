"""Taking the files of one wheel from a Python package index, without installing it.

``python -m pip download --no-deps --only-binary=:all: --dest TARGET/.download -- REQ``
runs with the pip of the interpreter running cknowledge, so the user's pip configuration
(index, mirror, ``find-links``, certificates) applies; options that would reach another
environment are dropped as for the ``pip`` method. The one wheel pip fetched must match
the declared ``sha256`` (required: a release can be replaced on an index, and a platform
wheel differs per platform), and is then unpacked as the zip it is
(:mod:`.unpack`: every member checked) into the target. Nothing is imported, nothing
is installed, and the wheel file itself is not kept.

For a wheel with compiled parts, ``platform``, ``python_version``, ``implementation``
and ``abi`` name the exact file to take, whatever machine runs the install.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .. import proc
from ..errors import ChecksumError, CommandFailed, InvalidInput
from .download import check_sha256
from .pip import index_options, pip_env, strings
from .unpack import unpack

DOWNLOADS = ".download"
_TAGS = {"platform": "--platform", "python_version": "--python-version",
         "implementation": "--implementation", "abi": "--abi"}
_OPTION_VALUE = re.compile(r"^[A-Za-z0-9_.+-]+$")


def _strings(spec: Mapping[str, Any], key: str) -> list[str]:
    return strings(spec, key, "wheel")


def check(spec: Mapping[str, Any]) -> tuple[str, str]:
    """Validate a wheel spec; return (requirement, sha256)."""
    req = spec.get("package")
    if not isinstance(req, str) or not req.strip():
        raise InvalidInput("a wheel install needs `package`: one requirement string, pinned "
                           "with == (e.g. `package: scikit-image==0.26.0`)")
    req = req.strip()
    if req.startswith("-"):
        raise InvalidInput(f"wheel package {req!r} is an option; use the spec's keys "
                           "(index_url, find_links, no_index, platform, ...) instead")
    sha256 = check_sha256(spec.get("sha256"))
    for key in _TAGS:
        value = spec.get(key)
        if value is not None and (not isinstance(value, str) or not _OPTION_VALUE.match(value)):
            raise InvalidInput(f"wheel `{key}` must be a plain value such as "
                               f"{'manylinux2014_x86_64' if key == 'platform' else '3.11'}, "
                               f"not {value!r}")
    for key in ("index_url", "extra_index_url", "find_links", "include"):
        _strings(spec, key)
    return req, sha256


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def install(spec: Mapping[str, Any], target: str, env: Mapping[str, str],
            on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Download the wheel ``spec["package"]`` names, verify it and unpack it into ``target``.

    Returns ``{"wheel": file name, "version": the wheel's version, "files": names placed}``."""
    req, sha256 = check(spec)
    folder = os.path.join(target, DOWNLOADS)
    os.makedirs(folder, exist_ok=True)
    args = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
            "--no-input", "--no-deps", "--only-binary=:all:", "--dest", folder]
    for key, option in _TAGS.items():
        if spec.get(key) is not None:
            args += [option, str(spec[key])]
    args += index_options(spec, "wheel")
    try:
        proc.run(args + ["--", req], env=pip_env(env), on_line=on_line,
                 what=f"pip download {req}")
    except CommandFailed as exc:
        raise CommandFailed(f"cannot download the wheel {req}: {exc.message}; check the "
                            "package name and version, the pip index configuration, and for "
                            "a compiled wheel the platform/python_version/abi keys",
                            **exc.details) from None
    wheels = sorted(n for n in os.listdir(folder) if n.endswith(".whl"))
    if len(wheels) != 1:
        raise CommandFailed(f"pip download {req} left {len(wheels)} wheels ({', '.join(wheels)}) "
                            "instead of one; pin the package with ==")
    name = wheels[0]
    path = os.path.join(folder, name)
    actual = file_sha256(path)
    if actual != sha256:
        os.unlink(path)
        raise ChecksumError(f"sha256 of the wheel {name} for {req} is {actual}, expected "
                            f"{sha256}; the file was deleted (the index may serve another "
                            "build of this release: pin the version and the platform/"
                            "python_version/abi of the wheel, or update the package's sha256 "
                            "after checking the new file)", package=req, wheel=name,
                            expected=sha256, actual=actual)
    files = unpack(path, target, "zip", include=_strings(spec, "include") or None)
    os.unlink(path)
    if not os.listdir(folder):
        os.rmdir(folder)
    parts = name[:-4].split("-")
    return {"wheel": name, "version": parts[1] if len(parts) >= 5 else None, "files": files}
