"""The conventions of Collective Mind / MLCFlow scripts, as plain functions.

Standard library only: this module is imported by cknowledge *and* by the hook worker that
runs inside the hook venv (``ck_hookworker.py``), so that both sides agree on how env
values are merged, substituted, tested and exported, and how a native script runs:

- ``merge``: CM's ``merge_dicts`` with ``append_lists``/``append_unique`` (dicts merge key
  by key, lists append without repeats, anything else is replaced);
- ``substitute``: ``<<<VAR>>>`` placeholders in env values, from the env itself;
- ``condition_all`` / ``condition_any``: ``enable_if_env``/``skip_if_env`` (all keys must
  match) and ``enable_if_any_env``/``skip_if_any_env`` (one key is enough), with
  ``yes/on/true/1`` and ``no/off/false/0/""`` read as booleans;
- ``run_native``: the wrapper script (``tmp-run.sh``: the env exported, then the script
  sourced), the exports read back from ``tmp-run-env.out`` (``KEY=VALUE`` lines) and
  ``tmp-run-state.json``; ``+KEY`` list values are prepended to ``$KEY``.
"""

from __future__ import annotations

from typing import Any

import json
import os
import re

TRUE = ("yes", "on", "true", "1")
FALSE = ("no", "off", "false", "0", "")

TMP_FILE_RUN = "tmp-run"
TMP_FILE_RUN_ENV = "tmp-run-env.out"
TMP_FILE_RUN_STATE = "tmp-run-state.json"
TMP_FILE_STATE = "tmp-state.json"
TMP_FILE_VER = "tmp-ver.out"
TMP_FILE_ENV = "tmp-env"
TMP_FILE_ENV_ALL = "tmp-env-all"

_PLACEHOLDER = re.compile(r"<<<(.*?)>>>")


class ScriptError(Exception):
    """A convention broken by a script or its meta; ``code`` follows CM's return codes."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def is_true(value: object) -> bool:
    return str(value).lower().strip() in TRUE


def host_os_info(prefix: str = "CM") -> dict[str, Any]:
    """The ``os_info`` dictionary that CM and MLC scripts receive (POSIX and Windows)."""
    import platform
    import struct
    import subprocess

    pbits = str(8 * struct.calcsize("P"))
    info: dict[str, Any] = {}
    system = platform.system().lower()
    if system.startswith("win"):
        name = "windows"
        info.update(bat_ext=".bat", set_env="set ${key}=${value}", env_separator=";",
                    env_quote="'", env_var="%env_var%", bat_rem="rem ${rem}",
                    run_local_bat="call ${bat_file}", run_local_bat_from_python="call ${bat_file}",
                    run_bat="call ${bat_file}", start_script=["@echo off", ""],
                    env={prefix + "_WINDOWS": "yes"})
        bits = "64" if os.environ.get("ProgramW6432") or os.environ.get("ProgramFiles(x86)") \
            else "32"
    else:
        name = "darwin" if system.startswith("darwin") else "linux"
        info.update(bat_ext=".sh", set_env='export ${key}="${value}"', env_separator=":",
                    env_quote='"', env_var="${env_var}", set_exec_file='chmod 755 "${file_name}"',
                    bat_rem="# ${rem}", run_local_bat=". ./${bat_file}",
                    run_local_bat_from_python='bash -c ". ./${bat_file}"',
                    run_bat=". ${bat_file}", start_script=["#!/bin/bash", ""], env={})
        bits = pbits
        try:
            out = subprocess.run(["getconf", "LONG_BIT"], capture_output=True, text=True,
                                 timeout=10, stdin=subprocess.DEVNULL).stdout.strip()
            if out and len(out) < 4:
                bits = out
        except (OSError, subprocess.SubprocessError):
            pass
    info["env"].update(host_os_env(prefix, name, platform.machine()))
    info["platform"] = name
    info["bits"] = bits
    info["python_bits"] = pbits
    return info


def host_os_env(prefix: str, name: str | None = None, machine: str | None = None
                ) -> dict[str, str]:
    """The env that ``os_info`` adds (MLC only, on POSIX), cheaply: ``os.uname`` gives what
    ``platform`` would, with neither ``platform`` nor ``subprocess`` imported."""
    if prefix != "MLC":
        return {}
    if name is None or machine is None:
        uname = os.uname()
        system = uname.sysname.lower()
        name = name or ("darwin" if system.startswith("darwin") else "linux")
        machine = machine if machine is not None else uname.machine
    return {prefix + "_HOST_PLATFORM_FLAVOR": machine, prefix + "_HOST_OS_TYPE": name}


def _split(version: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\-+]", version) if p != ""]


def compare_versions(a: str, b: str) -> int:
    """-1, 0, 1 as CM's compare_versions (numeric parts numerically)."""
    pa, pb = _split(a), _split(b)
    for x, y in zip(pa, pb):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        return -1 if str(x) < str(y) else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


