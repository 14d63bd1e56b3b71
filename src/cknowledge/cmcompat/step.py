"""One run of one CM/MLC script (``Runner.run`` → ``Step(...).run()``), phase by phase."""

from __future__ import annotations

import copy
import os
import time

from ..errors import CKError, CommandFailed, InvalidInput, MetaError, NotFound
from .inside import ck_native as native
from .runner import (ENV_INPUTS, HOST_ENV_KEYS, KIND, TMP_INPUTS, VERSION_KEYS, Runner,
                     clean_keys, flavor, new_items, script_failed, to_ck, what)
from .variations import RunState, adr_of, apply_variations, choose, merge_adr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TMP_FILES = (native.TMP_FILE_RUN_STATE, native.TMP_FILE_RUN_ENV, native.TMP_FILE_VER,
             native.TMP_FILE_ENV + ".sh", native.TMP_FILE_ENV_ALL + ".sh",
             native.TMP_FILE_STATE, native.TMP_FILE_RUN + ".sh")


class Step:
    def __init__(self, runner: Runner, i: dict[str, Any], depth: int) -> None:
        self.runner = runner
        self.i = i
        self.depth = depth
        env, state = i.get("env"), i.get("state")
        self.env: dict[str, Any] = env if isinstance(env, dict) else {}
        self.state: dict[str, Any] = state if isinstance(state, dict) else {}
        self.const: dict[str, Any] = dict(i.get("const") or {})
        self.const_state: dict[str, Any] = dict(i.get("const_state") or {})
        self.extra_tags: list[str] = []

    # -- the phases, in CM's order -------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        i, env, state = self.i, self.env, self.state
        saved_env, saved_state = copy.deepcopy(env), copy.deepcopy(state)
        for key, target in (("env", env), ("state", state), ("const", self.const),
                            ("const_state", self.const_state)):
            native.merge(target, i.get("local_" + key) or {})
        adr = dict(i.get("adr") or {})
        merge_adr(adr, dict(i.get("add_deps_recursive") or {}))
        self.adr = adr
        artifact, tags, variations, excluded = self._what()
        entry = self.runner.find(artifact, tags, excluded, variations, i.get("_flavor"))
        prefix = flavor(entry) or "CM"
        self.prefix, self.entry = prefix, entry
        self.name = f"{entry['repo']}:{entry['name']}"
        self.path = str(entry["path"])
        self._inputs_to_env(prefix)
        meta = copy.deepcopy(entry["meta"] or {})
        self.meta = meta
        run = RunState(prefix, env, state, self.const, self.const_state, meta, adr, i)
        self.rs = run
        if run.cache is None:
            run.cache = meta.get("cache", False)
        for key, value in (meta.get("default_env") or {}).items():
            env.setdefault(key, value)
        env.update(meta.get("env") or {})
        native.merge(state, meta.get("state") or {})
        for name, var in (meta.get("input_mapping") or {}).items():
            if name in i:
                env[var] = i[name]
                self.const[var] = i[name]
        env.update(self.const)
        native.merge(state, self.const_state)
        state["docker"] = meta.get("docker", {})
        try:
            chosen, _excluded = choose(meta, variations, f"script {self.name}")
            self.variations = chosen
            extra = apply_variations(run, chosen, f"script {self.name}")
            self.script_name = str(extra.get("script_name") or meta.get("script_name") or "")
            self._versions(prefix)
            add = dict(i.get("ad") or {})
            native.merge(add, i.get("add_deps") or {})
            run.update_deps(add, strict=True)
            run.update_deps(adr)
            native.substitute(env)
        except native.ScriptError as exc:
            raise to_ck(exc, self.name) from None
        unsupported = sorted(k for k in meta if k not in KNOWN_META)
        if unsupported:
            self.runner.say(self.depth, f"note: script {self.name}: meta keys not supported by "
                                        f"cknowledge, ignored: {', '.join(unsupported)}")
        for warning in list(meta.get("warnings") or []):
            self.runner.say(self.depth, f"warning: script {self.name}: {warning}")
        cache = bool(run.cache) and not i.get("skip_cache") and not i.get("fake_run")
        label = "script:" + self.name + "".join(",_" + v for v in chosen if not v.startswith("-"))
        if cache:
            hit = self._cache_hit()
            if hit is not None:
                self.runner.say(self.depth, f"{label}: cached")
                return self._finish_cached(hit, saved_env, saved_state)
        self.runner.say(self.depth, label)
        return self._execute(cache, saved_env, saved_state)

    def _what(self) -> tuple[str | None, list[str], list[str], list[str]]:
        return what(self.i)

    @property
    def info(self) -> dict[str, Any]:
        """``os_info`` (computed once per runner, only when a script really runs)."""
        return self.runner.os_info(self.prefix)

    def _inputs_to_env(self, prefix: str) -> None:
        i, env = self.i, self.env
        if os.name == "nt":  # Windows adds env of its own
            env.update(self.info.get("env") or {})
        elif prefix == "MLC":  # as os_info's env, without computing os_info on a cache hit
            env.update(native.host_os_env(prefix))
        for key in HOST_ENV_KEYS:
            if os.environ.get(key) and not env.get(key):
                env[key] = os.environ[key]
        env[prefix + "_TMP_CURRENT_PATH"] = os.getcwd()
        if i.get("quiet", True):
            env[prefix + "_QUIET"] = "yes"
        for key, var in TMP_INPUTS.items():
            value = str(i.get(key) or "").strip()
            if value:
                env[f"{prefix}_{var}"] = value
        for key in ENV_INPUTS:
            given = i.get(key)
            if isinstance(given, str):
                given = given.strip()
            if given:
                env[f"{prefix}_{key.upper()}"] = given
        native.substitute(env)

    def _versions(self, prefix: str) -> None:
        i, env, meta = self.i, self.env, self.meta
        values = {}
        for key, var in VERSION_KEYS:
            value = str(i.get(key) or "").strip() or str(env.get(f"{prefix}_{var}", "")) \
                or str(meta.get(key) or "")
            values[key] = value
            if value:
                env[f"{prefix}_{var}"] = value
        self.version = values["version"]
        self.version_limits = values
        versions = meta.get("versions") or {}
        if self.version and self.version in versions:
            part = versions[self.version] or {}
            self.rs.apply(part)
            merge_adr(self.adr, adr_of(part))
            self.rs.update_deps(self.adr)

    # -- cache -----------------------------------------------------------------------------------
    def _key(self) -> str:
        from ..cache.keys import canonical, digest, folder_digests

        def keep(d: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in d.items() if "_TMP_" not in k}

        import struct
        import sys

        facts = {"os": sys.platform, "bits": struct.calcsize("P") * 8,
                 "machine": os.uname().machine if hasattr(os, "uname") else ""}
        parts = {"flavor": self.prefix, "files": folder_digests(self.path),
                 "meta": self.entry["meta"], "variations": self.variations,
                 "versions": self.version_limits, "env": keep(self.env),
                 "state": self.state, "const": self.const, "const_state": self.const_state,
                 "adr": self.adr, "deps": {k: self.meta[k] for k in
                                           ("deps", "prehook_deps", "posthook_deps", "post_deps")},
                 "PATH": os.environ.get("PATH", ""), "platform": facts}
        return digest(canonical(parts))[:32]

    def _cache_hit(self) -> dict[str, Any] | None:
        self.key = self._key()
        if self.runner.new and self.depth == 0:
            return None
        hit = self.runner.cache.lookup(KIND, self.key)
        if hit is None:
            return None
        expires = hit.get("expires")
        if isinstance(expires, (int, float)) and time.time() > expires:
            self.runner.cache.remove_folder(hit["path"])  # MLC's cache_expiration
            return None
        from ..cache.keys import folder_digests, digest

        for path, want in (hit.get("scripts") or {}).items():
            try:
                have = digest(folder_digests(path)) if os.path.isdir(path) else ""
            except OSError:
                have = ""
            if have != want:
                self.runner.cache.remove_folder(hit["path"])
                return None
        return hit

    def _trace(self, extra: dict[str, str] | None = None) -> None:
        from ..cache.keys import digest, folder_digests

        mine = extra or {self.path: digest(folder_digests(self.path))}
        for trace in self.runner._traces:
            trace.update(mine)

    def _finish_cached(self, hit: dict[str, Any], saved_env: dict[str, Any],
                       saved_state: dict[str, Any]) -> dict[str, Any]:
        self._trace(dict(hit.get("scripts") or {}))
        new_env = hit.get("cm_new_env") or {}
        new_state = hit.get("cm_new_state") or {}
        self.runner.steps.append({"script": self.name, "cached": True, "depth": self.depth,
                                  "path": hit["path"]})
        return self._hand_back(saved_env, saved_state, new_env, new_state, cached=True,
                               work=hit["path"])

    def _hand_back(self, saved_env: dict[str, Any], saved_state: dict[str, Any],
                   new_env: dict[str, Any], new_state: dict[str, Any], cached: bool,
                   work: str | None) -> dict[str, Any]:
        native.merge(saved_env, copy.deepcopy(new_env))
        native.merge(saved_state, copy.deepcopy(new_state))
        self.env.clear()
        self.env.update(saved_env)
        self.state.clear()
        self.state.update(saved_state)
        return {"return": 0, "env": self.env, "new_env": new_env, "state": self.state,
                "new_state": new_state, "script": self.name, "cached": cached,
                "path": work, "flavor": self.prefix}

    # -- running ---------------------------------------------------------------------------------
    def _execute(self, cache: bool, saved_env: dict[str, Any],
                 saved_state: dict[str, Any]) -> dict[str, Any]:
        runner, env, prefix = self.runner, self.env, self.prefix
        work = os.getcwd()
        trace: dict[str, str] = {}
        if cache:
            lock = runner.cache.lock(KIND, self.key)
            lock.__enter__()
            work = runner.cache.begin(KIND, self.key)
            runner._traces.append(trace)
        self.work = work
        try:
            result = self._phases(work)
            if result is not None:  # skipped, or another script ran instead
                if cache:
                    runner.cache.abort(KIND, self.key)
                return result
            native.merge(env, self.const)
            native.merge(self.state, self.const_state)
            keys_env = self.i.get("force_new_env_keys") or self.rs.new_env_keys
            keys_state = self.i.get("force_new_state_keys") or self.rs.new_state_keys
            new_env = new_items(list(keys_env), env)
            new_state = new_items(list(keys_state), self.state)
            self._trace()
            if cache:
                trace[self.path] = _digest(self.path)
                runner.cache.commit(KIND, self.key, {
                    "name": self.name, "tags": ["cm-script", self.entry["name"]],
                    "new_env": {}, "paths": _paths(new_env, work),
                    "cm_new_env": new_env, "cm_new_state": new_state,
                    "cm_tags": self._cache_tags(), "scripts": trace,
                    "expires": _expiry(self.i.get("cache_expiration",
                                                   self.meta.get("cache_expiration")), self.name),
                    "version": env.get(prefix + "_DETECTED_VERSION") or self.version})
            else:
                self._clean(work)
        except BaseException:
            if cache:
                runner.cache.abort(KIND, self.key)
            raise
        finally:
            if cache:
                # by identity: two traces may hold the same scripts and compare equal
                runner._traces[:] = [t for t in runner._traces if t is not trace]
                lock.__exit__(None, None, None)
        runner.steps.append({"script": self.name, "cached": False, "depth": self.depth,
                             "path": work if cache else None})
        if self.depth == 0:
            for key, label in sorted((self.meta.get("print_env_at_the_end") or {}).items()):
                runner.say(0, f"{label or 'ENV[' + key + ']'}: {new_env.get(key, '')}")
        return self._hand_back(saved_env, saved_state, new_env, new_state, cached=False,
                               work=work if cache else None)

    def _cache_tags(self) -> list[str]:
        tags = ["script-artifact-" + str(self.entry.get("uid") or "")]
        tags += [str(t) for t in self.meta.get("tags") or []]
        tags += ["_" + v for v in self.variations if not v.startswith("-")]
        if self.version:
            tags.append("version-" + self.version)
        for item in self.meta.get("extra_cache_tags_from_env") or []:
            if isinstance(item, dict):
                value = str(self.env.get(str(item.get("env")), "")).strip()
                tags += ["deps-" + str(item.get("prefix", "")) + t for t in value.split(",") if t]
        tags += self.extra_tags
        return list(dict.fromkeys(tags))

    def _clean(self, work: str) -> None:
        if self.i.get("dirty"):
            return
        for name in list(self.meta.get("clean_files") or []) + list(TMP_FILES):
            path = os.path.join(work, str(name))
            if os.path.isfile(path):
                os.remove(path)

    def _phases(self, work: str) -> dict[str, Any] | None:
        env, prefix, rs = self.env, self.prefix, self.rs
        if not self.version and rs.default_version:
            self._default_version()
        env[prefix + "_TMP_CURRENT_SCRIPT_PATH"] = self.path
        for name in self.meta.get("clean_output_files") or []:
            if os.path.isfile(os.path.join(work, str(name))):
                os.remove(os.path.join(work, str(name)))
        has_hooks = os.path.isfile(os.path.join(self.path, "customize.py"))
        local_keys = clean_keys(prefix) + list(self.meta.get("local_env_keys") or [])
        if has_hooks and str(self.meta.get("predeps", "True")).lower() not in ("0", "false", "no"):
            self._hook("predeps", work)
        self._deps(rs.meta["deps"], local_keys)
        native.substitute(env)
        for name in TMP_FILES:
            if os.path.isfile(os.path.join(work, name)):
                os.remove(os.path.join(work, name))
        env.update(self.const)
        native.merge(self.state, self.const_state)
        self._pip_version_string()
        out = str(env.get(prefix + "_OUTDIRNAME") or "")
        if out:
            if not os.path.isabs(out) and self.depth == 0:
                out = os.path.join(str(env[prefix + "_TMP_CURRENT_PATH"]), out)
                env[prefix + "_OUTDIRNAME"] = out
            os.makedirs(out, exist_ok=True)
            work = out
        if has_hooks:
            r = self._hook("preprocess", work)
            self.extra_tags += [str(t) for t in r.get("add_extra_cache_tags") or []]
            if r.get("skip"):
                another = r.get("script") or {}
                if not another:
                    self.runner.say(self.depth, f"  script:{self.name} skipped by its preprocess")
                    return {"return": 0, "skipped": True, "env": env, "new_env": {},
                            "state": self.state, "new_state": {}, "script": self.name}
                req = {"env": env, "state": self.state, "const": self.const,
                       "const_state": self.const_state, "add_deps_recursive": self.adr}
                req.update(another)
                return self.runner.run(req, self.depth + 1)
        self._deps(rs.meta["prehook_deps"], local_keys)
        for old, new in (self.meta.get("env_key_mappings") or {}).items():
            for key in list(env):
                if key.startswith(old):
                    env[key.replace(old, new)] = env[key]
        self._native(work)
        self._deps(rs.meta["posthook_deps"], local_keys)
        if has_hooks:
            r = self._hook("postprocess", work)
            if r.get("version"):
                self.version = str(r["version"])
            self.extra_tags += [str(t) for t in r.get("add_extra_cache_tags") or []]
        self._deps(rs.meta["post_deps"], list(self.meta.get("clean_env_keys_post_deps") or []))
        return None

    def _default_version(self) -> None:
        
        env, prefix, limits = self.env, self.prefix, self.version_limits
        version = self.rs.default_version
        if limits["version_min"] and native.compare_versions(version, limits["version_min"]) < 0:
            version = limits["version_min"]
        if limits["version_max"] and native.compare_versions(version, limits["version_max"]) > 0:
            version = limits["version_max_usable"] or limits["version_max"]
        env[prefix + "_VERSION"] = version
        self.version = version
        versions = self.meta.get("versions") or {}
        if self.rs.default_version in versions:
            part = versions[self.rs.default_version] or {}
            self.rs.apply(part)
            merge_adr(self.adr, part.get("add_deps_recursive") or {})

    def _pip_version_string(self) -> None:
        env, p = self.env, self.prefix
        v, lo, hi = (str(env.get(f"{p}_{k}", "")) for k in ("VERSION", "VERSION_MIN", "VERSION_MAX"))
        text = f"=={v}" if v else f">={lo},<={hi}" if lo and hi else f">={lo}" if lo else \
            f"<={hi}" if hi else ""
        env[p + "_TMP_PIP_VERSION_STRING"] = text

    def _native(self, work: str) -> None:
        from .. import proc

        def runner(argv: list[str], cwd: str) -> int:
            limit, source = None, None
            if self.runner.deadline is not None:
                limit = max(self.runner.deadline[0] - time.monotonic(), 0.0)
                source = f"--timeout={self.runner.deadline[1]:g} for the whole run"
            try:
                proc.run(argv, cwd=cwd, on_line=self.runner.on_line,
                         what=f"script {self.name}", timeout=limit, timeout_source=source)
            except CommandFailed as exc:
                if exc.details.get("timeout") is not None:
                    raise CommandFailed(f"script {self.name}: {exc.message}",
                                        **exc.details) from None
                status = exc.details.get("returncode")
                for name in self.meta.get("print_files_if_script_error") or []:
                    shown = os.path.join(cwd, str(name))
                    if os.path.isfile(shown) and self.runner.on_line is not None:
                        with open(shown, encoding="utf-8", errors="replace") as fh:
                            for line in fh.read().splitlines()[-50:]:
                                self.runner.on_line(f"{name}: {line}")
                tail = [t for t in exc.details.get("tail") or [] if t.strip()][-3:]
                raise CommandFailed(
                    f"script {self.name}: {os.path.basename(self.script_name or 'run')} "
                    f"failed with exit status {status}"
                    + (": " + " | ".join(tail) if tail else ""),
                    returncode=status, cwd=cwd, tail=exc.details.get("tail")) from None
            return 0

        try:
            native.run_native(self.path, self.script_name or "run", self.env, self.state,
                              self.info, self.prefix, work, runner,
                              must_exist=bool(self.script_name))
        except native.ScriptError as exc:
            raise to_ck(exc, self.name) from None

    def _hook(self, func: str, work: str) -> dict[str, Any]:
        rs = self.rs
        run_input = {k: v for k, v in self.i.items()
                     if k not in ("env", "state", "const", "const_state") and
                     not k.startswith("_")}
        msg = {"func": func, "path": self.path, "cwd": work, "prefix": self.prefix,
               "automation_dir": os.path.join(os.path.dirname(os.path.dirname(self.path)),
                                              "automation"),
               "i": {"input": run_input, "env": self.env, "state": self.state,
                     "const": self.const, "const_state": self.const_state, "meta": rs.meta,
                     "os_info": self.info, "recursion_spaces": "  " * (self.depth + 1),
                     "script_tags": self.meta.get("tags") or [],
                     "variation_tags": [v for v in self.variations if not v.startswith("-")]},
               "rsi": {"bat_ext": self.info["bat_ext"], "recursion_spaces": "  " * self.depth,
                       "tmp_file_run_state": native.TMP_FILE_RUN_STATE,
                       "tmp_file_run_env": native.TMP_FILE_RUN_ENV,
                       "tmp_file_state": native.TMP_FILE_STATE,
                       "tmp_file_run": native.TMP_FILE_RUN, "add_deps_recursive": self.adr,
                       "posthook_deps": rs.meta["posthook_deps"],
                       "found_script_tags": self.meta.get("tags") or [],
                       "variation_tags_string": ",".join("_" + v for v in self.variations),
                       "script_name": self.script_name, "recursion": self.depth > 0,
                       "run_state": {"script_id": f"{self.meta.get('alias')},{self.meta.get('uid')}"}}}
        answer = self.runner._host().call(msg)
        if answer.get("missing"):
            return {}
        if answer.get("crash"):
            raise script_failed(self.name, f"{func}() in customize.py",
                                {"error": answer["crash"]})
        for key, target in (("env", self.env), ("state", self.state), ("const", self.const),
                            ("const_state", self.const_state)):
            if isinstance(answer.get(key), dict):
                target.clear()
                target.update(answer[key])
        if isinstance(answer.get("meta"), dict):
            for key in ("deps", "prehook_deps", "posthook_deps", "post_deps"):
                if isinstance(answer["meta"].get(key), list):
                    rs.meta[key] = answer["meta"][key]
        result = answer.get("result") or {}
        code = result.get("return", 0)
        if not isinstance(code, int) or code > 0:
            raise script_failed(self.name, f"{func}()", result)
        return dict(result)

    # -- dependencies ----------------------------------------------------------------------------
    def _deps(self, deps: list[dict[str, Any]], clean: list[str]) -> None:
        env = self.env
        variation_groups = None
        for dep in deps:
            if not isinstance(dep, dict):
                raise MetaError(f"script {self.name}: a dependency must be a mapping, not {dep!r}")
            if not dep.get("tags"):
                continue
            try:
                if native.dep_skipped(dep, env, self.prefix):
                    continue
                dep = copy.deepcopy(dep)
                if dep.get("env"):
                    native.substitute(dep["env"], env)
            except native.ScriptError as exc:
                raise to_ck(exc, self.name) from None
            tags = native.tags_of(dep)
            for prefix_tag, keys in (dep.get("update_tags_from_env_with_prefix") or {}).items():
                for key in keys:
                    value = str((dep.get("env") or {}).get(key, "")).strip() or \
                        str(env.get(key, "")).strip()
                    if value:
                        tags.append(prefix_tag + value)
            held: dict[str, Any] = {}
            for pattern in clean:
                for key in [k for k in list(env) if _match(k, pattern)]:
                    held[key] = env.pop(key)
            for key in [k for k in list(env) if "<<<" in str(env[k])]:
                held[key] = env.pop(key)
            for pattern in dep.get("force_env_keys") or []:
                for key in [k for k in held if _match(k, pattern)]:
                    env[key] = held[key]
            if dep.get("reuse_version"):
                for key in held:
                    if key.startswith(self.prefix + "_VERSION"):
                        env[key] = held[key]
            for key in dep.get("update_tags_from_env") or []:
                if str(env.get(key, "")).strip():
                    tags.append(str(env[key]))
            if dep.get("inherit_variation_tags"):
                if variation_groups is None:
                    from .variations import groups_of

                    variation_groups = groups_of(self.meta.get("variations") or {}, self.name)
                tags += self._inherited(dep, tags, variation_groups)
            req: dict[str, Any] = {k: copy.deepcopy(v) for k, v in dep.items()
                                   if k not in ("env", "state", "const", "const_state", "tags")}
            req.update(tags=",".join(tags), env=env, state=self.state,
                       const=copy.deepcopy(self.const), const_state=copy.deepcopy(self.const_state),
                       add_deps_recursive=self.adr, quiet=True, _flavor=self.prefix)
            for key in ("env", "state", "const", "const_state"):
                req["local_" + key] = dep.get(key) or {}
            try:
                self.runner.run(req, self.depth + 1)
            except NotFound as exc:
                if not dep.get("ignore_missing"):
                    raise
                self.runner.say(self.depth + 1, f"note: {exc.message} (ignore_missing)")
            except CKError as exc:
                if exc.message.startswith("script ") or exc.message.startswith("no CM/MLC"):
                    raise
                raise type(exc)(f"script {self.name}: dependency {','.join(tags)}: "
                                f"{exc.message}", **exc.details) from None
            env.update(held)
            try:
                native.substitute(env)
            except native.ScriptError as exc:
                raise to_ck(exc, self.name) from None
            env.update(self.const)
            native.merge(self.state, self.const_state)

    def _inherited(self, dep: dict[str, Any], tags: list[str],
                   groups: dict[str, Any]) -> list[str]:
        skip: list[str] = []
        for group in dep.get("skip_inherit_variation_groups") or []:
            skip += (groups.get(group) or {}).get("variations", [])
        mine = ["_" + v for v in self.variations if not v.startswith("-")]
        mine = [t for t in mine if t[1:] not in skip]
        for name in skip:
            if name.endswith(".#"):
                mine = [t for t in mine if not t.startswith("_" + name[:-1])]
        for tag in tags:
            if tag.startswith(("-_", "_-")):
                drop = "_" + tag[2:]
                if drop in mine:
                    mine.remove(drop)
        return mine


