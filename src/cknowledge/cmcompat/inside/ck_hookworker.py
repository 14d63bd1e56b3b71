"""The hook worker: runs the ``customize.py`` hooks of CM/MLC scripts inside the hook venv.

Started by cknowledge (``cmcompat/hooks.py``) as ``python ck_hookworker.py RFD WFD`` with the
hook venv's interpreter, where the real ``cmind`` and ``mlcflow`` packages are installed,
so ``from cmind import utils`` / ``from mlc import utils`` / ``import cmind`` work as under
CM and MLC. Standard library only besides those.

Protocol: one JSON object per line over two pipes (the hooks' own prints go to stdout).
cknowledge sends ``{"op": "call", ...}``; the worker answers ``{"op": "done", ...}`` with the
hook's result and the env/state/meta it changed. While a hook runs, ``access()`` (what
``i['automation'].cmind.access``, ``automation.action_object.access``, ``cmind.access`` and
``mlc.access`` are bound to) sends ``{"op": "access", "request": ...}`` and waits for the
``{"op": "reply"}``; a nested ``call`` arriving meanwhile (a dependency's hooks) is served
first. Only this automation object and ``access`` are ours: they go through cknowledge's
engine.
"""

from __future__ import annotations

from typing import Any

import copy
import glob
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ck_native as native  # type: ignore[import-not-found]  # noqa: E402

_CHANNEL: Channel = None  # type: ignore[assignment]  # set by main()
_MODULES: dict[str, Any] = {}
_SYS_PATH_BASE = list(sys.path)


class Channel:
    def __init__(self, rfd: int, wfd: int) -> None:
        self.reader = os.fdopen(rfd, "r", encoding="utf-8")
        self.writer = os.fdopen(wfd, "w", encoding="utf-8")

    def send(self, msg: dict[str, Any]) -> None:
        self.writer.write(json.dumps(msg, default=_plain) + "\n")
        self.writer.flush()

    def receive(self) -> dict[str, Any]:
        line = self.reader.readline()
        if not line:
            sys.exit(0)
        msg: dict[str, Any] = json.loads(line)
        return msg


def _plain(obj: Any) -> Any:
    """What JSON cannot carry is sent as its text (an object a hook left in env, say)."""
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Artifact):
        return {"path": obj.path, "meta": obj.meta}
    return str(obj)


