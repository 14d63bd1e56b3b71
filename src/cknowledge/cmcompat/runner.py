"""Running Collective Mind and MLCFlow scripts unmodified (``ck run script`` on their repos).

One run follows CM's ``script`` automation step by step (see docs/cm-compat.md): inputs to
env, the meta's ``default_env``/``env``/``state``/``input_mapping``, variations, versions,
``add_deps``/``adr``, then ``predeps``, ``deps``, ``preprocess``, ``prehook_deps``, the
native script, ``posthook_deps``, ``postprocess``, ``post_deps``; the env a run hands back
is the env it was given plus the keys its ``new_env_keys`` select (``new_state_keys`` for
state). Dependencies get the caller's env, so env accumulates from earlier deps into later
ones. ``customize.py`` hooks run in the hook worker (``hooks.py``).

Where CM keys its cache on tags, a ``cache: true`` script here is keyed on content
(``key()``): its folder's files, the env/state/const it starts with (``*_TMP_*`` keys
aside), its variations, version constraints, ``adr``, ``PATH`` and the platform. A hit also
checks that every script that ran under it still has the same files; the recorded result
is then replayed without running anything.
"""

from __future__ import annotations

import fnmatch
import os
import re

from ..errors import CKError, InvalidInput, MetaError, NotFound
from ..store.cid import ArtifactRef
from .inside import ck_native as native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel

KIND = "cm-script"
LOCAL_ENV_KEYS = ("VERSION", "VERSION_MIN", "VERSION_MAX", "VERSION_MAX_USABLE",
                  "DETECTED_VERSION", "INPUT", "OUTPUT", "OUTBASENAME", "OUTDIRNAME",
                  "SEARCH_FOLDER_PATH", "NAME", "EXTRA_CACHE_TAGS", "TMP_*", "GIT_*",
                  "RENEW_CACHE_ENTRY")
HOST_ENV_KEYS = ("GH_TOKEN", "ftp_proxy", "FTP_PROXY", "http_proxy", "HTTP_PROXY", "https_proxy",
                 "HTTPS_PROXY", "no_proxy", "NO_PROXY", "socks_proxy", "SOCKS_PROXY")
TMP_INPUTS = {"path": "TMP_PATH", "folder": "TMP_FOLDER"}
ENV_INPUTS = ("input", "output", "outdirname", "outbasename", "search_folder_path", "name",
              "extra_cache_tags", "skip_compile", "skip_run", "skip_sudo", "accept_license",
              "skip_system_deps", "git_ssh", "gh_token", "hf_token")
VERSION_KEYS = (("version", "VERSION"), ("version_min", "VERSION_MIN"),
                ("version_max", "VERSION_MAX"), ("version_max_usable", "VERSION_MAX_USABLE"))
MAX_DEPTH = 64


def flavor(entry: dict[str, Any]) -> str | None:
    """"CM" or "MLC" for a script entry of those tools, None for a cknowledge script."""
    meta = entry.get("meta") or {}
    meta_file = str(entry.get("meta_file") or "")
    if os.path.basename(meta_file).startswith("_cm."):
        return "CM"
    if "automation_alias" in meta or "automation_uid" in meta:
        return "MLC" if "cache_expiration" in meta or _mlc_repo(entry) else "CM"
    return None


def _mlc_repo(entry: dict[str, Any]) -> bool:
    """An MLC repo has a root ``meta.yaml`` (CM's has ``cmr.yaml``)."""
    root = os.path.dirname(os.path.dirname(str(entry.get("path") or "")))
    return os.path.isfile(os.path.join(root, "meta.yaml")) or \
        os.path.isdir(os.path.join(root, "automation", "script")) and \
        os.path.isfile(os.path.join(root, "automation", "utils.py"))


