"""Inside the image, at build time: check the image against the lock, prepare the component.

``ck prepare docker --lock=/ck/build/lock.yaml --request=/ck/build/request.json`` plans the
component again in the image and compares the plan with the host's lock node by node:
the same components (kind, name, UID), their versions (a detected compiler must be the
release the host used; only a bug-fix number may differ, e.g. Debian's Python 3.11.2 for
the host's 3.11.7, and the build output names it), and each component's own meta and files. Paths, binary
signatures and platform facts may differ (they are the image's own). A difference fails
the build with one line; then the component is prepared: a program compiled, a
solution's steps installed, so that the container runs without a network.
"""

from __future__ import annotations

import json

from ..errors import InvalidInput, Unsatisfiable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel
    from .plan import Target

#: key parts that name the component itself (the others describe the machine)
OWN_PARTS = ("entry", "files")


def compare_nodes(locked: list[dict[str, Any]], here: list[dict[str, Any]]) -> list[str]:
    """What differs between the host's lock and the image's plan (empty: they match)."""
    out = []
    mine = {n["ident"]: n for n in here}
    for want in locked:
        label = f"{want.get('kind')}:{want.get('name')}"
        got = mine.pop(want["ident"], None)
        if got is None:
            out.append(f"{label} is not part of the plan in the image")
            continue
        if (got.get("kind"), got.get("uid")) != (want.get("kind"), want.get("uid")):
            out.append(f"{label} is {got.get('kind')}:{got.get('name')} in the image")
        elif got.get("version") != want.get("version") and not (
                want.get("kind") == "soft" and _same_release(want.get("version"),
                                                             got.get("version"))):
            out.append(f"{label} is version {want.get('version')} in the lock, "
                       f"{got.get('version')} in the image")
        else:
            parts = [p for p in OWN_PARTS
                     if (want.get("parts") or {}).get(p) != (got.get("parts") or {}).get(p)]
            if parts and want.get("kind") != "solution":
                out.append(f"{label}: its {' and '.join(parts)} differ from the lock's")
    out.extend(f"{n.get('kind')}:{n.get('name')} is in the image's plan, not in the lock"
               for n in mine.values())
    return out


def _same_release(a: Any, b: Any) -> bool:
    """Detected software may differ in its bug-fix number only (3.11.7 and 3.11.2: the
    distribution's build of the same release); 12.2 and 13.1 are different compilers."""
    pa, pb = str(a or "").split("."), str(b or "").split(".")
    return len(pa) >= 3 and len(pb) >= 3 and pa[:2] == pb[:2]


def patch_notes(locked: list[dict[str, Any]], here: list[dict[str, Any]]) -> list[str]:
    mine = {n["ident"]: n for n in here}
    return [f"{n.get('kind')}:{n.get('name')} is {mine[n['ident']].get('version')} in the "
            f"image ({n.get('version')} in the lock)" for n in locked
            if n["ident"] in mine and mine[n["ident"]].get("version") != n.get("version")]


def check_and_prepare(kernel: Kernel, lock_path: str, request_path: str,
                      quiet: bool = False) -> dict[str, Any]:
    from ..workflow import read_lock
    from .plan import Target, resolve

    locked = read_lock(lock_path)
    try:
        with open(request_path, encoding="utf-8") as fh:
            spec = json.load(fh)
        component = spec["component"]
        target = Target(component["kind"], component.get("name"), component.get("tags") or [])
        inputs = dict(spec.get("plan_inputs") or {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{request_path} is not an image request: {exc}") from None
    here = resolve(kernel, target, dict(spec.get("inputs") or {}))
    differences = compare_nodes(locked["nodes"], here["nodes"])
    if differences:
        raise Unsatisfiable(f"the image does not match the lock of {target.label}: "
                            + "; ".join(differences))
    notes = patch_notes(locked["nodes"], here["nodes"])
    prepared = _prepare(kernel, target, inputs, quiet)
    return {"component": target.label, "nodes": len(here["nodes"]), "prepared": prepared,
            "notes": notes,
            "text": f"{target.label}: the image matches its lock ({len(here['nodes'])} "
                    f"components{'; ' + '; '.join(notes) if notes else ''}); "
                    f"prepared: {prepared}"}


def _prepare(kernel: Kernel, target: Target, inputs: dict[str, Any], quiet: bool) -> str:
    if target.kind == "program":
        kernel.call({"action": "compile", "automation": "program", "artifact": target.name,
                     "tags": target.tags, "quiet": quiet, **inputs})
        return "compiled"
    if target.kind == "solution":
        kernel.call({"action": "init", "automation": "solution", "artifact": target.name,
                     "quiet": quiet, **inputs})
        return "steps installed"
    return "nothing (a script runs when the container runs)"
