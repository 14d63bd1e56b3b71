"""What a script's meta declares, read once into plain objects.

The documented keys of a script entry's meta (``meta.yaml`` or ``meta.json``):

``tags``            what the script is found by;
``version``         its own version (optional);
``cache``           ``true``: results are cached under a content key;
``deps``            list of dependencies: ``tags`` (list or "a,b"), ``version`` (a range),
                    ``names`` (how the step refers to it), ``variations`` (of a script dep),
                    ``enable_if_env`` / ``skip_if_env`` ({VAR: [values]} conditions);
``input_mapping``   {input: ENV_VAR}: ``--input=x`` sets ``ENV_VAR=x``;
``default_env``     env values unless set otherwise; ``env``: env values always set;
``variations``      {name: {env, deps, group, default, tags}}: chosen with ``_name`` tags;
                    one per ``group``, the group's ``default`` when none is chosen;
``new_env_keys``    glob patterns of the env keys the step exports (default: all it writes);
``env_keys``        names of outside environment variables the result depends on (they
                    enter the cache key);
``platform_keys``   platform facts the result depends on (default: os, arch, distro);
``run``             the native command file (default ``run.sh``; ``run.bat`` on Windows);
``hooks``           the Python hook module (default ``customize.py``) with optional
                    ``preprocess(ctx)`` and ``postprocess(ctx)``.
"""

from __future__ import annotations

import fnmatch
import os

from ..errors import InvalidInput, MetaError
from ..store.legacy import normalize_tags
from ..versions import VersionRange

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PLATFORM_KEYS = ("os", "arch", "distro")


class DepSpec:
    """One declared dependency."""

    __slots__ = ("tags", "variations", "version", "names", "enable_if_env", "skip_if_env")

    def __init__(self, raw: dict[str, Any], owner: str) -> None:
        if not isinstance(raw, dict):
            raise MetaError(f"{owner}: each entry of 'deps' must be a mapping, not {raw!r}")
        tags, variations = split_variation_tags(normalize_tags(raw.get("tags")))
        if not tags:
            raise MetaError(f"{owner}: a dependency has no tags ({raw!r})")
        self.tags = tuple(tags)
        self.variations = tuple(sorted(set(variations) | {
            v.lstrip("_") for v in normalize_tags(raw.get("variations"))}))
        try:
            self.version = VersionRange(str(raw.get("version") or ""))
        except InvalidInput as exc:
            raise InvalidInput(f"{owner}: dependency {','.join(self.tags)}: {exc.message}") from None
        self.names = tuple(normalize_tags(raw.get("names")))
        self.enable_if_env = _conditions(raw.get("enable_if_env"), owner)
        self.skip_if_env = _conditions(raw.get("skip_if_env"), owner)

    def active(self, env: dict[str, str]) -> bool:
        for var, values in self.enable_if_env.items():
            if env.get(var) not in values:
                return False
        for var, values in self.skip_if_env.items():
            if env.get(var) in values:
                return False
        return True

    @property
    def label(self) -> str:
        return self.names[0] if self.names else ",".join(self.tags)