def version_ok(version: str, env: dict[str, Any], prefix: str) -> bool:
    want = env.get(prefix + "_VERSION", "")
    low = env.get(prefix + "_VERSION_MIN", "")
    high = env.get(prefix + "_VERSION_MAX", "")
    if want and want != version:
        return False
    if low and compare_versions(version, low) < 0:
        return False
    return not (high and compare_versions(version, high) > 0)


# -- dictionaries ---------------------------------------------------------------------------
def merge(a: dict[str, Any], b: dict[str, Any], append_lists: bool = True, append_unique: bool = True) -> dict[str, Any]:
    """Merge ``b`` into ``a`` in place, as CM's ``utils.merge_dicts`` does."""
    if a is b or a == b:
        return a
    for key, value in b.items():
        if isinstance(value, dict):
            if isinstance(a.get(key), dict):
                merge(a[key], value, append_lists, False)
            else:
                a[key] = value
        elif isinstance(value, list):
            if not append_lists or not isinstance(a.get(key), list):
                a[key] = []
            for item in value:
                if not append_unique or item not in a[key]:
                    a[key].append(item)
        else:
            a[key] = value
    return a


def substitute(env: dict[str, Any], extra: dict[str, Any] | None = None) -> None:
    """Replace ``<<<VAR>>>`` in env values (strings and lists of strings) in place."""
    extra = extra or {}
    for key in list(env):
        value = env[key]
        if key.startswith("+") and not isinstance(value, list):
            raise ScriptError(f"env key {key} must have a list value, not {value!r}")
        if isinstance(value, bool):
            continue
        names = _PLACEHOLDER.findall(str(value))
        for name in names:
            source = env if name in env else extra if name in extra else None
            if source is None:
                continue
            if isinstance(value, str):
                value = value.replace(f"<<<{name}>>>", str(source[name]))
            elif isinstance(value, list):
                value = [v.replace(f"<<<{name}>>>", str(source[name])) if isinstance(v, str)
                         else v for v in value]
        if names:
            env[key] = value


def substitute_tree(tree: dict[str, Any], env: dict[str, Any]) -> None:
    """``<<<VAR>>>`` in the string values of a nested dict[str, Any] (dependency updates)."""
    for key, value in tree.items():
        if isinstance(value, dict):
            substitute_tree(value, env)
        elif isinstance(value, str):
            for name in _PLACEHOLDER.findall(value):
                if name in env:
                    value = value.replace(f"<<<{name}>>>", str(env[name]))
            tree[key] = value


def _matches(wanted: object, env: dict[str, Any], key: str) -> bool:
    values = [str(v).lower() for v in (wanted if isinstance(wanted, list) else [wanted])]
    if key not in env:
        return bool(set(values) & set(FALSE))
    have = str(env[key]).lower().strip()
    if set(values) & set(TRUE):
        return have not in FALSE
    if set(values) & set(FALSE):
        return have in FALSE
    return have in values