#: meta keys a run reads, and those that only document the script (help, GUIs, linting,
#: tests): neither gets a note; any other key is named as ignored
KNOWN_META = frozenset("""
alias uid automation_alias automation_uid tags cache can_force_cache cache_expiration
clean_files clean_output_files const const_state default_env default_version default_variation
deps env env_key_mappings extra_cache_tags_from_env input_mapping
invalid_variation_combinations valid_variation_combinations local_env_keys new_env_keys
new_state_keys post_deps posthook_deps predeps prehook_deps print_env_at_the_end
print_files_if_script_error script_name sort state update_meta_if_env variations versions
version version_min version_max version_max_usable warnings clean_env_keys_post_deps
adr add_deps_recursive ad add_deps customize
category category_sort developers gui input_description tags_help name private tests
variation_groups_order print_env_at_the_end_disabled min_cm_version min_mlc_version
docker docker_input_mapping docker_off file_path_env_keys folder_path_env_keys
sudo_install variation_tags_alias repo_to_report_errors
""".split())

_UNITS = {"m": 60, "h": 3600, "d": 86400}


def _expiry(value: Any, name: str) -> float | None:
    """MLC's ``cache_expiration`` (``"10m"``, ``"2h"``, ``"3d"``; ``"0"``: already expired)
    as the time after which the entry is no longer reused."""
    if value in (None, "", False):
        return None
    text = str(value).strip().lower()
    if text == "0":
        return time.time()
    try:
        amount = int(text[:-1])
        if text[-1] not in _UNITS or amount < 0:
            raise ValueError
    except ValueError:
        raise MetaError(f"script {name}: cache_expiration {value!r} is not a duration "
                        "(a whole number and m, h or d: 30m, 12h, 7d)") from None
    return time.time() + amount * _UNITS[text[-1]]


def _match(key: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatch(key, pattern) if ("*" in pattern or "?" in pattern) else key == pattern


def _digest(path: str) -> str:
    from ..cache.keys import digest, folder_digests

    return digest(folder_digests(path))


def _paths(new_env: dict[str, Any], work: str) -> list[str]:
    """Absolute paths the result names that exist now: a hit needs them to still exist."""
    out = []
    for value in new_env.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and os.path.isabs(item) and os.path.exists(item) and \
                    not item.startswith(work):
                out.append(item)
    return sorted(set(out))[:200]
