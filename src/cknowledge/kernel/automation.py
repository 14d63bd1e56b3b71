"""The automation base class and the ``@action`` marker.

An automation is a class; its actions are methods marked with ``@action``. The
method's keyword parameters are the action's documented inputs (their annotations
drive the conversion of CLI strings; the docstring's first line is its summary).
A method that takes ``**inputs`` accepts any further keys.

Every automation inherits the core actions on its entries: add, load, update, rm,
ren, cp, mv, find (alias search) and list.
"""

from __future__ import annotations


from ..errors import InvalidInput, NotFound
from ..store.cid import ArtifactRef, parse_artifact
from ..store.legacy import normalize_tags

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from collections.abc import Callable
    from typing import Any, ClassVar, TypeVar, overload

    from ..store.store import Store

if TYPE_CHECKING:
    from .kernel import Kernel

if TYPE_CHECKING:
    F = TypeVar("F", bound=Callable[..., Any])

    @overload
    def action(func: F) -> F: ...

    @overload
    def action(*, writes: bool = True, aliases: tuple[str, ...] = (),
               name: str | None = None) -> Callable[[F], F]: ...

    def action(func: Any = None, *, writes: bool = True, aliases: tuple[str, ...] = (),
               name: str | None = None) -> Any: ...
else:
    def action(func=None, *, writes=True, aliases=(), name=None):
        """Mark a method as an action. ``writes=False`` lets REST call it without a token;
        ``aliases`` are more names for it; ``name`` gives the action a name that is not a
        valid method name (``import``)."""

        def mark(f):
            f.__ck_action__ = {"writes": writes, "aliases": aliases, "name": name}
            return f

        return mark(func) if func is not None else mark


def split_tags(tags: Any, no_tags: Any = None) -> tuple[list[str], list[str]]:
    """``a,b,-c`` → (['a', 'b'], ['c']); ``no_tags`` adds exclusions."""
    include, exclude = [], []
    for tag in normalize_tags(tags):
        if tag.startswith("-") and len(tag) > 1:
            exclude.append(tag[1:])
        else:
            include.append(tag)
    exclude.extend(normalize_tags(no_tags))
    return include, exclude


