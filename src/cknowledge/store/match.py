"""Matching an entry's meta against ``--meta.KEY=VALUE`` filters (``find``)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any


def leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out: list[tuple[tuple[str, ...], Any]] = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.extend(leaves(value, prefix + (key,)))
        else:
            out.append((prefix + (key,), value))
    return out


def same_value(have: Any, want: Any) -> bool:
    if isinstance(have, list):
        wanted = want if isinstance(want, list) else [want]
        return all(any(same_value(h, w) for h in have) for w in wanted)
    if isinstance(want, str) and not isinstance(have, str):
        if isinstance(have, bool):
            return want.lower() in (("true", "yes", "1") if have else ("false", "no", "0"))
        return have is not None and str(have) == want
    return bool(have == want)


def matches(meta: dict[str, Any], want: list[tuple[tuple[str, ...], Any]]) -> bool:
    for path, value in want:
        node: Any = meta
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        if not same_value(node, value):
            return False
    return True
