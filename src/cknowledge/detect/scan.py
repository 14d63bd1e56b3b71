"""The PATH walk and the optional ``detect.py`` hook of a ``soft`` entry.

:func:`find_executables` lists each folder once and keeps the executable files whose
names match a detector's glob patterns, one per real file (``/usr/bin/gcc`` and the
``gcc-12`` it links to are one binary, reported under the first name met on PATH).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import sys
from dataclasses import dataclass
from types import ModuleType

from ..errors import PluginError

HOOK_FILE = "detect.py"


@dataclass(frozen=True)
class Candidate:
    """An executable to ask for its version: the path met first and the real file."""

    path: str
    real: str


def search_dirs(paths: list[str] | None = None) -> list[str]:
    """``paths`` (or the folders of ``$PATH``), absolute, each real folder once."""
    if paths is None:
        paths = os.environ.get("PATH", "").split(os.pathsep)
    seen: set[str] = set()
    out: list[str] = []
    for folder in paths:
        if not folder:
            continue
        real = os.path.realpath(folder)
        if real not in seen and os.path.isdir(real):
            seen.add(real)
            out.append(os.path.abspath(folder))
    return out


def _exe_name(name: str) -> str | None:
    """The name to match patterns against; on Windows without a PATHEXT suffix."""
    if sys.platform != "win32":
        return name
    root, ext = os.path.splitext(name)
    exts = os.environ.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").lower().split(";")
    return root if ext.lower() in exts else None


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_executables(patterns: list[str], paths: list[str] | None = None,
                     extra: list[str] | None = None) -> list[Candidate]:
    """Executable files matching ``patterns`` in PATH order, then ``extra`` paths."""
    found: list[Candidate] = []
    seen: set[str] = set()

    def consider(path: str) -> None:
        if not _is_executable(path):
            return
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            found.append(Candidate(path, real))

    for folder in search_dirs(paths):
        try:
            names = sorted(e.name for e in os.scandir(folder))
        except OSError:
            continue
        for name in names:
            bare = _exe_name(name)
            if bare is not None and any(fnmatch.fnmatchcase(bare, p) for p in patterns):
                consider(os.path.join(folder, name))
    for path in extra or []:
        consider(os.path.abspath(os.path.expanduser(path)))
    return found


_hooks: dict[str, tuple[int, ModuleType]] = {}


def load_hook(entry_path: str, entry_name: str) -> ModuleType | None:
    """The entry's ``detect.py`` as a module (None if it has none); reloaded when edited."""
    path = os.path.join(entry_path, HOOK_FILE)
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    cached = _hooks.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    module_name = f"_ck_soft_detect_{abs(hash(path)):x}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"the detect hook of soft entry {entry_name!r} ({path}) failed to "
                          f"load: {type(exc).__name__}: {exc}") from None
    _hooks[path] = (mtime, module)
    return module


def hook_stamp(entry_path: str) -> str:
    """A text that changes when the hook file changes (part of the results-file key)."""
    try:
        st = os.stat(os.path.join(entry_path, HOOK_FILE))
    except OSError:
        return ""
    return f"{st.st_mtime_ns}:{st.st_size}"
