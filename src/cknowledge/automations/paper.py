"""``paper``: live papers — claims linked to the workflows that produce them.

``ck add paper:NAME @paper.yaml`` (title, authors, venue, doi/arxiv, abstract, hardware,
claims, artifacts, checklist; checked before anything is written), ``ck check paper:NAME``,
``ck reproduce paper:NAME [--claims=a,b] [--submit]`` (run, judge, report),
``ck badges paper:NAME`` (the hub's badges and reproductions). See docs/papers.md.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..kernel.automation import Automation, _with_repo, action
from ..store.cid import parse_artifact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..papers.schema import Paper


class PaperAutomation(Automation):
    name = "paper"
    summary = "live papers: claims that reproduce with one command, badges from evidence"
    meta_file = "meta.yaml"

    def _entry(self, artifact: str | None, repo: str | None = None
               ) -> tuple[dict[str, Any], Paper]:
        from ..papers.schema import check_paper

        if not artifact:
            raise InvalidInput("name the paper: paper:NAME ('ck find paper' lists them)")
        if artifact.startswith("paper:"):
            artifact = artifact[len("paper:"):]
        entry = self.store.load(self.name, _with_repo(parse_artifact(artifact), repo))
        entry.pop("meta_file", None)
        return entry, check_paper(entry.get("meta") or {}, f"paper:{entry['name']}")

    @action
    def add(self, artifact: str | None = None, tags: list[str] | None = None,
            meta: dict[str, Any] | None = None, uid: str | None = None,
            repo: str | None = None, **fields: Any) -> dict[str, Any]:
        """Create a paper entry: --title, --authors, --claims... (or @paper.yaml, or
        --meta); the claims are checked first, so a bad meta writes nothing."""
        from ..papers.schema import check_paper

        merged = {**(meta or {}), **fields}
        check_paper({**merged, "tags": tags or merged.get("tags") or []},
                    f"paper:{artifact or '?'}")
        return super().add(artifact, tags=tags, meta=merged, uid=uid, repo=repo)

    @action(writes=False)
    def check(self, artifact: str | None = None, repo: str | None = None) -> dict[str, Any]:
        """Check a paper's meta (claims, tolerances, workflows, checklist) without running."""
        entry, paper = self._entry(artifact, repo)
        workflows = {c.workflow.model_dump_json() for c in paper.claims}
        text = (f"paper:{entry['name']}: {len(paper.claims)} claims, {len(workflows)} "
                f"workflow{'s' if len(workflows) != 1 else ''}, {len(paper.artifacts)} "
                f"artifacts, {len(paper.checklist)} checklist answers: valid")
        return {"name": entry["name"], "claims": [c.id for c in paper.claims],
                "workflows": len(workflows), "valid": True, "text": text}

    @action
    def reproduce(self, artifact: str | None = None, claims: list[str] | None = None,
                  output: str | None = None, submit: bool = False, hub: str | None = None,
                  repo: str | None = None, quiet: bool = False) -> dict[str, Any]:
        """Run each claim's workflow here, compare with the claimed values and write
        report.json and report.html (--claims=a,b: only those; --submit: post the
        reproduction to the hub's paper page)."""
        from ..papers.reproduce import reproduce

        entry, paper = self._entry(artifact, repo)
        result = reproduce(self.kernel, entry, paper, claims, output=output,
                           on_line=self.kernel.output(quiet))
        if submit:
            from ..client.papers import submit_reproduction

            sent = submit_reproduction(self.kernel.home, entry["name"],
                                       _submission(result), hub)
            result["submitted"] = sent
            result["text"] += f"\nsubmitted to {sent['url']}"
        return result

    @action(writes=False)
    def badges(self, artifact: str | None = None, hub: str | None = None) -> dict[str, Any]:
        """The paper's badges and reproductions as the hub shows them."""
        from ..client.papers import paper_status

        if not artifact:
            raise InvalidInput("name the paper: paper:NAME")
        name = artifact[len("paper:"):] if artifact.startswith("paper:") else artifact
        return paper_status(self.kernel.home, name, hub)


def _submission(report: dict[str, Any]) -> dict[str, Any]:
    """What the hub takes from a reproduction report."""
    claims = {}
    for cid, v in report["claims"].items():
        one = {"verdict": v["verdict"]}
        m = v.get("measured")
        if isinstance(m, dict):
            one["measured"] = m["mean"]
        if v.get("points"):
            one["points"] = {k: (p.get("measured") or {}).get("mean")
                             for k, p in v["points"].items()}
        if v.get("reason"):
            one["reason"] = str(v["reason"])[:1000]
        claims[cid] = one
    return {"paper_version": report["paper"].get("version") or "",
            "claims": claims, "platform": report["platform"],
            "hardware_class": report["hardware_class"], "complete": report["complete"],
            "cknowledge": report["cknowledge"], "reproduced_at": report["reproduced_at"]}
