"""``ck docker base``: a minimal Debian base image made from the distribution's package
mirror, for machines that reach no image registry.

The recipe (docs/containers.md): ``debootstrap --variant=minbase SUITE ROOT MIRROR`` into a
temporary folder, drop apt's downloaded archives and lists, pack the folder with ``tar
--numeric-owner`` and ``ENGINE import`` it as ``localhost/ck-base:SUITE``. The mirror is
the host's own (its apt sources), so it works wherever apt works.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time

from ..errors import CommandFailed, InvalidInput, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .engine import Engine

DEFAULT_SUITE = "bookworm"
FALLBACK_MIRROR = "http://deb.debian.org/debian"
REGISTRY_BASE = "docker.io/library/debian:{suite}-slim"


def base_tag(suite: str = DEFAULT_SUITE) -> str:
    return f"localhost/ck-base:{suite}"


def default_base(engine: Engine, suite: str = DEFAULT_SUITE) -> str:
    """The base ``ck docker build`` uses without --base: the image ``ck docker base`` made
    when the engine has it, else Debian's slim image from the registry."""
    tag = base_tag(suite)
    return tag if engine.image(tag) is not None else REGISTRY_BASE.format(suite=suite)


def host_mirror(sources_root: str = "/etc/apt") -> str:
    """The first Debian mirror of the host's apt sources (not its security archive)."""
    from .hostcfg import apt_sources

    for path, data in apt_sources(sources_root).items():
        if "/keyrings/" in path or path.endswith(".gpg"):
            continue
        text = data.decode("utf-8", "replace")
        for uri in re.findall(r"^\s*URIs:\s*(\S+)", text, re.MULTILINE) + \
                re.findall(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.MULTILINE):
            if "security" not in uri and uri.rstrip("/").endswith("/debian"):
                return str(uri).rstrip("/")
    return FALLBACK_MIRROR


def make_base(engine: Engine, suite: str = DEFAULT_SUITE, mirror: str | None = None,
              tag: str | None = None, on_line: Callable[[str], None] | None = None
              ) -> dict[str, Any]:
    from .. import proc

    if not re.fullmatch(r"[a-z][a-z0-9-]*", suite):
        raise InvalidInput(f"--suite={suite}: not a Debian suite name (e.g. bookworm)")
    debootstrap = shutil.which("debootstrap") or next(
        (p for p in ("/usr/sbin/debootstrap", "/sbin/debootstrap") if os.path.exists(p)), None)
    if debootstrap is None:
        raise NotFound("debootstrap is not installed; install it: sudo apt-get install debootstrap")
    if os.geteuid() != 0:
        raise CommandFailed("ck docker base needs root (debootstrap makes device nodes and "
                            "chroots): run it as root or with sudo")
    mirror = mirror or host_mirror()
    tag = tag or base_tag(suite)
    started = time.perf_counter()
    work = tempfile.mkdtemp(prefix="ck-base-", dir=os.environ.get("CK_BASE_TMP") or "/var/tmp")
    try:
        root = os.path.join(work, "root")
        proc.run([debootstrap, "--variant=minbase", suite, root, mirror], on_line=on_line,
                 what="debootstrap")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            folder = os.path.join(root, junk)
            for name in os.listdir(folder) if os.path.isdir(folder) else []:
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    os.unlink(path)
        tarball = os.path.join(work, "root.tar")
        proc.run(["tar", "--numeric-owner", "-C", root, "-cf", tarball, "."], what="tar")
        proc.run(engine.argv("import", "--change", 'CMD ["bash"]', tarball, tag),
                 on_line=on_line, what=f"{engine.name} import")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info = engine.image(tag) or {}
    seconds = round(time.perf_counter() - started, 1)
    return {"image": tag, "id": info.get("id"), "size": info.get("size"), "suite": suite,
            "mirror": mirror, "engine": engine.name, "seconds": seconds,
            "text": f"{tag}: Debian {suite} (minbase from {mirror}), "
                    f"{(info.get('size') or 0) / 1e6:.0f} MB, made in {seconds} s with {engine.name}"}
