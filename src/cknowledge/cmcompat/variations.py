"""Variations of CM/MLC scripts and how a meta fragment updates a run's state.

Chosen with ``_NAME`` tags. What CM and MLC do, in this order:

1. ``-NAME`` excludes a variation; an ``alias`` turns on the variation it names.
2. With nothing chosen, the meta's ``default_variation``.
3. Each chosen variation adds its ``base`` variations and, for each group named in its
   ``default_variations``, that group's pick unless one of the group is chosen; a combined
   variation (``a,b``) whose parts are all chosen adds its ``default_variations`` too.
4. One variation per ``group`` (two is an error); a group with none gets its ``default``.
   Steps 3 and 4 repeat until nothing changes.
5. ``valid_variation_combinations`` / ``invalid_variation_combinations`` are checked.

A *dynamic* variation ``NAME.#`` matches ``_NAME.anything``: its meta is taken with ``#``
replaced by the suffix (``_package.numpy``, ``_text.HELLO``).

Applying a variation (or a ``versions`` entry) is ``apply_meta``: ``default_env`` (unless
set), ``env``, ``update_meta_if_env``, ``const``, ``state``, ``const_state``, the four
dependency lists (a dep with the same ``names`` — or the same tags when unnamed — is
replaced), ``ad``/``add_deps`` by dependency name, ``input_mapping``, ``docker``,
``new_env_keys``, ``new_state_keys``; plus ``script_name``, ``default_version`` and
``adr``/``add_deps_recursive`` handled by the caller.
"""

from __future__ import annotations

import copy

from ..errors import InvalidInput, MetaError
from .inside import ck_native as native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEP_LISTS = ("deps", "prehook_deps", "posthook_deps", "post_deps")


def dynamic_name(tag: str) -> str | None:
    """``package.numpy`` → ``package.#`` (None when the tag has no suffix)."""
    if "." not in tag or tag.endswith("."):
        return None
    return tag[:tag.index(".") + 1] + "#"


def _static(tag: str, variations: dict[str, Any]) -> str:
    if tag in variations:
        return tag
    dyn = dynamic_name(tag)
    return dyn if dyn is not None else tag


def _body(name: str, variations: dict[str, Any], owner: str) -> dict[str, Any]:
    key = _static(name, variations)
    if key not in variations:
        known = ", ".join("_" + v for v in variations) or "none"
        raise InvalidInput(f"{owner} has no variation _{name}; it has: {known}")
    body = variations[key]
    return body if isinstance(body, dict) else {}


