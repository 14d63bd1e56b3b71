"""Choosing one entry among several that match a query, without asking anyone.

Where CM lists the matching scripts and asks the user to pick one (and its ``--quiet``
takes the first), cknowledge never prompts. :func:`choose_entry` applies one documented,
deterministic rule (docs/entries.md, "When several entries match"):

1. entries that share a UID (the same entry copied into several repos) count once: the
   first of them in the candidates' order, which for :meth:`Store.find` results is the
   repo order of the registry, then the folder name;
2. the entries with the lowest meta ``sort`` (CM's key; a number, 0 when absent) stay;
3. if one entry is left it is chosen, else :class:`Ambiguous` lists them all, each as
   ``AUTOMATION:REPO:NAME``, with how to choose.

A caller may rank before step 2 (``prefer``) and may take the first of a tie instead of
failing (``tie="first"``, CM's ``--quiet``): the first in registry order, then folder name.
"""

from __future__ import annotations

from ..errors import Ambiguous, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, Literal

#: how many candidates an ambiguity error names before "and N more"
LISTED = 10


def sort_key(entry: Mapping[str, Any]) -> float:
    """The entry's meta ``sort`` as a number (0 when absent or not a number)."""
    meta = entry.get("meta") or {}
    value = meta.get("sort", 0) if isinstance(meta, dict) else 0
    if isinstance(value, bool):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def rank_candidates(candidates: Sequence[Mapping[str, Any]],
                    prefer: Callable[[Mapping[str, Any]], Any] | None = None
                    ) -> list[Mapping[str, Any]]:
    """The candidates that the rule keeps (steps 1 and 2), in their given order.

    ``prefer``: a caller's own ranking applied before ``sort`` (lower first), e.g. the
    runner's preference for CM or MLC scripts."""
    seen: set[str] = set()
    unique: list[Mapping[str, Any]] = []
    for entry in candidates:
        uid = str(entry.get("uid") or "")
        key = f"{entry.get('automation')}/{uid}" if uid else f"#{len(unique)}"
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    if not unique:
        return []

    def rank(entry: Mapping[str, Any]) -> tuple[Any, float]:
        return (prefer(entry) if prefer is not None else 0, sort_key(entry))

    low = min(rank(e) for e in unique)
    return [e for e in unique if rank(e) == low]


def choose_entry(candidates: Sequence[Mapping[str, Any]], automation: str, query: str,
                 prefer: Callable[[Mapping[str, Any]], Any] | None = None,
                 tie: Literal["error", "first"] = "error") -> Mapping[str, Any]:
    """The one entry the rule picks from ``candidates`` (dicts as :meth:`Store.find`
    returns them with ``with_meta=True``: automation, name, repo, uid, meta), in the
    store's order (registry order, then folder name).

    ``query`` says what was asked, for the messages (e.g. ``--tags=get,compiler``).
    ``prefer`` ranks before ``sort`` (see :func:`rank_candidates`). ``tie="first"``
    takes the first of a tie instead of failing (CM's ``--quiet``).
    Raises NotFound for no candidates and Ambiguous (code 9) when several are left, naming
    each as ``AUTOMATION:REPO:NAME``."""
    if not candidates:
        raise NotFound(f"no {automation} entry matches {query}")
    left = rank_candidates(candidates, prefer)
    if len(left) == 1 or tie == "first":
        return left[0]
    refs = [f"{e.get('automation') or automation}:{e.get('repo')}:{e.get('name')}" for e in left]
    shown = ", ".join(refs[:LISTED]) + (f" and {len(refs) - LISTED} more"
                                        if len(refs) > LISTED else "")
    raise Ambiguous(f"{query} matches {len(left)} {automation} entries: {shown}; "
                    f"choose one by naming it ({refs[0]}) or add a tag that only it has",
                    candidates=refs)
