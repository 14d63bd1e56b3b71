"""The command-line words of containers (standard library only: on the CLI's start path).

``ck docker VERB KIND:NAME ...`` → ``{"action": VERB, "automation": "docker",
"component": "KIND:NAME", ...}``; ``ck run KIND:NAME --docker`` (and ``ck benchmark
solution:NAME --docker``) → ``ck docker run`` of it, ``--verb`` naming the action run inside.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERBS = ("build", "run", "export", "base", "prepare", "help")
RUN_ACTIONS = ("run", "benchmark")


def is_docker_request(request: dict[str, Any]) -> bool:
    return request.get("action") == "docker" or (
        request.get("docker") not in (None, False, "no", "false", "0")
        and request.get("action") in RUN_ACTIONS and request.get("automation") != "docker")


def docker_request(request: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a parsed ``ck docker ...`` or ``ck run ... --docker`` request; a ValueError
    says what cannot be read (the CLI reports it as a usage error)."""
    out = {k: v for k, v in request.items()
           if k not in ("action", "automation", "artifact", "artifacts", "docker")}
    out["automation"] = "docker"
    if request.get("action") != "docker":  # ck run KIND[:NAME] ... --docker
        out["action"] = "run"
        out["verb"] = request["action"]
        if request.get("automation"):
            out["component"] = str(request["automation"]) + (
                f":{request['artifact']}" if request.get("artifact") else "")
        return out
    verb = request.get("automation")
    if verb is None:
        out["action"] = "help"
        out["topic"] = "docker"
        return out
    if request.get("artifact") is not None or verb not in VERBS:
        raise ValueError(f"cannot read 'ck docker {verb}"
                         + (f":{request['artifact']}" if request.get("artifact") else "")
                         + f"'; write: ck docker {'|'.join(VERBS[:4])} KIND:NAME [--INPUT=...]")
    out["action"] = verb
    extra = request.get("artifacts") or []
    words = extra if isinstance(extra, list) else [extra]
    if len(words) > 1:
        raise ValueError(f"ck docker {verb} takes one component, not {' '.join(map(str, words))}")
    if words:
        out["component"] = str(words[0])
    return out
