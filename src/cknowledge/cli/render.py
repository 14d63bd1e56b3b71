"""Human-readable output of results (``--json`` bypasses this)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any


def _cid(entry: dict[str, Any]) -> str:
    return f"{entry.get('automation')}:{entry.get('repo')}:{entry.get('name')}"


def _json(obj: object, indent: int | None = None) -> str:
    import json

    return json.dumps(obj, indent=indent, default=str)


def render(request: dict[str, Any], result: dict[str, Any]) -> str:
    action = request.get("action")
    if action == "help":
        return render_help(result)
    if request.get("automation") == "docker" and isinstance(result.get("text"), str):
        return str(result["text"])
    if action in ("benchmark", "show", "compare", "replay", "report", "autotune", "reduce",
                  "init", "submission", "check", "reproduce", "badges") \
            and isinstance(result.get("text"), str):
        return str(result["text"])
    if action == "autotune" and isinstance(result.get("table"), str):
        exp = result.get("experiment")
        if isinstance(exp, dict):
            exp = f"experiment:{exp.get('repo')}:{exp.get('name')} ({exp.get('trials')})"
        return (f"{result['table']}\nexperiment: {exp}\n"
                f"plot: {result.get('png')}\ninteractive: {result.get('html')}")
    if action == "reduce" and "kept" in result:
        return (f"kept: {' '.join(result.get('kept') or []) or '(none)'}\n"
                f"removed: {' '.join(result.get('removed') or []) or '(none)'}")
    if action == "run" and "time_s" in result:
        return render_program_run(result)
    if action in ("run", "install", "compile") and ("new_env" in result or "text" in result):
        return render_run(request, result)
    if action == "export" and "file" in result:
        return f"exported {result.get('count', 0)} entries to {result['file']}"
    if "list" in result and isinstance(result["list"], list):
        items = result["list"]
        if not items and result.get("message"):
            return str(result["message"])
        if action in ("rm",):
            return "\n".join(f"removed {_cid(e)}" for e in items) or "nothing removed"
        if items and items[0].get("automation") == "cache":
            return "\n".join(f"{e.get('kind')}:{e.get('name')}"
                             + (f" {e['version']}" if e.get("version") else "")
                             + f"  {str(e.get('key'))[:12]}  {e.get('path')}" for e in items)
        if items and "automation" not in items[0] and {"name", "version", "path"} <= set(items[0]):
            return "\n".join(f"{e['name']} {e['version']} {e['path']}" for e in items)
        if items and "automation" not in items[0]:
            return "\n".join(_json(i) for i in items)
        return "\n".join(_cid(e) for e in items)
    if action in ("add", "cp", "mv", "ren") and "uid" in result:
        verb = {"add": "added", "cp": "copied to", "mv": "moved to", "ren": "renamed to"}[action]
        return f"{verb} {_cid(result)} (uid {result['uid']}) at {result.get('path')}"
    body = {k: v for k, v in result.items() if k not in ("return", "warnings")}
    if action == "version" and "version" in body:
        return f"cknowledge {body['version']}"
    return _json(body, indent=2) if body else ""


def render_help(result: dict[str, Any]) -> str:
    if "automations" in result:
        lines = ["usage: ck ACTION AUTOMATION[:[REPO:]NAME] [ARTIFACT ...] [--key=value ...] "
                 "[@input.json] [--json]", "", "automations:"]
        width = max(len(a["name"]) for a in result["automations"]) + 2
        for auto in result["automations"]:
            src = "" if auto["source"] == "builtin" else f" [{auto['source']}]"
            lines.append(f"  {auto['name']:<{width}}{auto['summary']}{src}")
        lines += ["", "ck help AUTOMATION lists its actions; ck ACTION AUTOMATION --help their inputs.",
                  "Other commands: ck serve (REST API), ck version."]
        return "\n".join(lines)
    if result.get("action"):
        return _render_action(result)
    lines = [f"{result['automation']}: {result.get('summary', '')}", "", "actions:"]
    for name, info in result["actions"].items():
        lines.append(f"  {name:<10}{info['summary']}")
        for inp in info["inputs"]:
            lines.append("      " + _input_line(inp))
    lines += ["", f"ck help ACTION {result['automation']} describes one action with examples."]
    return "\n".join(lines)


def _default_text(inp: dict[str, Any]) -> str:
    default = inp.get("default")
    if inp.get("required"):
        return "required"
    if default in (None, False, "", [], {}):
        return ""
    return f"default: {default}"


def _input_line(inp: dict[str, Any]) -> str:
    flag = "--" + inp["name"].replace("_", "-")
    extra = _default_text(inp)
    text = inp.get("description") or ""
    if extra:
        text = f"{text} ({extra})" if text else f"({extra})"
    return f"{flag:<16} {text}".rstrip()


def _render_action(result: dict[str, Any]) -> str:
    auto, name = result["automation"], result["action"]
    info = result["actions"][name]
    lines = [f"ck {name} {auto}", ""]
    doc = str(info.get("doc") or info.get("summary") or "")
    lines += ["  " + line if line else "" for line in doc.splitlines()]
    lines += ["", "inputs:"]
    for inp in info["inputs"]:
        lines.append("  " + _input_line(inp))
        example = inp.get("example")
        if example:
            lines.append(f"  {'':<16} e.g. {example}")
    return "\n".join(lines)


def render_run(request: dict[str, Any], result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return str(result.get("text", ""))
    kind = request.get("automation")
    state = "cached" if result.get("cached") else ("installed" if kind == "package" else "ran")
    head = f"{kind}:{result.get('name')}"
    if result.get("version"):
        head += f" {result['version']}"
    if result.get("flavor"):  # a CM/MLC script: its cache key is not shown by CM either
        lines = [f"{head} ({result['flavor']} script): {state}"]
    else:
        lines = [f"{head}: {state} (key {str(result.get('key'))[:12]})"]
    for k, v in sorted((result.get("new_env") or {}).items()):
        lines.append(f"{k}={':'.join(map(str, v)) if isinstance(v, list) else v}")
    return "\n".join(lines)


def render_program_run(result: dict[str, Any]) -> str:
    times = ", ".join(f"{t * 1000:.1f}" for t in result.get("times_s", []))
    valid = {True: "output valid", False: "output INVALID", None: "output not checked"}
    return (f"program:{result.get('name')} on {result.get('dataset')}: "
            f"{valid[result.get('valid')]}; {result.get('time_s', 0) * 1000:.1f} ms "
            f"(runs: {times} ms); binary {result.get('binary_size')} bytes, code+data "
            f"{result.get('code_size')} bytes "
            f"({'cached build' if result.get('compile_cached') else 'built'}, key "
            f"{str(result.get('key'))[:12]})")