class Automation:
    """Base of every automation: the core actions on entries of ``self.name``."""

    name: str = ""
    summary: ClassVar[str] = "entries of this kind"
    meta_file: ClassVar[str] = "meta.json"

    def __init__(self, kernel: Kernel, name: str | None = None) -> None:
        self.kernel = kernel
        if name:
            self.name = name

    @property
    def store(self) -> Store:
        return self.kernel.store

    # -- the core actions ----------------------------------------------------------------
    @action
    def add(self, artifact: str | None = None, tags: list[str] | None = None,
            meta: dict[str, Any] | None = None, uid: str | None = None,
            repo: str | None = None) -> dict[str, Any]:
        """Create an entry: ARTIFACT is [REPO:]NAME; --tags, --meta.KEY=VALUE, --uid."""
        ref = _with_repo(parse_artifact(artifact), repo)
        return self.store.add(self.name, ref, meta=meta, tags=tags, uid=uid,
                              meta_file=self.meta_file)

    @action(writes=False)
    def load(self, artifact: str, repo: str | None = None) -> dict[str, Any]:
        """Load one entry with its meta (by alias, UID or REPO:NAME)."""
        from ..store.legacy import entry_extras

        entry = self.store.load(self.name, _with_repo(parse_artifact(artifact), repo))
        entry.update(entry_extras(entry["path"], entry.pop("meta_file", None)))
        return entry

    @action
    def update(self, artifact: str, meta: dict[str, Any] | None = None,
               tags: list[str] | None = None, replace: bool = False,
               repo: str | None = None) -> dict[str, Any]:
        """Merge --meta.KEY=VALUE into an entry's meta (--replace to overwrite it); --tags sets tags."""
        entry = self.store.update(self.name, _with_repo(parse_artifact(artifact), repo),
                                  meta=meta, tags=tags, replace=replace)
        entry.pop("meta_file", None)
        return entry

    @action
    def rm(self, artifact: str | None = None, tags: list[str] | None = None,
           force: bool = False, repo: str | None = None) -> dict[str, Any]:
        """Remove entries by name, pattern or --tags (several need --force)."""
        include, exclude = split_tags(tags)
        ref = _with_repo(parse_artifact(artifact), repo)
        if include or exclude:
            found = self.store.find(self.name, ref, include, exclude)
            if not found:
                raise NotFound(f"no {self.name} entry has the tags {','.join(tags or [])}"
                               + self.store.near_tags(self.name, include))
            if len(found) > 1 and not force:
                raise InvalidInput(f"--tags match {len(found)} {self.name} entries; pass --force "
                                   "to remove them all")
            removed = []
            for entry in found:
                removed.extend(self.store.remove(self.name, ArtifactRef(entry["repo"], entry["name"]),
                                                 force=True))
            return {"list": removed}
        return {"list": self.store.remove(self.name, ref, force=force)}

    @action
    def ren(self, artifact: str, new_name: str | None = None, target: str | None = None) -> dict[str, Any]:
        """Rename an entry: ck ren AUTO:OLD NEW (keeps its UID)."""
        new = parse_artifact(target or new_name)
        if new.name is None:
            raise InvalidInput("give the new name: ck ren AUTOMATION:OLD NEW")
        return self.store.copy(self.name, parse_artifact(artifact), new, move=True)

    @action
    def cp(self, artifact: str, target: str | None = None) -> dict[str, Any]:
        """Copy an entry to [REPO:]NAME (a new UID)."""
        if not target:
            raise InvalidInput("give the target: ck cp AUTOMATION:NAME [REPO:]NEW")
        return self.store.copy(self.name, parse_artifact(artifact), parse_artifact(target))

    @action
    def mv(self, artifact: str, target: str | None = None) -> dict[str, Any]:
        """Move an entry to [REPO:]NAME, also into another repo (keeps its UID)."""
        if not target:
            raise InvalidInput("give the target: ck mv AUTOMATION:NAME REPO:[NAME]")
        return self.store.copy(self.name, parse_artifact(artifact), parse_artifact(target),
                               move=True)

    @action(writes=False, aliases=("search", "list"))
    def find(self, artifact: str | None = None, tags: list[str] | None = None,
             no_tags: list[str] | None = None, meta: dict[str, Any] | None = None,
             repo: str | None = None, with_meta: bool = False) -> dict[str, Any]:
        """Find entries by name pattern, --tags=a,b,-c (AND, - excludes), --meta.KEY=VALUE
        (also called as search and list)."""
        include, exclude = split_tags(tags, no_tags)
        ref = _with_repo(parse_artifact(artifact), repo)
        found = self.store.find(self.name, ref, include, exclude, meta, with_meta=with_meta)
        for entry in found:
            entry.pop("meta_file", None)
        return {"list": found}

    @action
    def export(self, file: str, artifact: str | None = None, tags: list[str] | None = None,
               repo: str | None = None) -> dict[str, Any]:
        """Write matching entries into an archive (--file=x.zip or x.tar.gz) for 'ck import'."""
        from ..store.archive import export_entries

        include, exclude = split_tags(tags)
        ref = _with_repo(parse_artifact(artifact), repo)
        found = self.store.find(self.name, ref, include, exclude)
        result = export_entries(found, file)
        result["list"] = found
        return result

    # -- introspection ---------------------------------------------------------------------
    @classmethod
    def actions(cls) -> dict[str, Callable[..., Any]]:
        """Action name → function, aliases included (computed once per class)."""
        cached = cls.__dict__.get("_ck_actions")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        out: dict[str, Callable[..., Any]] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                marker = getattr(value, "__ck_action__", None)
                if marker is None or attr.startswith("_"):
                    continue
                out[marker["name"] or attr] = value
                for alias in marker["aliases"]:
                    out[alias] = value
        cls._ck_actions = out  # type: ignore[attr-defined]
        return out

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Actions with their summaries and inputs, for ``ck help`` and OpenAPI."""
        import inspect

        from .kernel import annotation_text

        result: dict[str, Any] = {}
        for name, func in sorted(cls.actions().items()):
            doc = inspect.getdoc(func) or ""
            inputs = []
            for param in inspect.signature(func).parameters.values():
                if param.name == "self" or param.kind is param.VAR_KEYWORD:
                    continue
                inputs.append({"name": param.name, "type": annotation_text(param.annotation),
                               "required": param.default is param.empty,
                               "default": None if param.default is param.empty else param.default})
            marker: dict[str, Any] = getattr(func, "__ck_action__")
            result[name] = {"summary": doc.splitlines()[0] if doc else "", "inputs": inputs,
                            "writes": marker["writes"]}
        return result


def _with_repo(ref: ArtifactRef, repo: str | None) -> ArtifactRef:
    if repo and ref.repo and repo != ref.repo:
        raise InvalidInput(f"two repos given: {ref.repo!r} in the artifact and --repo={repo}")
    return ref._replace(repo=repo or ref.repo)