class Artifact(dict[str, Any]):
    """A found entry as CM's artifact objects show it: ``.path``, ``.meta``, ``.repo_meta``."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.path = data.get("path", "")
        self.meta = data.get("meta") or {}
        self.repo_meta = data.get("repo_meta") or {}
        self.repo_path = data.get("repo_path", "")


def access(request: Any) -> Any:
    """A CM/MLC ``access()`` call from a hook, answered by cknowledge."""
    if isinstance(request, str):
        return {"return": 1, "error": "access() with a command string is not supported; "
                                      "pass a dictionary"}
    _CHANNEL.send({"op": "access", "request": request})
    while True:
        msg = _CHANNEL.receive()
        if msg.get("op") == "reply":
            result = msg.get("result") or {}
            if isinstance(result.get("list"), list):
                result["list"] = [Artifact(x) if isinstance(x, dict) else x
                                  for x in result["list"]]
            return result
        serve(msg)


class Automation:
    """The ``i['automation']`` object hooks receive: the methods CM/MLC hooks call."""

    def __init__(self, prefix: str, os_info: dict[str, Any], meta: dict[str, Any]) -> None:
        self.prefix = prefix
        self.os_info = os_info
        self.meta = {"alias": "script", "uid": "5b4e0237da074764"}
        self.cmind = self
        self.action_object = self
        self.cache_action = self  # MLC: the cache automation's access(); requests go to ours
        self.logger = logging.getLogger("ck-script")
        self.cfg: dict[str, Any] = {"artifact_keys": [], "repo_dirs": []}
        self.access = access
        self.tmp_file_env = native.TMP_FILE_ENV
        self.tmp_file_env_all = native.TMP_FILE_ENV_ALL
        self.tmp_file_run = native.TMP_FILE_RUN
        self.tmp_file_state = native.TMP_FILE_STATE
        self.tmp_file_run_state = native.TMP_FILE_RUN_STATE
        self.tmp_file_run_env = native.TMP_FILE_RUN_ENV
        self.tmp_file_ver = native.TMP_FILE_VER
        self.file_with_cached_state = prefix.lower() + "-cached-state.json"

    # -- native scripts -----------------------------------------------------------------
    def _run(self, rsi: dict[str, Any], script_name: str, env: dict[str, Any], postprocess: str) -> dict[str, Any]:
        status = native.run_native(rsi["path"], script_name or "run", env, rsi["state"],
                                   rsi["os_info"], self.prefix, os.getcwd(), _system,
                                   must_exist=bool(script_name and script_name != "run"))
        if status > 0:
            return {"return": 2, "error": f"native script {script_name or 'run'} of "
                                          f"{rsi['path']} failed (exit status {status})"}
        code = rsi.get("customize_code")
        if postprocess and code is not None and hasattr(code, postprocess):
            ii = dict(rsi.get("customize_common_input") or {})
            ii.update(env=env, state=rsi["state"], meta=rsi.get("meta", {}))
            result: dict[str, Any] = getattr(code, postprocess)(ii)
            return result
        return {"return": 0}

    def run_native_script(self, i: dict[str, Any]) -> dict[str, Any]:
        rsi = i["run_script_input"]
        env = i.get("env") or {}
        saved_state = copy.deepcopy(rsi.get("state", {}))
        r = self._run(rsi, i["script_name"], env,
                      "detect_version" if i.get("detect_version") else "")
        r["env_tmp"] = copy.deepcopy(env)
        rsi["state"] = saved_state
        return r

    def detect_version_using_script(self, i: dict[str, Any]) -> dict[str, Any]:
        env = i.get("env") or {}
        rsi = i["run_script_input"]
        r = self._run(rsi, "", env, "detect_version")
        if r.get("return", 0) == 0 and r.get("version"):
            if native.version_ok(r["version"], env, self.prefix):
                return {"return": 0, "detected_version": r["version"]}
        # as CM and MLC do: any failure of the script or of its detect_version() is "not
        # detected" (16), which hooks read as "install it" (get-generic-python-lib does)
        return {"return": 16, "error": "version was not detected"}

    # -- finding files ------------------------------------------------------------------
    def get_default_path_list(self, i: dict[str, Any]) -> list[Any]:
        key = i.get("default_path_env_key", "")
        if not key:
            return []
        return os.environ.get(key, "").split(self.os_info["env_separator"])

    def find_file_in_paths(self, i: dict[str, Any]) -> dict[str, Any]:
        file_name = i.get("file_name_re") or i.get("file_name", "")
        is_re = bool(i.get("file_name_re"))
        if not file_name:
            return {"return": 1, "error": "file_name or file_name_re not specified"}
        hook = i.get("hook")
        found: list[Any] = []

        def add(path: str) -> None:
            for have in found:
                try:
                    if os.path.samefile(have, path):
                        return
                except OSError:
                    pass
            if hook is not None:
                r = hook({"file": path})
                if r.get("return", 0) > 0 or r.get("skip"):
                    return
            found.append(path)

        suffixes = ("", ".[0-9]", ".[0-9][0-9]", "-[0-9]", "-[0-9][0-9]", "[0-9]",
                    "[0-9][0-9]", "[0-9].[0-9]", "[0-9][0-9].[0-9]", "[0-9][0-9].[0-9][0-9]")
        for path in i["paths"]:
            if not os.path.isdir(path):
                continue
            if is_re:
                for name in os.listdir(path):
                    if re.match(file_name, name):
                        add(os.path.join(path, name))
            else:
                for suffix in suffixes:
                    for match in glob.glob(os.path.join(path, file_name) + suffix):
                        add(match)
        if i.get("select") and i.get("detect_version"):
            env = i.get("env") or {}
            rsi = i["run_script_input"]
            good = []
            for candidate in found:
                trial = dict(env)
                trial[i["env_path_key"]] = candidate
                r = self._run(rsi, "", trial, "detect_version")
                if r.get("return", 0) > 0:
                    if r["return"] != 2:
                        return r
                    continue
                version = r.get("version", "")
                if version and version != -1 and native.version_ok(version, env, self.prefix):
                    good.append(candidate)
            found = good
        if i.get("select") and len(found) > 1:
            found = found[:1]  # never a prompt: the first in search order (documented)
        return {"return": 0, "found_files": found}

    def find_artifact(self, i: dict[str, Any]) -> dict[str, Any]:
        env = i["env"]
        sep = self.os_info["env_separator"]
        file_name = i["file_name"]
        path = env.get(self.prefix + "_TMP_PATH", "")
        if path and env.get(self.prefix + "_TMP_PATH_IGNORE_NON_EXISTANT", "") != "yes":
            for p in path.split(sep):
                if p.strip() and not os.path.isdir(p):
                    return {"return": 1, "error": f"path {p} doesn't exist"}
        forced = str(env.get(self.prefix + "_INPUT", "")).strip()
        if forced:
            if not os.path.isfile(forced):
                return {"return": 1, "error": f"file {forced} doesn't exist"}
            file_name, path = os.path.basename(forced), os.path.dirname(forced)
        defaults = self.get_default_path_list(i)
        paths = []
        for p in (path.split(sep) if path else defaults):
            d = os.path.dirname(os.path.join(p, file_name))
            if d not in paths:
                paths.append(d)
        rsi = i.get("run_script_input") or {}
        saved_state = copy.deepcopy(rsi.get("state", {}))
        r = self.find_file_in_paths({
            "paths": paths, "file_name": file_name, "select": True, "select_default": True,
            "detect_version": i.get("detect_version", False),
            "env_path_key": i.get("env_path_key", ""), "env": copy.deepcopy(env),
            "hook": i.get("hook"), "run_script_input": rsi})
        if rsi:
            rsi["state"] = saved_state
        if r["return"] > 0:
            return r
        if not r["found_files"]:
            return {"return": 16, "error": f"{file_name} not found"}
        file_path = r["found_files"][0]
        found_path = os.path.dirname(file_path)
        if found_path not in defaults:
            key = "+" + i.get("default_path_env_key", "")
            listed = env.get(key, [])
            if found_path not in listed:
                listed.insert(0, found_path)
                env[key] = listed
            for sub, var in (i.get("extra_paths") or {}).items():
                extra = os.path.normpath(os.path.join(found_path, "..", sub))
                if os.path.exists(extra):
                    env.setdefault(var, []).append(extra)
        if i.get("env_path_key"):
            env[i["env_path_key"]] = file_path
        return {"return": 0, "found_path": found_path, "found_file_path": file_path,
                "found_file_name": os.path.basename(file_path), "default_path_list": defaults}

    def find_file_deep(self, i: dict[str, Any]) -> dict[str, Any]:
        found = []
        for p in i["paths"]:
            if not os.path.isdir(p):
                continue
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if os.path.isdir(full):
                    found += self.find_file_deep({"paths": [full], "file_name": i["file_name"]}
                                                 )["found_paths"]
                elif name == i["file_name"]:
                    found.append(p)
                    break
        restrict = i.get("restrict_paths") or []
        if restrict:
            found = [p for p in found if any(r in p for r in restrict)]
        return {"return": 0, "found_paths": found}

    def find_file_back(self, i: dict[str, Any]) -> dict[str, Any]:
        path = i["path"]
        while path:
            if os.path.isfile(os.path.join(path, i["file_name"])):
                break
            parent = os.path.dirname(path)
            path = "" if parent == path else parent
        return {"return": 0, "found_path": path}

    def parse_version(self, i: dict[str, Any]) -> dict[str, Any]:
        file_name = i.get("file_name") or native.TMP_FILE_VER
        if not os.path.isfile(file_name):
            return {"return": 16, "error": f"file {file_name} not found"}
        with open(file_name, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        match = None
        for line in text.splitlines():
            match = re.search(i["match_text"], line)
            if match:
                break
        if match is None:
            return {"return": 1, "error": f"version was not detected ({text.strip()[:200]})"}
        group = i["group_number"]
        if not match.lastindex or match.lastindex < group:
            return {"return": 1, "error": "Invalid version detection group number"}
        version = match.group(group)
        i["which_env"][i["env_key"]] = version
        i["which_env"][self.prefix + "_DETECTED_VERSION"] = version
        return {"return": 0, "version": version, "string": text}

    # -- meta -----------------------------------------------------------------------------
    def update_deps(self, i: dict[str, Any]) -> dict[str, Any]:
        try:
            native.update_deps(i["deps"], i["update_deps"], i.get("env") or {}, self.prefix)
        except native.ScriptError as exc:
            return {"return": 1, "error": exc.message}
        return {"return": 0}

    def clean_some_tmp_files(self, i: dict[str, Any]) -> dict[str, Any]:
        env = i.get("env") or {}
        for name in (native.TMP_FILE_RUN_ENV, native.TMP_FILE_RUN_STATE, native.TMP_FILE_VER,
                     native.TMP_FILE_STATE) + tuple(env.get(self.prefix + "_TMP_CLEAN_FILES",
                                                            "").split(",")):
            if name and os.path.isfile(name):
                os.remove(name)
        return {"return": 0}

    def _available_variations(self, i: dict[str, Any]) -> dict[str, Any]:
        meta = i["meta"]
        return {"return": 0, "variations": sorted(meta.get("variations", {}))}

    def compare_versions(self, i: dict[str, Any]) -> dict[str, Any]:
        return {"return": 0, "comparison": native.compare_versions(str(i["version1"]), str(i["version2"]))}


def _system(argv: list[Any], cwd: str) -> int:
    sys.stdout.flush()
    return subprocess.call(argv, cwd=cwd, stdin=subprocess.DEVNULL)


def _load(path: str, automation_dir: str) -> Any:
    """customize.py of a script folder, loaded once per file version."""
    file = os.path.join(path, "customize.py")
    try:
        stamp = os.stat(file).st_mtime_ns
    except OSError:
        return None
    cached = _MODULES.get(file)
    if cached and cached[0] == stamp:
        return cached[1]
    for extra in (automation_dir, path):
        if extra and os.path.isdir(extra) and extra not in sys.path:
            sys.path.insert(0, extra)
    spec = importlib.util.spec_from_file_location("customize", file)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _MODULES[file] = (stamp, module)
    return module


def call(msg: dict[str, Any]) -> dict[str, Any]:
    """Run one hook function; the answer carries what it changed."""
    module = _load(msg["path"], msg.get("automation_dir", ""))
    func = msg["func"]
    if module is None or not hasattr(module, func):
        return {"missing": True}
    hook = msg["i"]
    prefix = msg["prefix"]
    automation = Automation(prefix, hook["os_info"], hook["meta"])
    artifact = Artifact({"path": msg["path"], "meta": hook["meta"],
                         "repo_meta": msg.get("repo_meta") or {}})
    common = {"input": hook.get("input", {}), "automation": automation, "artifact": artifact,
              "customize": hook["meta"].get("customize", {}), "os_info": hook["os_info"],
              "recursion_spaces": hook.get("recursion_spaces", ""),
              "script_tags": hook.get("script_tags", []),
              "variation_tags": hook.get("variation_tags", [])}
    rsi = dict(msg.get("rsi") or {})
    rsi.update(path=msg["path"], os_info=hook["os_info"], state=hook["state"],
               const=hook["const"], const_state=hook["const_state"], meta=hook["meta"],
               env=hook["env"], self=automation, customize_code=module,
               customize_common_input=common)
    ii = dict(common)
    ii.update(env=hook["env"], state=hook["state"], meta=hook["meta"], run_script_input=rsi,
              const=hook["const"], const_state=hook["const_state"])
    cwd = os.getcwd()
    os.chdir(msg["cwd"])
    try:
        result = getattr(module, func)(ii)
    finally:
        sys.stdout.flush()
        os.chdir(cwd)
    if not isinstance(result, dict):
        result = {"return": 1, "error": f"{func}() of {msg['path']}/customize.py returned "
                                        f"{type(result).__name__}, not a dictionary"}
    return {"result": result, "env": ii["env"], "state": ii["state"], "meta": ii["meta"],
            "const": hook["const"], "const_state": hook["const_state"]}


def serve(msg: dict[str, Any]) -> None:
    if msg.get("op") != "call":
        _CHANNEL.send({"op": "done", "crash": f"unexpected message {msg.get('op')!r}"})
        return
    try:
        answer = call(msg)
    except SystemExit as exc:
        answer = {"crash": f"{msg['func']}() called exit({exc.code})"}
    except BaseException as exc:  # a hook's bug is reported, the worker stays up
        tb = traceback.extract_tb(exc.__traceback__)
        where = next((f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(tb)
                      if f.filename.endswith("customize.py")), "")
        crash = f"{type(exc).__name__}: {exc}" + (f" (at {where})" if where else "")
        if isinstance(exc, EOFError):  # input() on a stdin that ck never offers
            crash += ("; the hook asked a question on stdin, and cknowledge runs scripts "
                      "without prompts: give the answer beforehand (an input or --env.KEY=VALUE "
                      "the hook reads)")
        answer = {"crash": crash, "traceback": traceback.format_exc()}
    answer["op"] = "done"
    _CHANNEL.send(answer)


def _bind_access() -> None:
    """``cmind.access`` and ``mlc.access`` go to cknowledge, as the automation's do."""
    for name in ("cmind", "mlc"):
        try:
            module = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a package that fails to import is not bound
            continue
        setattr(module, "access", access)


def main() -> None:
    global _CHANNEL
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    _CHANNEL = Channel(int(sys.argv[1]), int(sys.argv[2]))
    _bind_access()
    _CHANNEL.send({"op": "ready", "python": sys.executable})
    while True:
        serve(_CHANNEL.receive())


if __name__ == "__main__":
    main()
