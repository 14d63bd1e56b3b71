"""``cache``: the results of workflow steps: show, remove, collect garbage."""

from __future__ import annotations

from ..errors import InvalidInput, NotFound
from ..kernel.automation import Automation, action, split_tags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    return {"automation": "cache", "kind": rec.get("kind"), "name": rec.get("name"),
            "repo": "cache", "uid": rec.get("key"), "key": rec.get("key"),
            "version": rec.get("version"), "tags": rec.get("tags", []), "path": rec.get("path"),
            "created": rec.get("created")}


class CacheAutomation(Automation):
    name = "cache"
    summary = "cached results of workflow steps"

    def _store(self) -> Any:
        from ..cache.store import CacheStore

        return CacheStore(self.kernel.home)

    @action(writes=False, aliases=("find", "list", "search"))
    def show(self, artifact: str | None = None, tags: list[str] | None = None,
             no_tags: list[str] | None = None) -> dict[str, Any]:
        """List cached results (by --tags, or a name pattern)."""
        include, exclude = split_tags(tags, no_tags)
        return {"list": [_row(r) for r in self._store().select(include, exclude, artifact)]}

    @action
    def rm(self, artifact: str | None = None, tags: list[str] | None = None,
           force: bool = False, repo: str | None = None) -> dict[str, Any]:
        """Remove cached results by --tags or name pattern (several need --force)."""
        include, exclude = split_tags(tags)
        if not (artifact or include or exclude or force):
            raise InvalidInput("say which cached results to remove (--tags, a name) or --force "
                               "for all of them")
        store = self._store()
        found = store.select(include, exclude, artifact)
        if not found:
            raise NotFound("no cached result matches")
        if len(found) > 1 and not force:
            raise InvalidInput(f"{len(found)} cached results match; pass --force to remove them all")
        for rec in found:
            store.remove_folder(rec["path"])
        return {"list": [_row(r) for r in found]}

    @action
    def gc(self) -> dict[str, Any]:
        """Remove leftovers of interrupted runs and results whose recorded paths are gone."""
        removed = self._store().gc()
        return {"removed": removed, "count": sum(len(v) for v in removed.values())}
