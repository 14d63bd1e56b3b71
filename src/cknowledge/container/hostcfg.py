"""What the build copies from the host's package configuration: apt sources, pip indexes.

Apt inside the image uses the host's own mirrors: the enabled ``/etc/apt/sources.list`` and
``sources.list.d/*.list|*.sources`` files (other names, e.g. ``*.disabled``, apt ignores too)
and the keyrings they name with ``Signed-By`` / ``signed-by=``. Pip uses the host's
index URLs (``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL``, else ``pip config``'s
``index-url`` / ``extra-index-url``); ``file://`` indexes and local ``find-links``
folders exist only on the host and are left out (named in the result's ``skipped``). A
certificate bundle pip is told to trust (``PIP_CERT`` / ``cert``: e.g. a proxy's CA) is
copied into the image and named in its ``pip.conf``.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APT_ROOT = "/etc/apt"
#: where the host's pip certificate bundle (``cert``) goes in the image
IMAGE_CERT = "/etc/ck/pip-ca.pem"
_SIGNED_BY = re.compile(r"(?:Signed-By:\s*|signed-by=)(/[^\s\]]+)", re.IGNORECASE)


def apt_sources(root: str = APT_ROOT) -> dict[str, bytes]:
    """Image path → content for the host's enabled apt sources and their keyrings."""
    files: dict[str, bytes] = {}
    main = os.path.join(root, "sources.list")
    if os.path.isfile(main):
        files["/etc/apt/sources.list"] = _read(main)
    folder = os.path.join(root, "sources.list.d")
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.endswith((".list", ".sources")) and os.path.isfile(path):
                files[f"/etc/apt/sources.list.d/{name}"] = _read(path)
    for text in list(files.values()):
        for key in _SIGNED_BY.findall(text.decode("utf-8", "replace")):
            if os.path.isfile(key):
                files[key] = _read(key)
    return files


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def pip_indexes(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``{"index_url": str|None, "extra_index_urls": [...], "skipped": [...]}``."""
    env = dict(os.environ if environ is None else environ)
    index = env.get("PIP_INDEX_URL")
    extra = env.get("PIP_EXTRA_INDEX_URL", "").split()
    config = _pip_config()
    if index is None or not extra:
        index = index or config.get("index-url")
        extra = extra or config.get("extra-index-url", "").split()
    skipped: list[str] = []
    usable_extra: list[str] = []
    for url in extra:
        (usable_extra if _reachable_inside(url) else skipped).append(url)
    if index and not _reachable_inside(index):
        skipped.insert(0, index)
        index = None
    for link in (env.get("PIP_FIND_LINKS") or config.get("find-links", "")).split():
        skipped.append(link)
    cert = env.get("PIP_CERT") or config.get("cert")
    return {"index_url": index, "extra_index_urls": usable_extra, "skipped": skipped,
            "cert": cert if cert and os.path.isfile(cert) else None}


def _reachable_inside(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _pip_config() -> dict[str, str]:
    """``global.KEY`` values of ``pip config list`` (host files and environment)."""
    import subprocess
    import sys

    try:
        done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return {}
    out: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, eq, value = line.partition("=")
        if not eq or not key.startswith(("global.", "install.")):
            continue
        out.setdefault(key.split(".", 1)[1], value.strip().strip("'\""))
    return out


def pip_conf_text(indexes: dict[str, Any]) -> str:
    """The image's ``/etc/pip.conf``."""
    lines = ["[global]", "disable-pip-version-check = true", "no-cache-dir = true"]
    if indexes.get("index_url"):
        lines.append(f"index-url = {indexes['index_url']}")
    if indexes.get("extra_index_urls"):
        lines.append("extra-index-url = " + " ".join(indexes["extra_index_urls"]))
    if indexes.get("cert"):
        lines.append(f"cert = {IMAGE_CERT}")
    return "\n".join(lines) + "\n"
