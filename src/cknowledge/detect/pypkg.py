"""Python distributions as a given interpreter sees them (which may be another venv's).

The interpreter runs a small script that reads ``importlib.metadata`` and prints JSON:
the packages themselves are never imported, so detecting TensorFlow costs milliseconds.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import CommandFailed
from ..proc import run

TIMEOUT = 10.0

# Prints {dist: {"version", "path", "dist_info"}} for the distributions named in argv[1].
SCRIPT = r"""
import json, os, sys
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]
from importlib import metadata
out = {}
for name in json.loads(sys.argv[1]):
    try:
        dist = metadata.distribution(name)
    except Exception:
        continue
    top = []
    try:
        top = (dist.read_text("top_level.txt") or "").split()
    except Exception:
        pass
    if not top:  # no top_level.txt: every top-level name the files use, the best first
        for f in dist.files or []:
            head = f.parts[0] if f.parts else ""
            if head and head != ".." and not head.endswith((".dist-info", ".egg-info", ".data")):
                head = head.split(".py")[0] if head.endswith(".py") else head
                if head not in top:
                    top.append(head)
    want = name.lower().replace("-", "_")
    top.sort(key=lambda t: (t.lower() != want, t.startswith("_"), t.endswith(".libs")))
    path = None
    for t in top:
        p = str(dist.locate_file(t))
        for cand in (p, p + ".py"):
            if os.path.exists(cand):
                path = cand
                break
        if path:
            break
    info = getattr(dist, "_path", None)
    out[name] = {"version": dist.version, "path": path or str(dist.locate_file("")),
                 "dist_info": str(info) if info is not None else None}
print("CK-JSON:" + json.dumps(out))
"""


def query(python: str, distributions: list[str]) -> dict[str, dict[str, Any]]:
    """``{dist: {"version", "path", "dist_info"}}`` for those installed in ``python``.

    Raises ``CommandFailed`` (or ``NotFound`` when ``python`` cannot be started)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("PYTHONSTARTUP", None)
    try:
        output = run([python, "-c", SCRIPT, json.dumps(distributions)], env=env,
                     timeout=TIMEOUT, what="the Python interpreter")
    except CommandFailed as exc:  # the command line holds the whole probe script: not shown
        tail = " | ".join(exc.details.get("tail", [])[-2:]) or "no output"
        raise CommandFailed(f"{python} is not a working Python interpreter "
                            f"({exc.details.get('returncode', 'failed')}: {tail})") from None
    for line in reversed(output.splitlines()):
        if line.startswith("CK-JSON:"):
            data = json.loads(line[len("CK-JSON:"):])
            if isinstance(data, dict):
                return {k: v for k, v in data.items() if isinstance(v, dict)}
    raise CommandFailed(f"the Python interpreter {python!r} printed no package list")
