"""What ``ck help`` shows: the automations, or one automation's actions and inputs."""

from __future__ import annotations


from .registry import BUILTIN, plugin_table, repo_automations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

if TYPE_CHECKING:
    from .kernel import Kernel


def describe(kernel: Kernel, topic: str | None = None) -> dict[str, Any]:
    if topic:
        name, _, action = topic.partition(":")
        action = action or ""
        cls = kernel.automation_class(name)
        actions = cls.describe()
        if action:
            if action not in actions:
                from ..errors import UnknownAction, suggest

                raise UnknownAction(f"automation {name!r} has no action {action!r}"
                                    f"{suggest(action, actions)}")
            actions = {action: actions[action]}
        funcs = cls.actions()
        for act, info in actions.items():
            document_inputs(name, act, info, funcs.get(act))
        result: dict[str, Any] = {"automation": name, "summary": cls.summary,
                                  "actions": actions}
        if action:
            result["action"] = action
        return result
    return describe_automations(kernel.home)


def describe_automations(home: str) -> dict[str, Any]:
    """All automations (built-in, repo, plugin) without starting a kernel: ``ck help`` is fast."""
    autos: list[dict[str, Any]] = [
        {"name": n, "summary": s, "source": "builtin"} for n, (_, s) in BUILTIN.items()
    ]
    found, warnings = repo_automations(home)
    autos.extend(found)
    for name, value in plugin_table(home).items():
        autos.append({"name": name, "summary": "", "source": f"plugin {value}"})
    result: dict[str, Any] = {"automations": autos}
    if warnings:
        result["warnings"] = warnings
    return result


#: what the inputs many actions share mean, with an example (``{a}``: the automation,
#: ``{x}``: the action)
COMMON_INPUTS: dict[str, tuple[str, str]] = {
    "artifact": ("the entry, [REPO:]NAME, written after the automation",
                 "ck {x} {a}:NAME"),
    "tags": ("select by tags: all must match, -TAG excludes", "--tags=a,b,-c"),
    "no_tags": ("tags the entries must not have", "--no-tags=x,y"),
    "meta": ("meta keys (dots nest)", "--meta.KEY=VALUE"),
    "repo": ("the repo (by its registered name)", "--repo=local"),
    "with_meta": ("include each entry's meta in the result", "--with-meta"),
    "uid": ("the UID of the new entry (16 hex digits)", "--uid=0123456789abcdef"),
    "target": ("the destination, [REPO:]NAME", "ck {x} {a}:OLD NEW"),
    "new_name": ("the new name", "ck {x} {a}:OLD NEW"),
    "version": ("a version range (PEP 440 style, also loose versions)",
                "--version='>=1.2,<2'"),
    "env": ("environment variables for the step", "--env.KEY=VALUE"),
    "dry_run": ("print what would run, and run nothing", "--dry-run"),
    "quiet": ("do not echo the commands' output", "--quiet"),
    "python": ("the Python interpreter to use", "--python=/usr/bin/python3"),
    "paths": ("folders to search instead of PATH", "--paths=/opt/bin,/usr/local/bin"),
    "metric": ("only these metrics", "--metric=time_s"),
    "timeout": ("seconds after which a run is stopped", "--timeout=600"),
    "seed": ("the random seed: the same seed makes the same choices", "--seed=1"),
    "dataset": ("the dataset entry to run on", "--dataset=NAME"),
    "repetitions": ("how many measured runs", "--repetitions=5"),
    "warmup": ("runs before the measured ones", "--warmup=1"),
    "budget": ("how many trials at most", "--budget=50"),
    "workers": ("how many evaluations run at once", "--workers=4"),
    "resume": ("continue the named run where it stopped", "--resume"),
    "force": ("do it without asking for more", "--force"),
    "hub": ("the hub's URL", "--hub=https://hub.example.org"),
    "token": ("the hub token", "--token=TOKEN"),
    "record": ("keep the result as an experiment entry", "--record"),
    "name": ("the name of the new entry", "--name=NAME"),
    "file": ("the file to read or write", "--file=PATH"),
}


def _clauses(doc: str) -> list[str]:
    import re

    text = " ".join(line.strip() for line in doc.splitlines())
    # sentences and ;-parts, then each option of a list ("--a=X (why), --b=Y") on its own
    parts = re.split(r";\s+|\.\s+|\.$|,\s+(?=\[?--)|\s+(?=\[--)", text)
    return [c.strip().lstrip("[").rstrip("]").strip() for c in parts if c.strip()]


def document_inputs(automation: str, action: str, info: dict[str, Any], func: Any) -> None:
    """Give each input of ``info`` a ``description``, an ``example`` and a readable
    ``default`` (None when it has none), from the action's docstring and common inputs."""
    import inspect
    import re

    doc = (inspect.getdoc(func) or "") if func is not None else ""
    clauses = _clauses(doc)
    if doc:
        info["doc"] = doc
    for inp in info["inputs"]:
        name = inp["name"]
        flag = "--" + name.replace("_", "-")
        value, first = r"[^\s,;)\]]", r"[^\s,;)\]-]"  # a list value: a,b,-c
        mention = re.compile(re.escape(flag) + r"(?![\w-])(?:[=.]" + value + r"+(?:,"
                             + first + value + r"*)*)?")
        description = ""
        example = ""
        for clause in clauses:
            found = mention.search(clause)
            if found:
                if found.group(0) != flag or inp["type"].startswith("bool"):
                    example = found.group(0).rstrip(",.")
                # a clause that only lists options says nothing about this one
                words = re.findall(r"(?<![-\w.=])[a-z]{2,}\b", re.sub(r"--\S+", "", clause))
                if len(words) >= 2 and len(re.findall(r"--\w", clause)) <= 2:
                    description = clause
                break
        common = COMMON_INPUTS.get(name)
        if common:
            specific = description.startswith(flag) and len(description) <= 90
            description = description if specific else common[0]
            if not example or re.fullmatch(r"--[\w-]+=[A-Z_]+", example):
                example = common[1].format(a=automation, x=action)
        placeholder = bool(re.fullmatch(r"--[\w-]+=[A-Z_]+", example))
        if not example or (placeholder and inp["type"].split("|")[0].strip() in ("int", "float")
                           and inp.get("default") not in (None, False)):
            example = _example(flag, inp["type"], inp.get("default"))
        inp["description"] = description
        inp["example"] = example


def _example(flag: str, annotation: str, default: Any) -> str:
    base = annotation.replace(" ", "").split("|")[0]
    if base == "bool":
        return flag
    if base.startswith("list"):
        return f"{flag}=a,b"
    if base.startswith("dict"):
        return f"{flag}.KEY=VALUE"
    if base in ("int", "float"):
        return f"{flag}={default if default not in (None, False) else 1}"
    return f"{flag}=VALUE"
