"""The hub client's paper calls: submit a reproduction (``ck reproduce ... --submit``),
read a paper's badges and reproductions, and the visibility of private items
(``cb share``, ``cb invite``)."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from .ops import _client, _q
from .resolve import split_component


def submit_reproduction(home: str, paper: str, submission: dict[str, Any],
                        hub: str | None = None, retries: int = 3) -> dict[str, Any]:
    """Post one reproduction of ``paper`` (published on the hub as ``paper:NAME``)."""
    if not isinstance(submission, dict):
        raise InvalidInput("a reproduction must be a JSON object (claims, platform, ...)")
    with _client(home, hub) as client:
        answer = client.post_json(f"/papers/{_q(paper)}/reproductions", json=submission,
                                  retries=retries)
        url = client.url
    out = dict(answer)
    out.update(hub=url, paper=paper, url=f"{url}/papers/{_q(paper)}")
    return out


def paper_status(home: str, paper: str, hub: str | None = None) -> dict[str, Any]:
    """The hub's view of ``paper``: claims, badges, verdict counts per claim."""
    with _client(home, hub) as client:
        answer = client.get_json(f"/papers/{_q(paper)}")
        url = client.url
    out = dict(answer)
    lines = [f"paper:{paper} at {url}/papers/{_q(paper)}: "
             f"{out.get('reproductions', 0)} reproductions"]
    for b in out.get("badges") or []:
        lines.append(f"  badge {b['badge']}: {'earned' if b['earned'] else 'not earned'} "
                     f"({b['evidence']})")
    out["text"] = "\n".join(lines)
    return out


def set_visibility(home: str, component: str, private: bool,
                   hub: str | None = None) -> dict[str, Any]:
    """Make ``AUTOMATION:NAME`` (or ``scoreboard:NAME``) private or public (owners)."""
    kind, name = split_component(component)  # scoreboard:NAME too
    with _client(home, hub) as client:
        answer = client.post_json(f"{_base(kind, name)}/visibility", json={"private": private})
    out = dict(answer)
    out["text"] = f"{component} is now {'private' if private else 'public'}"
    return out


def invite(home: str, component: str, user: str, hub: str | None = None) -> dict[str, Any]:
    """Let ``user`` read the private ``AUTOMATION:NAME`` (or ``scoreboard:NAME``)."""
    kind, name = split_component(component)  # scoreboard:NAME too
    if not user:
        raise InvalidInput("name the user to invite: --user=NAME")
    with _client(home, hub) as client:
        answer = client.post_json(f"{_base(kind, name)}/readers", json={"user": user})
    out = dict(answer)
    out["text"] = f"{user} may now read {component}"
    return out


def _base(kind: str, name: str) -> str:
    if kind == "scoreboard":
        return f"/scoreboards/{_q(name)}"
    return f"/components/{_q(kind, name)}"
