"""Software detection as data: a ``soft`` entry's ``detect`` section plus one optional hook.

.. code-block:: yaml

    detect:
      executables: ["gcc", "gcc-[0-9]*"]   # globs matched against file names on PATH
      version_args: ["--version"]          # default
      version_regex: '\\)\\s+(\\d+(?:\\.\\d+)+)'  # group 1 (else the match) is the version
      reject_regex: 'clang'                # output matching it is another tool
      env: {CK_CC: "{path}", CK_GCC_VERSION: "{version}"}

or ``python_package: numpy`` (one distribution name or a list) for a package in the
interpreter given by ``python``. A ``detect.py`` in the entry folder may define
``determine_version(path) -> str | None`` (used instead of running ``version_args``) and
``candidates() -> list[str]`` (more paths to examine). Env templates may use ``{path}``,
``{dir}``, ``{version}``, ``{name}`` (the soft entry), ``{package}`` and ``{python}``.

:func:`detect` walks PATH once, examines each real binary once, skips (with a note) a
candidate that fails, filters by a version range and returns the newest first. What it
learns is kept in ``$CK_HOME/detect`` (:mod:`.results`) and reused while the binary is
unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import string
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ..errors import CKError, MetaError
from ..versions import Version, VersionRange
from . import pypkg
from .results import Results, file_sig
from .scan import find_executables, hook_stamp, load_hook

TIMEOUT = 10.0
NOTE_CHARS = 240
DEFAULT_REGEX = r"(\d+(?:\.\d+)+)"
PLACEHOLDERS = frozenset({"path", "dir", "version", "name", "package", "python"})


@dataclass(frozen=True)
class Found:
    """One installed piece of software: the soft entry's name, its version, where it is."""

    name: str
    version: str
    path: str
    env: dict[str, str] = field(default_factory=dict)
    real_path: str | None = None
    package: str | None = None
    python: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version, "path": self.path,
                               "env": dict(self.env)}
        for key in ("real_path", "package", "python"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Detector:
    """A parsed, checked ``detect`` section."""

    name: str
    uid: str
    folder: str
    executables: list[str]
    version_args: list[str]
    version_regex: re.Pattern[str]
    reject_regex: re.Pattern[str] | None
    python_packages: list[str]
    env: dict[str, str]
    key: str


def parse_detector(entry: dict[str, Any]) -> Detector:
    """Check an entry's ``detect`` section; ``MetaError`` names what is wrong."""
    name = str(entry.get("name") or "?")
    meta = entry.get("meta") or {}
    section = meta.get("detect")
    if not isinstance(section, dict):
        raise MetaError(f"soft entry {name!r} has no 'detect' section in its meta")

    def strings(key: str, default: list[str]) -> list[str]:
        value = section.get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MetaError(f"soft entry {name!r}: detect.{key} must be a string or a list "
                            "of strings")
        return list(value)

    def regex(key: str, default: str | None) -> re.Pattern[str] | None:
        text = section.get(key, default)
        if text is None:
            return None
        try:
            return re.compile(str(text), re.MULTILINE)
        except re.error as exc:
            raise MetaError(f"soft entry {name!r}: detect.{key} {text!r} is not a regular "
                            f"expression ({exc})") from None

    executables = strings("executables", [])
    packages = strings("python_package", [])
    if not executables and not packages and not os.path.isfile(
            os.path.join(str(entry.get("path", "")), "detect.py")):
        raise MetaError(f"soft entry {name!r}: detect needs 'executables' or 'python_package'")
    env = section.get("env") or {}
    if not isinstance(env, dict):
        raise MetaError(f"soft entry {name!r}: detect.env must be a mapping")
    for var, template in env.items():
        _check_template(name, str(var), str(template))
    stamp = json.dumps(section, sort_keys=True, default=str) + hook_stamp(str(entry.get("path")))
    version_regex = regex("version_regex", DEFAULT_REGEX)
    assert version_regex is not None
    return Detector(name=name, uid=str(entry.get("uid") or name), folder=str(entry.get("path")),
                    executables=executables, version_args=strings("version_args", ["--version"]),
                    version_regex=version_regex, reject_regex=regex("reject_regex", None),
                    python_packages=packages,
                    env={str(k): str(v) for k, v in env.items()},
                    key=hashlib.sha256(stamp.encode("utf-8")).hexdigest()[:16])


def _check_template(name: str, var: str, template: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise MetaError(f"soft entry {name!r}: env {var}={template!r}: {exc}") from None
    bad = [f for f in fields if f not in PLACEHOLDERS]
    if bad:
        raise MetaError(f"soft entry {name!r}: env {var}={template!r} uses {{{bad[0]}}}; "
                        f"known: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}")


def render_env(templates: dict[str, str], values: dict[str, str]) -> dict[str, str]:
    """Fill the env templates (checked by :func:`parse_detector`)."""
    return {var: text.format_map(values) for var, text in templates.items()}


def detect(entry: dict[str, Any], version: str | None = None, paths: list[str] | None = None,
           python: str | None = None, home: str | None = None,
           notes: list[str] | None = None) -> list[Found]:
    """What ``entry`` (as ``Store.load`` returns it) finds installed, newest first.

    ``version`` is a range (``>=9,<14``); ``paths`` replaces ``$PATH``; ``python`` is the
    interpreter for Python packages (default: this one); ``home`` holds the results files
    (default: ``$CK_HOME``). Candidates that are skipped are described in ``notes``."""
    from ..home import home_dir

    wanted = VersionRange(version)
    det = parse_detector(entry)
    notes = notes if notes is not None else []
    results = Results(home_dir(home), det.uid, det.key)
    hook = load_hook(det.folder, det.name)
    found: list[Found] = []
    if det.executables or _has(hook, "candidates"):
        found += _executables(det, hook, paths, results, notes)
    if det.python_packages:
        found += _python_packages(det, python or sys.executable, results, notes)
    results.save()
    found = [f for f in found if wanted.admits(f.version)]
    found.sort(key=lambda f: Version(f.version), reverse=True)  # stable: PATH order on ties
    return found


def _has(hook: ModuleType | None, name: str) -> bool:
    return hook is not None and callable(getattr(hook, name, None))


def _executables(det: Detector, hook: ModuleType | None, paths: list[str] | None,
                 results: Results, notes: list[str]) -> list[Found]:
    extra: list[str] = []
    if hook is not None and _has(hook, "candidates"):
        try:
            extra = [str(p) for p in hook.candidates()]
        except Exception as exc:
            notes.append(f"{det.name}: the hook's candidates() failed: {type(exc).__name__}: {exc}")
    out: list[Found] = []
    for cand in find_executables(det.executables, paths, extra):
        sig = file_sig(cand.real)
        record = results.get(cand.real, sig)
        if record is None:
            try:
                ver, reason = _examine(det, hook, cand.path)
            except Exception as exc:  # one broken candidate never stops the others
                notes.append(f"{det.name}: skipped {cand.path}: {_why(exc)}"[:NOTE_CHARS])
                continue
            results.put(cand.real, sig, version=ver, reason=reason)
        else:
            ver, reason = record.get("version"), record.get("reason")
        if not ver:
            notes.append(f"{det.name}: skipped {cand.path}: {reason or 'no version'}")
            continue
        values = {"path": cand.path, "dir": os.path.dirname(cand.path), "version": ver,
                  "name": det.name, "package": "", "python": ""}
        out.append(Found(det.name, ver, cand.path, render_env(det.env, values),
                         real_path=cand.real))
    return out


def _why(exc: Exception) -> str:
    """A short reason for a failed candidate (the command line is in the note already)."""
    if not isinstance(exc, CKError):
        return f"{type(exc).__name__}: {exc}"
    code = exc.details.get("returncode")
    if isinstance(code, int):
        from ..proc import describe_status

        tail = [line for line in exc.details.get("tail") or [] if str(line).strip()]
        return f"{describe_status(code)}" + (f" ({tail[-1]})" if tail else "")
    return exc.message


def _examine(det: Detector, hook: ModuleType | None, path: str) -> tuple[str | None, str | None]:
    """(version, None), or (None, why this is not the tool). Raises if the tool fails."""
    if hook is not None and _has(hook, "determine_version"):
        value = hook.determine_version(path)
        if not value:
            return None, "the detect hook found no version"
        text = str(value)
    else:
        from ..proc import run

        env = dict(os.environ, LC_ALL="C", LANG="C")
        output = run([path, *det.version_args], env=env, timeout=TIMEOUT,
                     what=f"the version query of {det.name}")
        if det.reject_regex is not None and det.reject_regex.search(output):
            return None, f"not {det.name} (its output matches {det.reject_regex.pattern!r})"
        match = det.version_regex.search(output)
        if match is None:
            first = output.strip().splitlines()[0][:80] if output.strip() else ""
            return None, f"no version in its output ({first!r})"
        text = match.group(1) if match.groups() else match.group(0)
    try:
        Version(text)
    except CKError:
        return None, f"{text!r} is not a version"
    return text, None


def _python_packages(det: Detector, python: str, results: Results,
                     notes: list[str]) -> list[Found]:
    interp = os.path.abspath(python)
    known: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for dist in det.python_packages:
        key = f"python:{interp}:{dist}"
        old = results.records.get(key) or {}
        record = results.get(key, _pkg_sig(interp, old.get("dist_info")))
        if record is not None:
            known[dist] = record
        else:
            missing.append(dist)
    if missing:
        for dist, fresh in pypkg.query(interp, missing).items():
            known[dist] = fresh
            results.put(f"python:{interp}:{dist}", _pkg_sig(interp, fresh.get("dist_info")),
                        version=fresh.get("version"), path=fresh.get("path"),
                        dist_info=fresh.get("dist_info"))
    out: list[Found] = []
    for dist in det.python_packages:
        info = known.get(dist)
        if info is None:
            continue
        ver, path = str(info.get("version") or ""), str(info.get("path") or "")
        try:
            Version(ver)
        except CKError:
            notes.append(f"{det.name}: {dist} in {interp} has no usable version ({ver!r})")
            continue
        values = {"path": path, "dir": os.path.dirname(path), "version": ver,
                  "name": det.name, "package": dist, "python": interp}
        out.append(Found(det.name, ver, path, render_env(det.env, values), package=dist,
                         python=interp))
    return out


def _pkg_sig(interp: str, dist_info: Any) -> list[int] | None:
    """The signature of an installed distribution: its metadata folder and the interpreter."""
    if not isinstance(dist_info, str):
        return None
    a, b = file_sig(dist_info), file_sig(interp)
    return None if a is None or b is None else a + b
