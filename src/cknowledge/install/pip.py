"""Installing Python packages into a managed venv — never into the system Python.

``python -m venv TARGET/venv`` is created with the chosen interpreter (the spec's
``python``, default the one running cknowledge), then
``TARGET/venv/bin/python -m pip install --disable-pip-version-check --no-input ...``
installs the requirements. Options that would reach another environment
(``PIP_USER``, ``PIP_TARGET``, ``PIP_PREFIX``, ``PYTHONHOME``) are removed from pip's
environment, and requirement strings may not carry pip options.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .. import proc
from ..errors import CommandFailed, InvalidInput, NotFound

_DROP = ("PIP_USER", "PIP_TARGET", "PIP_PREFIX", "PIP_BREAK_SYSTEM_PACKAGES", "PYTHONHOME",
         "PYTHONPATH", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")
_VERSION = ("import importlib.metadata as m, sys\n"
            "try:\n    print(m.version(sys.argv[1]))\nexcept m.PackageNotFoundError:\n    pass\n")


def venv_python(venv: str) -> str:
    """The interpreter of the venv at ``venv``."""
    if os.name == "nt":  # pragma: no cover - POSIX CI
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def pip_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without what would point pip elsewhere, and with prompts off."""
    out = {k: v for k, v in env.items() if k not in _DROP}
    out["PIP_NO_INPUT"] = "1"
    out["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return out


def strings(spec: Mapping[str, Any], key: str, method: str = "pip") -> list[str]:
    """The spec's ``key``: a string or a list of strings (an error names the method)."""
    value = spec.get(key)
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise InvalidInput(f"{method} `{key}` must be a string or a list of strings, not "
                           f"{value!r}")
    return list(items)


def check(spec: Mapping[str, Any]) -> list[str]:
    """Validate a pip spec; return its requirement strings."""
    packages = spec.get("packages")
    if isinstance(packages, str):
        packages = [packages]
    if not isinstance(packages, list) or not packages or \
            not all(isinstance(p, str) and p.strip() for p in packages):
        raise InvalidInput("a pip install needs `packages`: a list of requirement strings")
    for p in packages:
        if p.strip().startswith("-"):
            raise InvalidInput(f"pip requirement {p!r} is an option; use the spec's keys "
                               "(index_url, find_links, no_index, no_deps) instead")
    for key in ("index_url", "extra_index_url", "find_links"):
        strings(spec, key)
    return [p.strip() for p in packages]


def index_options(spec: Mapping[str, Any], method: str = "pip") -> list[str]:
    """pip's options for where packages come from: ``no_index``, ``index_url`` (one),
    ``extra_index_url`` and ``find_links`` of the spec."""
    args: list[str] = []
    if spec.get("no_index"):
        args.append("--no-index")
    for url in strings(spec, "index_url", method)[:1]:
        args += ["--index-url", url]
    for url in strings(spec, "extra_index_url", method):
        args += ["--extra-index-url", url]
    for link in strings(spec, "find_links", method):
        args += ["--find-links", link]
    return args


def find_python(python: object, env: Mapping[str, str] | None = None) -> str:
    """The interpreter to create the venv with: a path, a name on PATH, or sys.executable.

    ``$NAME`` / ``${NAME}`` are taken from ``env`` (what the package's dependencies
    exported, e.g. ``${CK_PYTHON_BIN}`` from a detected interpreter)."""
    if python is None:
        return sys.executable
    if not isinstance(python, str) or not python:
        raise InvalidInput(f"pip `python` must be an interpreter path, not {python!r}")
    if "$" in python:
        from string import Template

        try:
            python = Template(python).substitute(env or {})
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"pip `python` {python!r} names {exc} that no dependency "
                               "exports (declare a dependency that sets it)") from None
    found = python if os.sep in python else shutil.which(python)
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise NotFound(f"python interpreter {python!r} was not found (give a path to an "
                       "executable python, or leave `python` out to use the current one)")
    return found


def install(spec: Mapping[str, Any], target: str, env: Mapping[str, str],
            on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Create ``target/venv`` and pip-install ``spec["packages"]`` into it.

    Returns ``{"venv", "python", "version"}`` (the first package's installed version)."""
    packages = check(spec)
    python = find_python(spec.get("python"), env)
    venv = os.path.join(target, "venv")
    penv = pip_env(env)
    try:
        proc.run([python, "-m", "venv", venv], env=penv, on_line=on_line,
                 what="creating the venv")
    except CommandFailed as exc:
        hint = " (on Debian/Ubuntu, install the python3-venv package)" \
            if "ensurepip" in exc.message else ""
        raise CommandFailed(exc.message + hint, **exc.details) from None
    vpy = venv_python(venv)
    args = [vpy, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    pinned = hashed(spec)
    if pinned:
        # the pinned packages first, each file checked against its sha256 (pip's
        # hash-checking mode); the install below then adds only their dependencies
        reqs = os.path.join(target, "hashed-requirements.txt")
        with open(reqs, "w", encoding="utf-8") as fh:
            for req, digests in pinned.items():
                fh.write(req + "".join(f" --hash=sha256:{d}" for d in digests) + "\n")
        proc.run(args + ["--no-deps", "--require-hashes", *index_options(spec), "-r", reqs],
                 env=penv, on_line=on_line, what="pip install (sha256-checked)")
    if spec.get("no_deps"):
        args.append("--no-deps")
    args += index_options(spec)
    proc.run(args + ["--", *packages], env=penv, on_line=on_line, what="pip install")
    version = None
    name = requirement_name(packages[0])
    if name:
        version = proc.run([vpy, "-I", "-c", _VERSION, name], env=penv).strip() or None
    return {"venv": venv, "python": vpy, "version": version}


def hashed(spec: Mapping[str, Any]) -> dict[str, list[str]]:
    """The spec's ``sha256``: ``{"NAME==VERSION": digest or [digests]}``, checked."""
    raw = spec.get("sha256")
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput("pip `sha256` must map pinned requirements (NAME==VERSION) to "
                           "the sha256 of their files")
    from .download import check_sha256

    out: dict[str, list[str]] = {}
    for req, digests in raw.items():
        if not isinstance(req, str) or "==" not in req or req.strip().startswith("-"):
            raise InvalidInput(f"pip `sha256` key {req!r} must pin one version (NAME==VERSION)")
        items = digests if isinstance(digests, list) else [digests]
        out[req.strip()] = [check_sha256(d) for d in items]
    return out


def requirement_name(req: str) -> str | None:
    """The distribution name of a requirement string or wheel path, or None."""
    from packaging.requirements import InvalidRequirement, Requirement

    if req.endswith(".whl"):
        return os.path.basename(req).split("-", 1)[0]
    try:
        return Requirement(req).name
    except InvalidRequirement:
        return None
