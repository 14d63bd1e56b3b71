"""Cache keys: one function, one declared list of parts.

A step's key is the sha256 of the canonical JSON of these parts (see ``KEY_PARTS``):

- ``kind``       what made the result (script, package, soft);
- ``entry``      the component's meta, with volatile fields left out;
- ``files``      sha256 of every file of the component's folder;
- ``env``        the step's resolved inputs and environment (what it declares, after
                 defaults, variations, input mapping and explicit ``--env.K=V``);
- ``platform``   the platform facts the step depends on;
- ``deps``       the keys of its dependencies, by name.

Change any part and the key changes — and since a parent's key includes its
dependencies' keys, every step that depends on it misses too.
"""

from __future__ import annotations

import json
import os

from ..hashing import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

KEY_PARTS = ("kind", "entry", "files", "env", "platform", "deps")
VOLATILE_META = {"uid", "alias", "automation"}  # identity, kept out: a copy with the same content hits
META_NAMES = {"meta.yaml", "meta.json", "_cm.yaml", "_cm.json"}
_FILE_HASHES: dict[tuple[int, int, int, int], str] = {}


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def digest(obj: Any) -> str:
    return sha256(canonical(obj).encode()).hexdigest()


def file_digest(path: str) -> str:
    """sha256 of a file, remembered per process by its stat signature."""
    st = os.stat(path)
    sig = (hash(path), st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _FILE_HASHES.get(sig)
    if cached is None:
        h = sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        cached = _FILE_HASHES[sig] = h.hexdigest()
    return cached


def folder_digests(folder: str) -> dict[str, str]:
    """relative path → sha256 for the files of a component folder (no dot-files, caches)."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if name.startswith(".") or name.endswith(".pyc"):
                continue
            if root == folder and name in META_NAMES:
                continue  # the meta is its own part (``entry``), without its identity keys
            path = os.path.join(root, name)
            if os.path.isfile(path):
                out[os.path.relpath(path, folder).replace(os.sep, "/")] = file_digest(path)
    return out


def key_parts(kind: str, meta: dict[str, Any], folder: str | None, env: dict[str, Any],
              platform: dict[str, Any], deps: dict[str, str]) -> dict[str, str]:
    """The digest of each part (kept in lockfiles, so a mismatch can name the part)."""
    entry = {k: v for k, v in meta.items() if k not in VOLATILE_META}
    return {
        "kind": kind,
        "entry": digest(entry),
        "files": digest(folder_digests(folder)) if folder else digest({}),
        "env": digest(env),
        "platform": digest(platform),
        "deps": digest(deps),
    }


def make_key(parts: dict[str, str]) -> str:
    assert tuple(sorted(parts)) == tuple(sorted(KEY_PARTS)), parts
    return digest([parts[p] for p in KEY_PARTS])[:32]
