"""cknowledge itself for the image: a wheel of the installed package, its pinned dependencies.

:func:`write_wheel` packs the running ``cknowledge`` package folder (an editable checkout
or an installed copy alike) with the installed distribution's ``METADATA`` and entry
points into a wheel whose bytes depend on the files' content only (sorted members, fixed
dates), so an unchanged tool gives an unchanged image layer. :func:`pinned_requirements`
lists the installed versions of everything the base install needs (the closure of the
distribution's requirements without extras), so the image gets the host's versions.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zipfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DIST = "cknowledge"
_DATE = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def _package_dir() -> str:
    import cknowledge

    return os.path.dirname(os.path.abspath(cknowledge.__file__))


def _members() -> list[tuple[str, str]]:
    """(archive name, file path) of the package's files, sorted."""
    root = _package_dir()
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                continue
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                rel = os.path.relpath(path, os.path.dirname(root)).replace(os.sep, "/")
                out.append((rel, path))
    return sorted(out)


def write_wheel(folder: str) -> str:
    """Write ``cknowledge-VERSION-py3-none-any.whl`` into ``folder``; return its path."""
    from importlib.metadata import distribution

    from .. import __version__

    dist = distribution(DIST)
    info = f"{DIST}-{__version__}.dist-info"
    extra = {
        f"{info}/METADATA": metadata_text(dist, __version__).encode(),
        f"{info}/entry_points.txt": entry_points_text(dist).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: cknowledge\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
    }
    path = os.path.join(folder, f"{DIST}-{__version__}-py3-none-any.whl")
    record = []
    tmp = path + ".part"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: bytes) -> None:
            item = zipfile.ZipInfo(name, _DATE)
            item.external_attr = 0o644 << 16
            item.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(item, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{name},sha256={digest.decode()},{len(data)}")

        for name, file in _members():
            with open(file, "rb") as fh:
                add(name, fh.read())
        for name, data in extra.items():
            add(name, data)
        record.append(f"{info}/RECORD,,")
        item = zipfile.ZipInfo(f"{info}/RECORD", _DATE)
        item.external_attr = 0o644 << 16
        zf.writestr(item, "\n".join(record) + "\n", zipfile.ZIP_DEFLATED)
    os.replace(tmp, path)
    return path


def metadata_text(dist: Any, version: str) -> str:
    """Core metadata of the wheel: name, this version and the Python it needs. The
    requirements are left out: the image installs them pinned, from requirements.txt, and
    the wheel with --no-deps (and an egg-info left in a checkout would give other text)."""
    lines = ["Metadata-Version: 2.1", f"Name: {DIST}", f"Version: {version}"]
    python = dist.metadata.get("Requires-Python")
    if python:
        lines.append(f"Requires-Python: {python}")
    return "\n".join(lines) + "\n"


def entry_points_text(dist: Any) -> str:
    """The distribution's entry points (``ck``, ``cb``), sorted: the same for any metadata."""
    groups: dict[str, list[str]] = {}
    for ep in dist.entry_points:
        groups.setdefault(ep.group, []).append(f"{ep.name} = {ep.value}")
    return "".join(f"[{g}]\n" + "\n".join(sorted(set(v))) + "\n\n" for g, v in sorted(groups.items()))


def pinned_requirements(dist_name: str = DIST) -> list[str]:
    """``name==version`` for every distribution the base install of ``dist_name`` needs."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(dist_name, frozenset())]
    while todo:
        name, extras = todo.pop()
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not any(
                    req.marker.evaluate({"extra": e}) for e in (extras or {""})):
                continue
            key = _canonical(req.name)
            if key in seen:
                continue
            try:
                version = distribution(req.name).version
            except PackageNotFoundError:
                continue
            seen[key] = f"{key}=={version}"
            todo.append((req.name, frozenset(req.extras)))
    seen.pop(_canonical(dist_name), None)
    return [seen[k] for k in sorted(seen)]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
