"""docs/automations.md names every built-in automation (the list users read to learn which
names cannot be replaced)."""

from __future__ import annotations

import re
from pathlib import Path

from cknowledge.kernel.registry import BUILTIN

ROOT = Path(__file__).resolve().parents[1]


def test_every_builtin_automation_is_listed() -> None:
    doc = (ROOT / "docs" / "automations.md").read_text(encoding="utf-8")
    listed = re.search(r"1\. the built-ins \((.*?)\)", doc, re.S)
    assert listed, "the built-ins list is gone from docs/automations.md"
    names = set(re.findall(r"`([a-z]+)`", listed.group(1)))
    assert sorted(set(BUILTIN) - names) == []
