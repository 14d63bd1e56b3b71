"""Reading entries of every supported layout into one normal form.

- ours and MLCFlow's: ``AUTOMATION/NAME/meta.yaml`` (or ``meta.json``) with ``uid``,
  ``alias``, ``tags``;
- CM's: ``AUTOMATION/NAME/_cm.yaml`` or ``_cm.json``;
- CK 1.x/2.x: ``MODULE/NAME/.cm/meta.json`` (no uid inside), ``.cm/info.json`` holding
  ``backup_data_uid``, and ``MODULE/.cm/alias-a-NAME`` files holding the UID.

Entries without any UID get a stable one derived from their repo, automation and name.
A CK entry's ``.cm/info.json`` and ``.cm/desc.json`` are not meta: :func:`entry_extras`
reads them for ``load`` (as ``info`` and ``desc``, as CK shows them).
"""

from __future__ import annotations

import json
import os

from ..errors import MetaError
from .cid import is_uid
from .index import Parsed
from .metaio import find_meta_file, read_meta

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any


def normalize_tags(value: Any) -> list[str]:
    """Tags from a list or a comma-separated string, stripped, without empties or repeats."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = [str(value)]
    out: list[str] = []
    for item in items:
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return out


def derived_uid(repo_uid: str, automation: str, name: str) -> str:
    import hashlib

    return hashlib.sha256(f"{repo_uid}/{automation}/{name}".encode()).hexdigest()[:16]


def _ck_uid(root: str, automation: str, name: str) -> str | None:
    entry = os.path.join(root, automation, name)
    try:
        with open(os.path.join(entry, ".cm", "info.json"), encoding="utf-8") as fh:
            uid = json.load(fh).get("backup_data_uid")
        if isinstance(uid, str) and is_uid(uid):
            return uid
    except (OSError, ValueError, AttributeError):
        pass
    try:
        with open(os.path.join(root, automation, ".cm", f"alias-a-{name}"), encoding="utf-8") as fh:
            uid = fh.read().strip()
        if is_uid(uid):
            return uid
    except OSError:
        pass
    return None


def read_entry(root: str, repo_uid: str, automation: str, name: str) -> Parsed:
    """Parse one entry folder; a broken meta file becomes ``Parsed.error``, never an exception."""
    entry = os.path.join(root, automation, name)
    meta_path = find_meta_file(entry)
    if meta_path is None:
        return Parsed(uid="", meta_file=None, tags=[], meta=None)
    rel = os.path.relpath(meta_path, entry)
    try:
        meta = read_meta(meta_path)
    except MetaError as exc:
        return Parsed(uid="", meta_file=rel, tags=[], meta=None, error=exc.message)
    uid = meta.get("uid")
    if isinstance(uid, int) and not isinstance(uid, bool):
        uid = str(uid)  # YAML reads an unquoted all-digit UID as a number
    if not (isinstance(uid, str) and is_uid(uid)):
        uid = (_ck_uid(root, automation, name) if rel.startswith(".cm") else None) \
            or derived_uid(repo_uid, automation, name)
    try:
        tags = normalize_tags(meta.get("tags"))
    except Exception:  # pragma: no cover - normalize_tags accepts anything
        tags = []
    return Parsed(uid=uid, meta_file=rel, tags=tags, meta=meta)


CK_EXTRAS = (("info", "info.json"), ("desc", "desc.json"))


def entry_extras(path: str, meta_file: str | None) -> dict[str, Any]:
    """What a CK 1.x/2.x entry keeps beside its meta: ``{"info": .cm/info.json (data_name,
    control, backup_data_uid...), "desc": .cm/desc.json}``, each only where the file
    holds a JSON object; {} for other layouts.

    ``path`` is the entry folder, ``meta_file`` its meta file relative to it (as the index
    stores it). A file that does not parse is left out: the meta is what counts."""
    if not meta_file or not meta_file.replace("\\", "/").startswith(".cm/"):
        return {}
    out: dict[str, Any] = {}
    for key, name in CK_EXTRAS:
        try:
            with open(os.path.join(path, ".cm", name), encoding="utf-8") as fh:
                value = json.load(fh)
        except (OSError, ValueError):
            continue
        if isinstance(value, dict):
            out[key] = value
    return out
