"""Detected versions, registered under ``$CK_HOME/detect/<uid>.json`` and reused.

One file per detector (``soft`` entry) maps each real path to the signature of the file
when it was examined (``[mtime_ns, size, inode]``) and what was learned: its version, or
why it is not this tool. A later detection reuses a record while the signature is the
same and asks the tool again when the binary changed. The file also holds a key of the
detector itself (its ``detect`` section and hook), so editing the detector discards the
records. Writes are atomic; two processes writing at once lose at most a record, which
the next detection finds again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from ..store.metaio import atomic_write_text

FORMAT = 1


def file_sig(path: str) -> list[int] | None:
    """``[mtime_ns, size, inode]`` of ``path`` (following links), None if it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


class Results:
    """The records of one detector; ``home=None`` keeps them in memory only."""

    def __init__(self, home: str | None, uid: str, detector_key: str) -> None:
        safe = uid if re.fullmatch(r"[0-9A-Za-z_-]{1,64}", uid) \
            else hashlib.sha256(uid.encode("utf-8")).hexdigest()[:16]
        self.path = os.path.join(home, "detect", f"{safe}.json") if home else None
        self.key = detector_key
        self.records: dict[str, dict[str, Any]] = self._read()
        self.dirty = False

    def _read(self) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return {}
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT \
                or data.get("detector") != self.key or not isinstance(data.get("results"), dict):
            return {}
        return {k: v for k, v in data["results"].items() if isinstance(v, dict)}

    def get(self, key: str, sig: list[int] | None) -> dict[str, Any] | None:
        """The stored record for ``key`` if it was made for the same signature."""
        record = self.records.get(key)
        if record is None or sig is None or record.get("sig") != sig:
            return None
        return record

    def put(self, key: str, sig: list[int] | None, **record: Any) -> None:
        if sig is None:
            return
        record["sig"] = sig
        if self.records.get(key) != record:
            self.records[key] = record
            self.dirty = True

    def save(self) -> None:
        """Write the file if a record changed (atomically; an unwritable home is no error)."""
        if self.path is None or not self.dirty:
            return
        data = {"format": FORMAT, "detector": self.key, "results": self.records}
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        except OSError:
            return
        self.dirty = False