def condition_all(cond: dict[str, Any], env: dict[str, Any]) -> bool:
    """Every key of ``cond`` matches ``env`` (``enable_if_env`` / ``skip_if_env``)."""
    if not isinstance(cond, dict):
        raise ScriptError(f"a condition must be a mapping {{VAR: [values]}}, not {cond!r}")
    return all(_matches(v, env, k) for k, v in cond.items())


def condition_any(cond: dict[str, Any], env: dict[str, Any]) -> bool:
    """At least one key of ``cond`` is set in ``env`` and matches (the ``_any_`` forms)."""
    if not isinstance(cond, dict):
        raise ScriptError(f"a condition must be a mapping {{VAR: [values]}}, not {cond!r}")
    return any(k in env and _matches(v, env, k) for k, v in cond.items())


def dep_skipped(dep: dict[str, Any], env: dict[str, Any], prefix: str) -> bool:
    """Whether a dependency (or a conditional meta update) is off for this env."""
    if dep.get("skip_if_fake_run") and env.get(prefix + "_TMP_FAKE_RUN") == "yes":
        return True
    if "enable_if_env" in dep and not condition_all(dep["enable_if_env"], env):
        return True
    if "enable_if_any_env" in dep and not condition_any(dep["enable_if_any_env"], env):
        return True
    if "skip_if_env" in dep and condition_all(dep["skip_if_env"], env):
        return True
    if "skip_if_any_env" in dep and condition_any(dep["skip_if_any_env"], env):
        return True
    return False


# -- dependency lists -----------------------------------------------------------------------
def tags_of(dep: dict[str, Any]) -> list[str]:
    tags = dep.get("tags", "")
    items = tags.split(",") if isinstance(tags, str) else [str(t) for t in tags or []]
    return [t.strip() for t in items if t.strip()]


def update_dep(dep: dict[str, Any], info: dict[str, Any]) -> None:
    """Add what ``add_deps``/``adr`` says about a named dependency (tags are appended)."""
    for key, value in info.items():
        if key == "tags":
            have = tags_of(dep)
            new = [t for t in tags_of({"tags": value}) if "<<<" not in t and t not in have]
            dep["tags"] = ",".join(have + new)
        elif "enable_if_" in key or "skip_if_" in key:
            continue
        elif isinstance(value, dict):
            if not isinstance(dep.get(key), dict):
                dep[key] = {}
            merge(dep[key], value)
        elif isinstance(value, list):
            if not isinstance(dep.get(key), list):
                dep[key] = []
            dep[key].extend(value)
        else:
            dep[key] = value


def update_deps(deps: list[Any], updates: dict[str, Any], env: dict[str, Any], prefix: str,
                strict: bool = False) -> None:
    """Apply ``{name: {tags, version, env...}}`` to the deps whose ``names`` include it."""
    for name, info in (updates or {}).items():
        if not isinstance(info, dict) or dep_skipped(info, env, prefix):
            continue
        found = False
        for dep in deps:
            if name in (dep.get("names") or []):
                substitute_tree(info, env)
                update_dep(dep, info)
                found = True
        if strict and not found:
            raise ScriptError(f"{name} is not one of the dependencies")


def append_deps(deps: list[Any], new: list[Any]) -> None:
    """Add a variation's deps: one with the same ``names`` (or tags) is replaced."""
    for dep in new:
        if not isinstance(dep, dict):
            raise ScriptError(f"each dependency must be a mapping, not {dep!r}")
        names = set(dep.get("names") or [])
        for idx, old in enumerate(deps):
            same = (names and names == set(old.get("names") or [])) or \
                (not names and set(tags_of(dep)) == set(tags_of(old)))
            if same:
                deps[idx] = dep
                break
        else:
            deps.append(dep)