def _conditions(raw: Any, owner: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MetaError(f"{owner}: a dependency condition must be a mapping {{VAR: [values]}}")
    return {str(k): [str(v) for v in (vals if isinstance(vals, list) else [vals])]
            for k, vals in raw.items()}


def split_variation_tags(tags: list[str]) -> tuple[list[str], list[str]]:
    """``["compile", "_O3"]`` → (["compile"], ["O3"])."""
    plain = [t for t in tags if not t.startswith("_")]
    chosen = [t[1:] for t in tags if t.startswith("_") and len(t) > 1]
    return plain, chosen


def _str_env(raw: Any, owner: str, key: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MetaError(f"{owner}: '{key}' must be a mapping of env names to values")
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


class ScriptSpec:
    """A script entry's meta, checked; ``owner`` names it in error messages."""

    def __init__(self, entry: dict[str, Any], kind: str = "script") -> None:
        meta: dict[str, Any] = entry.get("meta") or {}
        self.entry = entry
        self.kind = kind
        self.meta = meta
        self.owner = f"{kind}:{entry.get('repo')}:{entry.get('name')}"
        self.name = str(entry.get("name"))
        self.path = str(entry.get("path"))
        self.version = str(meta["version"]) if meta.get("version") is not None else None
        self.cache = meta.get("cache") is True or str(meta.get("cache")).lower() in ("true", "yes")
        raw_deps = meta.get("deps") or []
        if not isinstance(raw_deps, list):
            raise MetaError(f"{self.owner}: 'deps' must be a list")
        self.deps = [DepSpec(d, self.owner) for d in raw_deps]
        self.input_mapping = _str_env(meta.get("input_mapping"), self.owner, "input_mapping")
        self.default_env = _str_env(meta.get("default_env"), self.owner, "default_env")
        self.env = _str_env(meta.get("env"), self.owner, "env")
        self.variations: dict[str, dict[str, Any]] = {}
        raw_variations = meta.get("variations") or {}
        if not isinstance(raw_variations, dict):
            raise MetaError(f"{self.owner}: 'variations' must be a mapping of names to bodies")
        for name, body in raw_variations.items():
            if body is None:
                body = {}
            if not isinstance(body, dict):
                raise MetaError(f"{self.owner}: variation {name!r} must be a mapping "
                                f"(env, deps, group, default), not {body!r}")
            self.variations[str(name).lstrip("_")] = body
        self.new_env_keys = [str(k) for k in normalize_tags(meta.get("new_env_keys"))]
        self.env_keys = [str(k) for k in normalize_tags(meta.get("env_keys"))]
        self.platform_keys = tuple(normalize_tags(meta.get("platform_keys"))) or DEFAULT_PLATFORM_KEYS
        self.run_file = str(meta.get("run") or ("run.bat" if os.name == "nt" else "run.sh"))
        self.hooks_file = str(meta.get("hooks") or "customize.py")

    # -- variations -------------------------------------------------------------------
    def choose_variations(self, chosen: list[str] | tuple[str, ...]) -> list[str]:
        """The chosen variations plus each group's default; unknown names are an error."""
        for name in chosen:
            if name not in self.variations:
                from ..errors import suggest

                raise InvalidInput(f"{self.owner} has no variation _{name}"
                                   f"{suggest(name, self.variations)}; it has: "
                                   + (", ".join("_" + v for v in self.variations) or "none"))
        picked = list(dict.fromkeys(chosen))
        groups: dict[str, str] = {}
        for name in picked:
            group = self.variations[name].get("group")
            if group:
                if group in groups:
                    raise InvalidInput(f"{self.owner}: variations _{groups[group]} and _{name} "
                                       f"are both in group {group!r}; choose one")
                groups[group] = name
        for name, body in self.variations.items():
            group = body.get("group")
            if group and body.get("default") and group not in groups:
                picked.append(name)
                groups[group] = name
        return sorted(picked)

    def declared_env(self, variations: list[str], inputs: dict[str, Any],
                     explicit: dict[str, str]) -> dict[str, str]:
        """The step's own environment: defaults < env < variations < inputs < explicit."""
        env = dict(self.default_env)
        env.update(self.env)
        for name in variations:
            env.update(_str_env(self.variations[name].get("env"), self.owner,
                                f"variations.{name}.env"))
        for key, value in inputs.items():
            var = self.input_mapping.get(key)
            if var is None:
                raise InvalidInput(f"{self.owner} has no input {key!r}"
                                   + (f"; its inputs: {', '.join(sorted(self.input_mapping))}"
                                      if self.input_mapping else " (it maps no inputs)"))
            env[var] = "" if value is None else str(value)
        env.update(explicit)
        for key in self.env_keys:
            if key in os.environ and key not in env:
                env[key] = os.environ[key]
        return env

    def deps_for(self, variations: list[str], env: dict[str, str]) -> list[DepSpec]:
        deps = list(self.deps)
        for name in variations:
            extra = self.variations[name].get("deps") or []
            if not isinstance(extra, list):
                raise MetaError(f"{self.owner}: variations.{name}.deps must be a list")
            deps.extend(DepSpec(d, self.owner) for d in extra)
        scope = dict(os.environ)
        scope.update(env)
        return [d for d in deps if d.active(scope)]

    def exported(self, written: dict[str, str]) -> dict[str, str]:
        if not self.new_env_keys:
            return dict(written)
        return {k: v for k, v in written.items()
                if any(fnmatch.fnmatchcase(k, pattern) for pattern in self.new_env_keys)}