def groups_of(variations: dict[str, Any], owner: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for name, body in variations.items():
        if not isinstance(body, dict) or "group" not in body:
            continue
        group = groups.setdefault(str(body["group"]), {"variations": []})
        group["variations"].append(name)
        if "default" in body and body["default"] not in (False, "no", "false"):
            if "default" in group:
                raise MetaError(f"{owner}: group {body['group']!r} has two defaults: "
                                f"_{group['default']} and _{name}")
            group["default"] = name
    return groups


def choose(meta: dict[str, Any], chosen: list[str], owner: str) -> tuple[list[str], list[str]]:
    """The variations a run applies, in CM's order, and the excluded ones."""
    variations = meta.get("variations") or {}
    if not isinstance(variations, dict):
        raise MetaError(f"{owner}: 'variations' must be a mapping")
    excluded = [t[1:] for t in chosen if t.startswith("-")]
    excluded = [_static(t, variations) if _static(t, variations) in variations else t
                for t in excluded]
    tags = [t for t in chosen]
    for tag in chosen:
        if tag.startswith("-"):
            continue
        body = _body(tag, variations, owner)
        alias = body.get("alias")
        if alias:
            if alias in excluded:
                raise InvalidInput(f"{owner}: _{tag} is an alias of the excluded _{alias}")
            if alias not in variations:
                raise MetaError(f"{owner}: variation _{tag} is an alias of _{alias}, which "
                                "does not exist")
            if alias not in tags:
                tags.append(alias)
    groups = groups_of(variations, owner)
    default = meta.get("default_variation")
    if default and default not in variations:
        raise MetaError(f"{owner}: default_variation {default!r} is not one of its variations")
    if not [t for t in tags if not t.startswith("-")] and default and default not in excluded:
        tags = [default]
    _expand(tags, variations, groups, excluded, owner)
    before = list(tags)
    _group_defaults(tags, groups, excluded, variations, owner)
    if tags != before:
        _expand(tags, variations, groups, excluded, owner)
    plain = [t for t in tags if not t.startswith("-")]
    valid = meta.get("valid_variation_combinations") or []
    if valid and not any(all(t in plain for t in combo) for combo in valid):
        raise InvalidInput(f"{owner}: variations {', '.join('_' + t for t in plain)} are not "
                           f"a valid combination; valid: {valid}")
    invalid = meta.get("invalid_variation_combinations") or []
    for combo in invalid:
        if all(t in plain for t in combo):
            raise InvalidInput(f"{owner}: variations {', '.join('_' + t for t in combo)} "
                               "cannot be combined")
    return tags, excluded


def _defaults_of(body: dict[str, Any], groups: dict[str, Any], static: list[str],
                 excluded: list[str], variations: dict[str, Any], owner: str) -> list[str]:
    out = []
    for group, pick in (body.get("default_variations") or {}).items():
        if group not in groups:
            raise MetaError(f"{owner}: default_variations names {group!r}, which is not a "
                            f"group (groups: {', '.join(groups) or 'none'})")
        if set(groups[group]["variations"]) & set(static) or pick in excluded or pick in static:
            continue
        if _static(pick, variations) not in variations:
            raise MetaError(f"{owner}: default_variations picks _{pick}, which does not exist")
        out.append(pick)
    return out


def _expand(tags: list[str], variations: dict[str, Any], groups: dict[str, Any],
            excluded: list[str], owner: str) -> None:
    combined = sorted((v for v in variations if "," in v), key=lambda v: v.count(","))
    done_combined: set[str] = set()
    processed: set[str] = set()
    while True:
        static = [_static(t, variations) for t in tags]
        for tag in list(tags):
            if tag.startswith(("-", "~")) or tag in processed:
                continue
            body = _body(tag, variations, owner)
            for base in body.get("base") or []:
                dyn = dynamic_name(base)
                if base not in variations and (dyn is None or dyn not in variations):
                    raise MetaError(f"{owner}: variation _{tag} has base _{base}, which does "
                                    "not exist")
                if base not in variations:
                    prefix = base.split(".")[0] + "."
                    if any(t.startswith(prefix) for t in tags):
                        continue
                if base in tags:
                    continue
                if base in excluded:
                    raise InvalidInput(f"{owner}: _{base}, the base of _{tag}, is excluded")
                tags.append(base)
            for extra in _defaults_of(body, groups, static, excluded, variations, owner):
                if extra not in tags:
                    tags.append(extra)
            processed.add(tag)
            for combo in combined:
                if combo in done_combined or not set(combo.split(",")) <= set(tags):
                    continue
                done_combined.add(combo)
                body = variations[combo] if isinstance(variations[combo], dict) else {}
                for extra in _defaults_of(body, groups, static, excluded, variations, owner):
                    if extra not in tags:
                        tags.append(extra)
        if all(t in processed for t in tags if not t.startswith(("-", "~"))):
            return


def _group_defaults(tags: list[str], groups: dict[str, Any], excluded: list[str],
                    variations: dict[str, Any], owner: str) -> None:
    static = {_static(t, variations) for t in tags}
    for name, group in groups.items():
        picked = set(group["variations"]) & static
        if len(picked) > 1:
            raise InvalidInput(f"{owner}: variations {', '.join('_' + p for p in sorted(picked))}"
                               f" are all in group {name!r}; choose one")
        if not picked and "default" in group and group["default"] not in excluded:
            tags.append(group["default"])


def with_suffix(body: dict[str, Any], suffix: str) -> dict[str, Any]:
    """A dynamic variation's meta with ``#`` replaced by the chosen suffix (a copy)."""

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("#", suffix)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return {k: fill(v) if isinstance(v, (list, dict)) else v for k, v in body.items()}


class RunState:
    """What meta fragments update during one script run (CM's env/state/deps/... set)."""

    def __init__(self, prefix: str, env: dict[str, Any], state: dict[str, Any],
                 const: dict[str, Any], const_state: dict[str, Any], meta: dict[str, Any],
                 adr: dict[str, Any], inputs: dict[str, Any]) -> None:
        self.prefix = prefix
        self.env, self.state, self.const, self.const_state = env, state, const, const_state
        self.meta = meta
        for key in DEP_LISTS:
            if not isinstance(meta.get(key) or [], list):
                raise MetaError(f"'{key}' must be a list of dependencies")
            meta[key] = list(meta.get(key) or [])
        self.new_env_keys: list[str] = list(meta.get("new_env_keys") or [])
        self.new_state_keys: list[str] = list(meta.get("new_state_keys") or [])
        self.adr = adr
        self.inputs = inputs
        self.conditional: list[dict[str, Any]] = []
        self.cache: Any = None
        self.default_version = str(meta.get("default_version") or "")

    def dep_lists(self) -> list[list[dict[str, Any]]]:
        return [self.meta[k] for k in DEP_LISTS]

    def update_deps(self, updates: dict[str, Any], strict: bool = False) -> None:
        if not updates:
            return
        if not isinstance(updates, dict):
            raise MetaError(f"dependency updates must be a mapping of names, not {updates!r}")
        missing = []
        for deps in self.dep_lists():
            try:
                native.update_deps(deps, updates, self.env, self.prefix, strict)
            except native.ScriptError as exc:
                missing.append(exc.message)
        if strict and len(missing) == len(DEP_LISTS):
            raise InvalidInput(missing[0])

    def apply(self, part: dict[str, Any]) -> None:
        """CM's ``update_state_from_meta`` for a variation or a ``versions`` entry."""
        env, prefix = self.env, self.prefix
        if part.get("cache", "") != "":
            self.cache = part["cache"]
        for key, value in (part.get("default_env") or {}).items():
            env.setdefault(key, value)
        env.update(part.get("env") or {})
        self.conditional = list(part.get("update_meta_if_env") or []) + self.conditional
        for c_meta in self.conditional:
            if native.dep_skipped(c_meta, env, prefix):
                continue
            native.merge(env, c_meta.get("env") or {})
            native.merge(self.state, c_meta.get("state") or {})
            if c_meta.get("docker"):
                docker = self.state.setdefault("docker", {})
                native.merge(docker, c_meta["docker"])
        if part.get("const"):
            self.const.update(part["const"])
            env.update(self.const)
        native.merge(self.state, part.get("state") or {})
        if self.const_state:
            native.merge(self.const_state, part.get("const_state") or {})
            native.merge(self.state, self.const_state)
        for key in DEP_LISTS:
            if part.get(key):
                native.append_deps(self.meta[key], copy.deepcopy(part[key]))
        add = dict(part.get("ad") or {})
        native.merge(add, part.get("add_deps") or {})
        self.update_deps(add, strict=True)
        for name, var in (part.get("input_mapping") or {}).items():
            source = self.inputs.get("input", self.inputs)
            if name in source:
                env[var] = source[name]
        native.substitute(env)
        if part.get("docker"):
            docker = self.state.get("docker") or {}
            native.merge(docker, part["docker"])
            self.state["docker"] = docker
        self.new_env_keys += list(part.get("new_env_keys") or [])
        self.new_state_keys += list(part.get("new_state_keys") or [])


def adr_of(part: dict[str, Any]) -> dict[str, Any]:
    adr = dict(part.get("adr") or {})
    native.merge(adr, part.get("add_deps_recursive") or {})
    return adr


def merge_adr(into: dict[str, Any], new: dict[str, Any]) -> None:
    """``add_deps_recursive`` merged by name, tags appended as a tag list."""
    if not new or into == new:
        return
    for name, body in new.items():
        if not isinstance(body, dict):
            continue  # names no dependency update (CM and MLC carry it along to no effect)
        have = into.setdefault(name, {})
        tags = native.tags_of(have) + [t for t in native.tags_of(body)
                                       if t not in native.tags_of(have)]
        native.merge(have, {k: copy.deepcopy(v) for k, v in body.items() if k != "tags"})
        if tags:
            have["tags"] = ",".join(tags)


def apply_variations(run: RunState, tags: list[str], owner: str) -> dict[str, Any]:
    """Apply the chosen variations (and combined ones) to ``run``; returns the script_name
    and default_version they set, if any."""
    variations = run.meta.get("variations") or {}
    combined = sorted((v for v in variations if "," in v), key=lambda v: v.count(","))
    out: dict[str, Any] = {}
    for tag in tags:
        if tag.startswith(("~", "-")):
            continue
        key = _static(tag, variations)
        body = copy.deepcopy(_body(tag, variations, owner))
        if key != tag:
            body = with_suffix(body, tag[tag.index(".") + 1:])
        for part in [body] + [variations[c] for c in combined
                              if set(c.split(",")) <= set(tags)]:
            part = part if isinstance(part, dict) else {}
            run.apply(part)
            if part.get("script_name"):
                out["script_name"] = part["script_name"]
            if body.get("default_version"):
                run.default_version = str(body["default_version"])
            merge_adr(run.adr, adr_of(part))
    if tags:
        run.update_deps(run.adr)
    return out
