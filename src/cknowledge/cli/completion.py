"""Shell completion: ``ck completion bash|zsh|fish`` prints a script; the script asks
``ck __complete WORD ...`` (the words after ``ck``, the last one being completed) for
candidates, one per line: actions, automations, ``AUTOMATION:NAME`` entry names and
``--input`` names. Completion never prints an error: a failure completes nothing.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

SHELLS = ("bash", "zsh", "fish")
#: commands that take no automation (``ck serve``, ``ck version``...)
COMMANDS = ("help", "version", "serve", "completion", "hub")
CLI_OPTIONS = ("--json", "--quiet", "--verbose", "--debug", "--help")

BASH = r'''# ck completion for bash: eval "$(ck completion bash)" (e.g. in ~/.bashrc)
_ck_complete() {
    local line="${COMP_LINE:0:$COMP_POINT}"
    local -a words
    read -ra words <<< "$line"
    [[ "$line" =~ [[:space:]]$ ]] && words+=("")
    local cur="${words[${#words[@]}-1]}"
    local IFS=$'\n'
    COMPREPLY=($(ck __complete "${words[@]:1}" 2>/dev/null))
    # bash splits words at ':' and '=': offer only what follows the last break
    local prefix="${cur%"${cur##*[:=]}"}"
    if [[ -n "$prefix" ]]; then
        local i
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[$i]="${COMPREPLY[$i]#"$prefix"}"; done
    fi
    if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *[:=.] ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -o default -F _ck_complete ck
'''

ZSH = r'''#compdef ck
# ck completion for zsh: eval "$(ck completion zsh)" (after compinit, e.g. in ~/.zshrc)
_ck() {
    local -a cands open closed
    cands=("${(@f)$(ck __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    open=(${(M)cands:#*[:=.]})
    closed=(${cands:#*[:=.]})
    (( ${#open} )) && compadd -Q -S '' -- "${open[@]}"
    (( ${#closed} )) && compadd -Q -- "${closed[@]}"
}
compdef _ck ck
'''

FISH = r'''# ck completion for fish: ck completion fish | source
# (or save it as ~/.config/fish/completions/ck.fish)
function __ck_complete
    set -l words (commandline -opc) (commandline -ct)
    ck __complete $words[2..-1] 2>/dev/null
end
complete -c ck -f -a '(__ck_complete)'
'''

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


USAGE = ("usage: ck completion bash|zsh|fish (prints the completion script; "
         "e.g. eval \"$(ck completion bash)\")")


def completion_main(request: dict[str, Any], emit: Callable[[str], None],
                    err: Callable[[str], None], usage_only: bool = False) -> int:
    """``ck completion SHELL``: print the script (exit 0), or one usage line (exit 2);
    ``ck completion --help``: the usage."""
    if usage_only:
        emit(USAGE)
        return 0
    shell = request.get("automation")
    extra = {k for k in request if k not in ("action", "automation")}
    if shell not in SHELLS or extra:
        err(USAGE)
        return 2
    emit(SCRIPTS[str(shell)])
    return 0


def complete_main(words: list[str], emit: Callable[[str], None]) -> int:
    """``ck __complete WORD ...``: the candidates for the last word, one per line."""
    try:
        found = candidates(words or [""])
    except Exception:  # completion must never print a traceback into a prompt
        found = []
    if found:
        emit("\n".join(found))
    return 0


def _positionals(words: list[str]) -> list[str]:
    from .args import VALUE_OPTIONS

    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word.startswith("--") and "=" not in word \
                and word[2:].replace("-", "_") in VALUE_OPTIONS:
            skip = True
            continue
        if word.startswith(("-", "@")):
            continue
        out.append(word)
    return out


def candidates(words: list[str]) -> list[str]:
    cur, before = words[-1], words[:-1]
    pos = _positionals(before)
    if cur.startswith("-"):
        return _filter(_options(pos), cur)
    if not pos:
        return _filter(sorted(set(COMMANDS) | set(_all_actions())), cur)
    action = pos[0]
    if action == "completion":
        return _filter(list(SHELLS), cur) if len(pos) == 1 else []
    if action == "hub":
        from .args import HUB_VERBS

        return _filter(sorted({*HUB_VERBS, "serve", "user"}), cur) if len(pos) == 1 else []
    if action == "help":  # ck help [ACTION|AUTOMATION] [AUTOMATION|ACTION]
        if len(pos) == 1:
            return _filter(sorted(set(_automations(None)) | set(_all_actions())), cur)
        if len(pos) == 2:
            classes = _builtin_classes()
            if pos[1] in classes:
                return _filter(sorted(classes[pos[1]].actions()), cur)
            return _filter(_automations(pos[1]), cur)
        return []
    if len(pos) == 1:
        if ":" in cur:
            return _filter(_entries(cur.partition(":")[0], cur), cur)
        return _filter(_automations(action), cur)
    automation = pos[1].partition(":")[0]
    return _filter(_entries(cur.partition(":")[0] if ":" in cur else automation, cur), cur)


def _filter(items: list[str], cur: str) -> list[str]:
    return [i for i in items if i.startswith(cur)]


def _home() -> str:
    from ..home import home_dir

    return home_dir(os.environ.get("CK_HOME"))


def _builtin_classes() -> dict[str, Any]:
    from ..kernel.registry import BUILTIN, import_object

    out = {}
    for name, (spec, _) in BUILTIN.items():
        try:
            out[name] = import_object(spec)
        except ImportError:
            continue
    return out


def _all_actions() -> list[str]:
    names: set[str] = set()
    for cls in _builtin_classes().values():
        names.update(cls.actions())
    return sorted(names)


def _automations(action: str | None) -> list[str]:
    """The automations (those with ``action``, when given and known)."""
    from ..kernel.help import describe_automations

    builtin = _builtin_classes()
    out = []
    for auto in describe_automations(_home())["automations"]:
        cls = builtin.get(auto["name"])
        if cls is None or action is None or action in cls.actions():
            out.append(auto["name"])
    return sorted(set(out))


def _entries(automation: str, cur: str) -> list[str]:
    """``AUTOMATION:NAME`` (``AUTOMATION:REPO:NAME`` once a repo is typed) of the entries."""
    from ..api import kernel_for

    if not automation or automation in COMMANDS:
        return []
    kernel = kernel_for(os.environ.get("CK_HOME"))
    found = kernel.call({"action": "find", "automation": automation}).get("list") or []
    qualified = cur.count(":") >= 2
    out = {f"{automation}:{e['repo']}:{e['name']}" if qualified else f"{automation}:{e['name']}"
           for e in found}
    return sorted(out)


def _options(pos: list[str]) -> list[str]:
    """``--input`` names of the action (``--name=`` when it takes a value) and CLI flags."""
    from ..kernel.kernel import parameters

    opts: list[str] = []
    if pos and pos[0] not in ("completion",):
        action = pos[0]
        automation = pos[1].partition(":")[0] if len(pos) > 1 else "kernel"
        from ..api import kernel_for

        try:
            cls = kernel_for(os.environ.get("CK_HOME")).automation_class(automation)
            func = cls.actions().get(action)
        except Exception:
            func = None
        if func is not None:
            for name, param in parameters(func).items():
                if param.var_keyword or name in ("self", "artifact"):
                    continue
                flag = "--" + name.replace("_", "-")
                ann = str(param.annotation)
                opts.append(flag if ann.startswith("bool") else
                            flag + "." if ann.startswith("dict") else flag + "=")
    return sorted(set(opts)) + list(CLI_OPTIONS)
