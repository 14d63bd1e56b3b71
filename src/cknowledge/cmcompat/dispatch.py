"""``ck run script``: which engine runs the request, and the CM/MLC side's inputs and result.

A request goes to the CM/MLC runner when what it names is a CM or MLC script: by name
(``script:NAME``, ``script:ALIAS,UID``, ``script:NAME,_variation``) when every entry of
that name is one, by tags when no cknowledge script matches them and some CM/MLC script
does. cknowledge's own scripts therefore keep precedence over imported ones.
"""

from __future__ import annotations

from ..store.cid import ArtifactRef, parse_artifact
from .runner import Runner, flavor, split_tags

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel

#: inputs of ``ck run script`` that CM/MLC read under another name
ALIASES = {"j": "json", "new": "new", "adr": "add_deps_recursive", "ad": "add_deps"}


def _name(artifact: str) -> str:
    name, _, rest = artifact.partition(",")
    if rest.strip() and not rest.lstrip().startswith("_"):
        return rest.strip()  # alias,uid: the UID decides
    return name.strip()


def is_foreign(kernel: Kernel, artifact: str | None, tags: Any) -> bool:
    store = kernel.store
    if artifact and " " not in artifact.strip():
        try:
            ref = parse_artifact(_name(artifact))
        except Exception:  # noqa: BLE001 - the regular path reports a malformed name
            return False
        found = store.find("script", ref, with_meta=True)
        return bool(found) and all(flavor(e) for e in found)
    raw = ",".join(tags) if isinstance(tags, list) else str(tags or "")
    if artifact:
        raw = f"{raw},{artifact}"
    plain, _variations, excluded = split_tags(raw)
    if not plain:
        return False
    found = store.find("script", ArtifactRef(None, None), tags=plain, no_tags=excluded,
                       with_meta=True)
    return bool(found) and not any(flavor(e) is None for e in found)


def run(kernel: Kernel, artifact: str | None, tags: Any, version: str | None,
        inputs: dict[str, Any], env: dict[str, Any] | None, dry_run: bool = False,
        quiet: bool = False, timeout: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {}
    for key, value in inputs.items():
        request[ALIASES.get(key, key)] = value
    if artifact:
        request["artifact"] = artifact
    if tags:
        request["tags"] = ",".join(tags) if isinstance(tags, list) else str(tags)
    if version:
        request["version"] = version
    request["env"] = {str(k): v for k, v in (env or {}).items()}
    request["quiet"] = True
    if dry_run:
        from .plan import plan

        return plan(kernel, request)
    runner = Runner(kernel, kernel.output(quiet), new=bool(request.pop("new", False)))
    if timeout is not None:
        import time

        from ..workflow.steps import parse_timeout

        seconds = parse_timeout(timeout, "--timeout")
        if seconds is not None:
            runner.deadline = (time.monotonic() + seconds, seconds)
    try:
        result = runner.run(request)
    finally:
        runner.close()
    top = runner.steps[-1] if runner.steps else {}
    return {"name": result.get("script"), "flavor": result.get("flavor"),
            "cached": bool(result.get("cached")), "skipped": bool(result.get("skipped")),
            "path": result.get("path"), "new_env": result.get("new_env", {}),
            "new_state": result.get("new_state", {}), "steps": runner.steps,
            "script_path": top.get("path")}
