"""Artifact-evaluation badges, computed from evidence (after the ACM definitions):

``available``   the paper is published on a hub, whose versions are immutable, and so is
                every artifact it lists;
``functional``  every claim's workflow ran to completion on one machine (a reproduction of
                the whole paper with no claim ``failed``);
``reproduced``  every claim has been reproduced (within its tolerance) in a reproduction
                submitted to the hub by a user who is not an owner of the paper.

Each rule returns ``{"badge", "earned", "evidence"}``; the evidence says why in words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

BADGES = ("available", "functional", "reproduced")


def available(paper_published: bool, artifacts: Mapping[str, bool],
              private: bool = False) -> dict[str, Any]:
    """``artifacts``: each listed component → whether the hub has a public published
    version; a private paper is not available (only its owners and readers see it)."""
    if private:
        return {"badge": "available", "earned": False,
                "evidence": "the paper is private on this hub (its owners make it public)"}
    if not paper_published:
        return {"badge": "available", "earned": False,
                "evidence": "the paper is not published on a hub (cb publish paper:NAME)"}
    missing = [name for name, ok in artifacts.items() if not ok]
    if missing:
        return {"badge": "available", "earned": False,
                "evidence": f"not published on the hub: {', '.join(sorted(missing))}"}
    return {"badge": "available", "earned": True,
            "evidence": f"the paper and its {len(artifacts)} artifact"
                        f"{'s' if len(artifacts) != 1 else ''} have immutable published "
                        "versions"}


def functional(claim_ids: Iterable[str], verdicts: Mapping[str, str]) -> dict[str, Any]:
    """From one reproduction: every claim ran (none left out, none failed)."""
    ids = list(claim_ids)
    left_out = [c for c in ids if c not in verdicts]
    failed = [c for c in ids if verdicts.get(c) == "failed"]
    if left_out:
        return {"badge": "functional", "earned": False,
                "evidence": f"claims not run: {', '.join(left_out)}"}
    if failed:
        return {"badge": "functional", "earned": False,
                "evidence": f"workflows that did not finish: {', '.join(failed)}"}
    return {"badge": "functional", "earned": True,
            "evidence": f"all {len(ids)} claims' workflows ran to completion"}


def functional_any(claim_ids: Iterable[str],
                   reproductions: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """Functional when one of the reproductions is."""
    ids = list(claim_ids)
    best: dict[str, Any] | None = None
    for verdicts in reproductions:
        one = functional(ids, verdicts)
        if one["earned"]:
            return one
        best = best or one
    return best or {"badge": "functional", "earned": False,
                    "evidence": "no reproduction has been submitted"}


def reproduced(claim_ids: Iterable[str], by_others: Mapping[str, int]) -> dict[str, Any]:
    """``by_others``: claim → how many reproductions by non-owners found it reproduced."""
    ids = list(claim_ids)
    missing = [c for c in ids if not by_others.get(c)]
    if missing:
        return {"badge": "reproduced", "earned": False,
                "evidence": "not yet reproduced by another user: " + ", ".join(missing)}
    return {"badge": "reproduced", "earned": True,
            "evidence": "every claim reproduced within tolerance by another user "
                        f"({min(by_others[c] for c in ids)}+ reproduction"
                        f"{'s' if min(by_others[c] for c in ids) != 1 else ''} each)"}
