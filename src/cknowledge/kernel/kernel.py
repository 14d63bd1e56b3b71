"""The kernel: finds the automation a request names, checks its inputs, calls the action."""

from __future__ import annotations


import math

from ..errors import InvalidInput, UnknownAction, UnknownAutomation, suggest
from ..home import home_dir
from ..store.cid import ArtifactRef
from ..store.store import Store
from .automation import Automation
from .registry import BUILTIN, import_object, load_plugin, load_repo_automation, plugin_table

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from collections.abc import Callable
    from typing import Any

RESERVED_KEYS = {"action", "automation"}


class Kernel:
    def __init__(self, home: str | None = None) -> None:
        self.home = home_dir(home)
        self.store = Store(self.home)
        self._classes: dict[str, type[Automation]] = {}
        # where long-running actions send their progress lines; the CLI sets it to stderr,
        # library callers get silence unless they set it
        self.echo: Callable[[str], None] | None = None

    def output(self, quiet: bool = False) -> Callable[[str], None] | None:
        return None if quiet else self.echo

    def close(self) -> None:
        self.store.close()

    # -- automations ----------------------------------------------------------------------
    def automation_class(self, name: str, for_write: bool = False) -> type[Automation]:
        if not isinstance(name, str) or not name:
            raise InvalidInput("the request names no automation")
        if name in self._classes:
            return self._classes[name]
        if name in BUILTIN:
            cls: type[Automation] = import_object(BUILTIN[name][0])
        else:
            cls = self._repo_or_plugin(name, for_write)
        self._classes[name] = cls
        return cls

    def _repo_or_plugin(self, name: str, for_write: bool) -> type[Automation]:
        defined = [e for e in self.store.find("automation", ArtifactRef(None, name), with_meta=True)
                   if _defines_class(e)]
        if defined:
            return load_repo_automation(name, defined[0])
        plugins = plugin_table(self.home)
        if name in plugins:
            return load_plugin(name, plugins[name])
        # A folder of entries that no automation defines (e.g. a CK 1.x module) still
        # gets the core actions for reading and editing what is there.
        if not for_write and self.store.find(name, ArtifactRef()):
            return type(f"Generic_{name}", (Automation,), {"name": name})
        if for_write and self._folder_exists(name):
            return type(f"Generic_{name}", (Automation,), {"name": name})
        known = set(BUILTIN) | set(plugins) | {e["name"] for e in self.store.find(
            "automation", ArtifactRef())}
        raise UnknownAutomation(f"unknown automation {name!r}{suggest(name, known)}; "
                                "'ck help' lists them")

    def _folder_exists(self, name: str) -> bool:
        import os

        return any(os.path.isdir(os.path.join(r.path, name)) for r in self.store.repos.all())

    def automation(self, name: str, for_write: bool = False) -> Automation:
        cls = self.automation_class(name, for_write)
        return cls(self, name)

    # -- dispatch -------------------------------------------------------------------------
    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise InvalidInput(f"a request must be a dict, not {type(request).__name__}")
        check_request(request)
        action = request.get("action")
        if not isinstance(action, str) or not action:
            raise InvalidInput("the request names no action")
        auto_name = request.get("automation") or "kernel"
        cls = self.automation_class(auto_name, for_write=action in ("add", "import"))
        actions = cls.actions()
        func = actions.get(action)
        if func is None:
            raise UnknownAction(f"automation {auto_name!r} has no action {action!r}"
                                f"{suggest(action, actions)}; 'ck help {auto_name}' lists them")
        inputs = {k: v for k, v in request.items() if k not in RESERVED_KEYS}
        bound = bind_inputs(func, inputs, auto_name, action)
        instance = cls(self, auto_name)
        self.store.begin_request()
        try:
            result: dict[str, Any] = func(instance, **bound)
        finally:
            self.store.end_request()
        if result is None:
            result = {}
        result.setdefault("return", 0)
        if self.store.warnings:
            result.setdefault("warnings", list(self.store.warnings))
        return result


def check_request(request: dict[str, Any]) -> None:
    """Every request (access(), CLI, REST) holds what JSON holds, bounded: string keys,
    finite numbers, no sets, bytes, objects or cycles, no nesting deeper than
    ``metaio.MAX_DEPTH``; InvalidInput naming the input otherwise."""
    from ..store.metaio import _short, tree_problem

    for key, value in request.items():
        if not isinstance(key, str):
            raise InvalidInput(f"request keys must be strings; got {_short(key)}")
        if isinstance(value, (str, bool, int)) or value is None or hasattr(value, "__fspath__"):
            continue  # a path object is converted to text by the action's annotation
        problem = tree_problem(value, strict=True)
        if problem:
            raise InvalidInput(f"the input {key!r} {problem}")


