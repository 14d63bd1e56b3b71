"""Turning ``ck`` argv into a request dict (no imports beyond the standard library)."""

from __future__ import annotations

import os
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

CLI_FLAGS = {"json", "debug", "quiet", "help", "verbose"}
#: one-letter flags: ``-j`` is ``--json``; they combine (``-jq``)
SHORT_FLAGS = {"j": "json", "q": "quiet", "v": "verbose", "h": "help"}
# options that always take a value, so `--lock lock.yaml` reads like `--lock=lock.yaml`
VALUE_OPTIONS = {"lock", "from_lock", "file", "version", "repo", "dataset", "python", "tags",
                 "hub", "token"}
LIST_KEYS = {"tags", "no_tags"}


class UsageError(Exception):
    """A command line that cannot be read; the CLI reports it with code 2."""


def set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    last = parts[-1]
    if last in LIST_KEYS and last in node and isinstance(node[last], str) and isinstance(value, str):
        node[last] = node[last] + "," + value
    else:
        node[last] = value


def read_input_file(path: str) -> dict[str, Any]:
    """``@FILE``: read as a meta file is (bounded, UTF-8, one mapping; YAML by suffix)."""
    from ..errors import InvalidInput
    from ..store.metaio import read_input_file as read_bounded

    try:
        return read_bounded(path)
    except InvalidInput as exc:
        raise UsageError(exc.message) from None


def parse_argv(argv: list[str]) -> tuple[dict[str, Any], dict[str, bool]]:
    """Return (request, cli_flags). Positionals: ACTION [AUTOMATION[:ARTIFACT]] [ARTIFACT...]."""
    request: dict[str, Any] = {}
    flags = {f: False for f in CLI_FLAGS}
    positionals: list[str] = []
    rest_is_positional = False
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if (not rest_is_positional and arg.startswith("--") and "=" not in arg
                and arg[2:].replace("-", "_") in VALUE_OPTIONS
                and i < len(args) and not args[i].startswith(("-", "@"))):
            arg = f"{arg}={args[i]}"
            i += 1
        if rest_is_positional:
            positionals.append(arg)
        elif arg == "--":
            rest_is_positional = True
        elif arg == "--help":
            flags["help"] = True
        elif arg.startswith("--"):
            key, eq, value = arg[2:].partition("=")
            head, dot, tail = key.partition(".")
            key = head.replace("-", "_") + dot + tail  # input names use _, meta keys stay
            if not key or key.startswith(".") or key.endswith(".") or ".." in key:
                raise UsageError(f"cannot read the option {arg!r}")
            if key in CLI_FLAGS and not eq:
                flags[key] = True
                continue
            set_dotted(request, key, value if eq else True)
        elif arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
            letters = arg[1:]
            unknown = [c for c in letters if c not in SHORT_FLAGS]
            if unknown:
                raise UsageError(f"unknown option {arg!r} (short options: -j json, -q quiet, "
                                 "-v verbose, -h help; exclude a tag with --tags=...,"
                                 f"-{letters} or --no-tags={letters})")
            for c in letters:
                flags[SHORT_FLAGS[c]] = True
        elif arg.startswith("@") and len(arg) > 1:
            for k, v in read_input_file(arg[1:]).items():
                request[k] = v
        else:
            positionals.append(arg)
    if positionals:
        request["action"] = positionals[0]
    if len(positionals) > 1:
        automation, sep, artifact = positionals[1].partition(":")
        request["automation"] = automation
        if sep:
            request["artifact"] = artifact
    if len(positionals) > 2:
        request["artifacts"] = positionals[2:]
    return request, flags


#: ``cb VERB ...`` words that go to the ``hub`` automation (``ck hub VERB ...`` too)
HUB_VERBS = ("login", "logout", "whoami", "status", "publish", "versions", "download",
             "search", "submit", "grant", "invite", "visibility")
_HUB_COMPONENT_VERBS = ("publish", "versions", "download", "grant", "invite", "visibility")


def hub_request(request: dict[str, Any], via_hub_word: bool) -> dict[str, Any]:
    """Rewrite a parsed ``ck hub VERB ...`` (``via_hub_word``) or ``cb VERB ...`` request
    into one for the ``hub`` automation: ``cb publish dataset:x`` becomes
    ``{"action": "publish", "automation": "hub", "component": "dataset:x"}``,
    ``ck hub user add NAME`` becomes ``{"action": "add_user", ..., "name": NAME}`` and
    ``ck hub serve`` keeps ``"action": "serve"`` for the CLI to run the server."""
    out = {k: v for k, v in request.items() if k not in ("action", "automation", "artifact",
                                                         "artifacts")}
    words: list[str] = []
    if via_hub_word:
        verb = request.get("automation")
        if request.get("artifact") is not None:
            raise UsageError(f"cannot read 'ck hub {verb}:{request['artifact']}'; "
                             "write: ck hub VERB [ARGUMENT ...]")
    else:
        verb = request.get("action")
        if request.get("automation"):
            first = str(request["automation"])
            if request.get("artifact") is not None:
                first += ":" + str(request["artifact"])
            words.append(first)
    extra = request.get("artifacts") or []
    words.extend(str(w) for w in (extra if isinstance(extra, list) else [extra]))
    out["automation"] = "hub"
    if verb is None:
        out["action"] = "help"
        return out
    out["action"] = str(verb)
    if verb == "user":
        if len(words) != 2 or words[0] != "add":
            raise UsageError("usage: ck hub user add NAME [--admin] [--db=URL] [--root=DIR]")
        out["action"] = "add_user"
        out["name"] = words[1]
        return out
    if verb in _HUB_COMPONENT_VERBS:
        if len(words) > 1:
            raise UsageError(f"'{verb}' takes one component (AUTOMATION:NAME), not "
                             f"{' '.join(words)}")
        if words:
            out["component"] = words[0]
        return out
    slot = {"search": "q", "login": "hub", "submit": "scoreboard"}.get(str(verb))
    if words and (slot is None or len(words) > 1 or slot in out):
        raise UsageError(f"'{verb}' takes no further argument {words[-1]!r}")
    if words and slot:
        out[slot] = words[0]
    return out