# -- native scripts -------------------------------------------------------------------------
def script_file(env: dict[str, Any], path: str, base: str, prefix: str) -> str:
    """``run.sh`` or its most specific OS variant (``run-ubuntu-22.04-x86_64.sh`` ...)."""
    flavor = env.get(prefix + "_HOST_OS_FLAVOR", "")
    version = env.get(prefix + "_HOST_OS_VERSION", "")
    machine = env.get(prefix + "_HOST_PLATFORM_FLAVOR", "")
    for parts in ((flavor, version, machine), (flavor, machine), (flavor, version),
                  (flavor,), (machine,)):
        name = base + "-" + "-".join(parts) + ".sh"
        if os.path.exists(os.path.join(path, name)):
            return name
    return base + ".sh"


def env_script(env: dict[str, Any], info: dict[str, Any]) -> list[str]:
    """Export lines for ``env`` (sorted), ``+KEY`` lists prepended to the variable."""
    lines = []
    for key in sorted(env):
        value = env[key]
        name = key
        if key.startswith("+"):
            name = key[1:]
            sep = info.get("env_separator", ":")
            if name and not name[0].isalnum():
                sep, name = name[0], name[1:]
            items = value if isinstance(value, list) else [value]
            value = sep.join(str(v) for v in items) + sep + info["env_var"].replace(
                "env_var", name)
        elif isinstance(value, list) and info.get("platform") == "windows":
            value = value[0] if len(value) == 1 else value
        lines.append(info["set_env"].replace("${key}", name).replace("${value}", str(value)))
    return lines


def parse_env_file(text: str) -> dict[str, Any]:
    """``KEY=VALUE`` lines (empty lines skipped; the value is everything after the first =)."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def run_native(path: str, base: str, env: dict[str, Any], state: dict[str, Any], info: dict[str, Any], prefix: str,
               cwd: str, runner: Any, must_exist: bool = False) -> int:
    """Run the native script ``base`` of the script folder ``path`` in ``cwd``.

    ``runner(argv, cwd)`` runs the wrapper and returns its exit status. Returns that status
    (-1 when the script folder has no such script); ``env`` and ``state`` take in what the
    script exported."""
    name = script_file(env, path, base, prefix) if info["bat_ext"] == ".sh" \
        else base + info["bat_ext"]
    full = os.path.join(path, name)
    env[prefix + "_TMP_CURRENT_SCRIPT_PATH"] = path
    env[prefix + "_TMP_CURRENT_SCRIPT_WORK_PATH"] = cwd
    substitute(env)
    with open(os.path.join(cwd, TMP_FILE_STATE), "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2, default=str)
    if not os.path.isfile(full):
        if must_exist:
            raise ScriptError(f"script {full} not found - please add one", 16)
        return -1
    for tmp in (TMP_FILE_RUN_STATE, TMP_FILE_RUN_ENV):
        if os.path.isfile(os.path.join(cwd, tmp)):
            os.remove(os.path.join(cwd, tmp))
    lines = list(info["start_script"]) + list(state.get("script_prefix") or [])
    lines += env_script(env, info) + ["", info["run_bat"].replace("${bat_file}", f'"{full}"'), ""]
    wrapper = TMP_FILE_RUN + info["bat_ext"]
    with open(os.path.join(cwd, wrapper), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    if info["bat_ext"] == ".sh":
        os.chmod(os.path.join(cwd, wrapper), 0o755)
        argv = ["bash", "-c", f". ./{wrapper}"]
    else:  # pragma: no cover - Windows
        argv = ["cmd", "/c", "call", wrapper]
    status = int(runner(argv, cwd))
    if status != 0:
        return status
    run_state = os.path.join(cwd, TMP_FILE_RUN_STATE)
    if os.path.isfile(run_state):
        with open(run_state, encoding="utf-8") as fh:
            merge(state, json.load(fh))
    run_env = os.path.join(cwd, TMP_FILE_RUN_ENV)
    if os.path.isfile(run_env):
        with open(run_env, encoding="utf-8", errors="replace") as fh:
            merge(env, parse_env_file(fh.read()))
    return 0
