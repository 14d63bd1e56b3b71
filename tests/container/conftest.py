"""Container tests: an engine and the base image, a local repo with small entries.

Tests that build or run images take the ``engine`` fixture: it skips them with the reason
when this machine has no usable podman or no base image (``ck docker base`` makes it),
unless ``CK_REQUIRE_CONTAINER=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import backdate_tree

BASE = "localhost/ck-base:bookworm"


def _why_not() -> str | None:
    podman = shutil.which("podman")
    if podman is None:
        return "podman is not installed (.ci/run installs podman, runc, debootstrap)"
    done = subprocess.run([podman, "image", "inspect", BASE], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    if done.returncode != 0:
        return f"no base image {BASE} (make it: ck docker base)"
    return None


@pytest.fixture(scope="session")
def engine() -> Any:
    """The podman engine, with the base image present (else skip, or fail in CI)."""
    why = _why_not()
    if why is not None:
        if os.environ.get("CK_REQUIRE_CONTAINER") == "1":
            pytest.fail(f"CK_REQUIRE_CONTAINER=1 but {why}")
        pytest.skip(why)
    from cknowledge.container.engine import detect

    return detect("podman")


class Entries:
    """Entries in ``home/repos/local`` (written as a user would)."""

    def __init__(self, home: Path) -> None:
        self.root = home / "repos" / "local"

    def add(self, kind: str, name: str, meta: dict[str, Any],
            files: dict[str, str] | None = None) -> Path:
        import hashlib

        folder = self.root / kind / name
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"uid": hashlib.sha256(f"{kind}:{name}".encode()).hexdigest()[:16],
                "alias": name, "automation": kind, **meta}
        (folder / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
        for rel, text in (files or {}).items():
            (folder / rel).write_text(text)
        backdate_tree(self.root)
        return folder


@pytest.fixture
def entries(home: Path) -> Entries:
    return Entries(home)


GREET_SH = 'echo "hello from $(cat /etc/debian_version 2>/dev/null || echo host)"\n' \
           'echo "CK_GREETING=${CK_WHO:-nobody}@$(hostname)" >> "$CK_ENV_OUT"\n'


@pytest.fixture
def greet(entries: Entries) -> Entries:
    """script:greet (exports CK_GREETING from --who), and an unrelated entry."""
    entries.add("script", "greet", {"tags": ["greet"], "input_mapping": {"who": "CK_WHO"}},
                {"run.sh": GREET_SH})
    entries.add("script", "unrelated", {"tags": ["other"]}, {"run.sh": "echo no\n"})
    return entries