def _defines_class(entry: dict[str, Any]) -> bool:
    """An ``automation`` entry of ours names its module (CM's ``automation/*`` do not)."""
    import os

    meta = entry.get("meta") or {}
    return "module" in meta or os.path.isfile(os.path.join(entry["path"], "automation.py"))


def annotation_text(ann: Any) -> str:
    """``int`` and ``"int"`` alike → ``"int"`` (modules may or may not use string annotations)."""
    if isinstance(ann, str):
        return ann
    if isinstance(ann, type) and not getattr(ann, "__args__", None):
        return ann.__name__
    return str(ann).replace("typing.", "")


class _Param:
    """What the kernel needs of one parameter (read from the code object: no ``inspect``)."""

    __slots__ = ("name", "annotation", "required", "var_keyword")

    def __init__(self, name: str, annotation: str, required: bool, var_keyword: bool) -> None:
        self.name, self.annotation = name, annotation
        self.required, self.var_keyword = required, var_keyword


_SIGNATURES: dict[Any, dict[str, _Param]] = {}


def parameters(func: Any) -> dict[str, _Param]:
    params = _SIGNATURES.get(func)
    if params is None:
        code = func.__code__
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        defaults = func.__defaults__ or ()
        kwdefaults = func.__kwdefaults__ or {}
        first_default = code.co_argcount - len(defaults)
        annotations = getattr(func, "__annotations__", {})
        params = {}
        for i, name in enumerate(names):
            if name == "self":
                continue
            has_default = (i >= first_default if i < code.co_argcount else name in kwdefaults)
            params[name] = _Param(name, annotation_text(annotations.get(name, "Any")),
                                  not has_default, False)
        if code.co_flags & 0x08:  # CO_VARKEYWORDS
            extra = code.co_varnames[len(names) + (1 if code.co_flags & 0x04 else 0)]
            params[extra] = _Param(extra, "Any", False, True)
        _SIGNATURES[func] = params
    return params


def bind_inputs(func: Any, inputs: dict[str, Any], automation: str, action: str) -> dict[str, Any]:
    """Match request keys to the action's parameters, converting CLI strings by annotation."""
    params = parameters(func)
    takes_any = any(p.var_keyword for p in params.values())
    extra = inputs.pop("artifacts", None)
    if extra:
        extra = extra if isinstance(extra, list) else [extra]
        slot = next((s for s in ("artifact", "target", "new_name", "source") if s in params and s not in inputs), None)
        if slot is None or len(extra) > 1:
            raise InvalidInput(f"'{action} {automation}' takes no further argument {extra[-1]!r}")
        target = str(extra[0])
        prefix = automation + ":"
        inputs[slot] = target[len(prefix):] if target.startswith(prefix) else target
    bound: dict[str, Any] = {}
    for key, value in inputs.items():
        param = params.get(key)
        if param is None or param.var_keyword:
            if takes_any:
                bound[key] = value
                continue
            valid = [p for p, v in params.items() if not v.var_keyword]
            raise InvalidInput(f"'{action} {automation}' has no input {key!r}"
                               f"{suggest(key, valid)}; its inputs: {', '.join(valid) or 'none'}")
        bound[key] = convert(value, str(param.annotation), key)
    for name, param in params.items():
        if param.required and not param.var_keyword and name not in bound:
            raise InvalidInput(f"'{action} {automation}' needs the input {name!r}")
    return bound


_TRUE = {"true", "yes", "1", "on", ""}
_FALSE = {"false", "no", "0", "off"}


def convert(value: Any, annotation: str, key: str) -> Any:
    """Convert ``value`` to what ``annotation`` (a string) asks for; CLI values are strings."""
    ann = annotation.replace(" ", "")
    if value is None:
        return None
    base = ann.split("|")[0]
    try:
        if base == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if base in ("int", "float"):
            if isinstance(value, bool) or isinstance(value, (list, dict)):
                raise ValueError
            if base == "int":
                return int(value)
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if base.startswith("list"):
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if isinstance(value, (list, tuple)):
                return list(value)
            raise ValueError
        if base.startswith("dict"):
            if isinstance(value, str):
                import json

                try:
                    value = json.loads(value, parse_constant=_no_constant)
                except ValueError as exc:  # JSONDecodeError is one
                    raise InvalidInput(f"the input {key!r} must be a JSON object: "
                                       f"{str(exc).splitlines()[0]}") from None
                if not isinstance(value, dict):
                    raise ValueError
                check_request({key: value})
            if not isinstance(value, dict):
                raise ValueError
            return value
        if base == "str" and not isinstance(value, str):
            if value is True:
                raise InvalidInput(f"--{key.replace('_', '-')} needs a value: "
                                   f"--{key.replace('_', '-')}=VALUE")
            if isinstance(value, (dict, list, bool)):
                raise ValueError
            return str(value)
    except (ValueError, OverflowError, RecursionError):
        from ..store.metaio import _short

        raise InvalidInput(f"the input {key!r} must be {base}, not {_short(value)}") from None
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; give a number or null")