def split_tags(raw: Any) -> tuple[list[str], list[str], list[str]]:
    """(tags, variation tags, excluded tags) of ``"a,b,_v,-c"`` or ``"a b"``."""
    if isinstance(raw, (list, tuple)):
        items = [str(t) for t in raw]
    else:
        items = str(raw or "").replace(" ", ",").split(",")
    plain, variations, excluded = [], [], []
    for tag in (t.strip() for t in items):
        if not tag:
            continue
        if tag.startswith("_"):
            variations.append(tag[1:])
        elif tag.startswith("-_"):
            variations.append("-" + tag[2:])
        elif tag.startswith("-"):
            excluded.append(tag[1:])
        else:
            plain.append(tag)
    return plain, variations, excluded


def what(i: dict[str, Any]) -> tuple[str | None, list[str], list[str], list[str]]:
    """(artifact, tags, variations, excluded) of a run request: ``script:NAME``,
    ``script:NAME,_variation``, ``script:ALIAS,UID``, ``"words with spaces"`` (tags)."""
    artifact = str(i.get("artifact") or "").strip() or None
    raw = i.get("tags") or ""
    if isinstance(raw, (list, tuple)):
        raw = ",".join(str(t) for t in raw)
    if artifact and " " in artifact:
        raw = f"{raw},{artifact}" if raw else artifact
        artifact = None
    tags, variations, excluded = split_tags(raw)
    if artifact and "," in artifact:
        name, _, rest = artifact.partition(",")
        if rest.lstrip().startswith("_"):  # NAME,_variation (ALIAS,UID stays whole)
            variations += split_tags(rest)[1]
            artifact = name
    if not artifact and not tags:
        raise InvalidInput("name the script (script:NAME) or select it with --tags")
    return artifact, tags, variations, excluded


class ScriptFailed(CKError):
    """A CM/MLC script or one of its hooks reported an error."""

    code = 14


def _wild(key: str, keys: Any) -> list[str]:
    if "*" in key or "?" in key:
        return [k for k in keys if fnmatch.fnmatch(k, key)]
    return [key] if key in keys else []


class Runner:
    """Runs CM/MLC scripts; one instance per top-level request."""

    def __init__(self, kernel: Kernel, on_line: Callable[[str], None] | None = None,
                 new: bool = False) -> None:
        from ..cache.store import CacheStore

        self.kernel = kernel
        self.on_line = on_line
        self.new = new
        self.cache = CacheStore(kernel.home)
        self.host: Any = None
        self._os_info: dict[str, dict[str, Any]] = {}
        self._traces: list[dict[str, str]] = []
        self.steps: list[dict[str, Any]] = []
        #: ``--timeout``: (monotonic deadline, seconds) for every native script of the run
        self.deadline: tuple[float, float] | None = None

    # -- plumbing -----------------------------------------------------------------------
    def say(self, depth: int, text: str) -> None:
        if self.on_line is not None:
            self.on_line("  " * depth + text)

    def os_info(self, prefix: str) -> dict[str, Any]:
        if prefix not in self._os_info:
            self._os_info[prefix] = native.host_os_info(prefix)
        return self._os_info[prefix]

    def close(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None

    def _host(self) -> Any:
        if self.host is None:
            from .hooks import HookHost

            self.host = HookHost(self.kernel, self.on_line, self.access)
        return self.host

    # -- finding scripts ------------------------------------------------------------------
    def find(self, artifact: str | None, tags: list[str], excluded: list[str],
             variations: list[str], prefer: str | None) -> dict[str, Any]:
        """The script a request names. Of several candidates (those having the requested
        variations, if any do), store/choose.py's ranking with scripts of the caller's
        flavor first, then the first in registry order and folder name, as CM's --quiet
        picks; never a prompt. At the top, a note names the other candidates."""
        store = self.kernel.store
        if artifact:
            from ..store.cid import parse_artifact

            name, _, uid = artifact.partition(",")
            ref = parse_artifact(uid.strip() or name.strip())
            found = store.find("script", ref, with_meta=True)
            if not found and uid:
                found = store.find("script", parse_artifact(name.strip()), with_meta=True)
        else:
            found = store.find("script", ArtifactRef(None, None), tags=tags, no_tags=excluded,
                               with_meta=True)
        found = [e for e in found if flavor(e)]
        what = f"script:{artifact}" if artifact else f"a script with tags {','.join(tags)}"
        if not found:
            raise NotFound(f"no CM/MLC script found for {what}"
                           + ((store.near_tags("script", tags)
                               or " (`ck find script --tags=...` lists them)")
                              if not artifact else ""))
        if len(found) > 1 and variations:
            wanted = [v for v in variations if not v.startswith("-")]
            fitting = [e for e in found if all(_has_variation(e["meta"], v) for v in wanted)]
            found = fitting or found
        from ..store.choose import rank_candidates

        left = rank_candidates(found, prefer=lambda e: flavor(dict(e)) != prefer)
        chosen: dict[str, Any] = dict(left[0])
        if len(left) > 1 and not prefer:
            query = f"script:{artifact}" if artifact else "--tags=" + ",".join(tags)
            others = ", ".join(f"script:{e['repo']}:{e['name']}" for e in left[1:6])
            self.say(0, f"note: {query} matches {len(left)} scripts; running "
                        f"script:{chosen['repo']}:{chosen['name']} (the first by meta sort, "
                        f"repo order, name); name another to run it: {others}")
        return chosen

    # -- access() from hooks --------------------------------------------------------------
    def access(self, request: dict[str, Any]) -> dict[str, Any]:
        auto = str(request.get("automation") or "").split(",")[0]
        action = request.get("action")
        if auto == "script" and action == "run":
            req = dict(request)
            req.pop("action", None)
            req.pop("automation", None)
            depth = int(req.pop("_depth", 1))
            return self.run(req, depth)
        if auto == "utils" and action == "compare_versions":
            
            return {"return": 0, "comparison": native.compare_versions(str(request.get("version1")),
                                                        str(request.get("version2")))}
        if auto == "utils" and action == "get_host_os_info":
            return {"return": 0, "info": self.os_info("CM")}
        if auto == "cache" and action in ("find", "search"):
            return {"return": 0, "list": self._find_cache(request)}
        from ..api import access as ck_access

        req = dict(request)
        req["automation"] = auto
        result: dict[str, Any] = ck_access(req)
        return result

    def _find_cache(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        tags, _, excluded = split_tags(request.get("tags"))
        out = []
        for data in self.cache.select(tags=None):
            if data.get("kind") != KIND:
                continue
            have = set(data.get("cm_tags") or [])
            if set(tags) <= have and not have & set(excluded):
                out.append({"path": data["path"], "meta": {"tags": sorted(have),
                                                           "uid": data.get("key")}})
        return out

    # -- one run ----------------------------------------------------------------------------
    def run(self, i: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise MetaError(f"scripts call each other more than {MAX_DEPTH} levels deep "
                            f"(a dependency cycle?) at tags {i.get('tags')!r}")
        from .step import Step

        return Step(self, i, depth).run()


def _has_variation(meta: dict[str, Any], name: str) -> bool:
    variations = meta.get("variations") or {}
    if name in variations:
        return True
    if "." in name:
        return name[:name.index(".") + 1] + "#" in variations
    return False


def clean_keys(prefix: str) -> list[str]:
    return [prefix + "_" + k for k in LOCAL_ENV_KEYS]


def new_items(keys: list[str], source: dict[str, Any]) -> dict[str, Any]:
    """What ``new_env_keys`` / ``new_state_keys`` select (wildcards, ``<<<VAR>>>``)."""
    out: dict[str, Any] = {}
    for key in keys:
        if "<<<" in key:
            for name in re.findall(r"<<<(.*?)>>>", key):
                value = source.get(name)
                if isinstance(value, str) and value in source:
                    out[value] = source[value]
            continue
        for k in _wild(key, source):
            out[k] = source[k]
    return out


def script_failed(name: str, what: str, result: dict[str, Any]) -> ScriptFailed:
    error = str(result.get("error") or "no reason given").strip().splitlines()
    line = error[0] if error else "no reason given"
    return ScriptFailed(f"script {name}: {what} failed: {line}",
                        code_returned=result.get("return"))


def to_ck(exc: native.ScriptError, name: str) -> CKError:
    if exc.code == 16:
        return NotFound(f"script {name}: {exc.message}")
    return MetaError(f"script {name}: {exc.message}")
