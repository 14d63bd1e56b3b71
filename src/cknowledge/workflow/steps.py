"""Running one step: a script (Python hooks + native command) or a package install.

A native script exports by writing ``KEY=VALUE`` lines to the file named in
``$CK_ENV_OUT``; hooks see a :class:`StepContext`. Only the keys matching
``new_env_keys`` leave the step.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar

from ..errors import CommandFailed, InvalidInput, MetaError, PluginError
from .spec import ScriptSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

ENV_OUT = ".ck-env-out"

#: ``ck run script --timeout=S``: the monotonic time by which every step's command must end
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("ck_step_deadline", default=None)


def parse_timeout(value: Any, where: str) -> float | None:
    """A timeout in seconds (a positive number), or None for none; ``where`` names the source."""
    if value is None or value is False or value == "":
        return None
    try:
        seconds = float(value)
        if isinstance(value, bool):
            raise ValueError
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise InvalidInput(f"{where} must be a positive number of seconds, not {value!r}")
    return seconds


@contextmanager
def step_deadline(timeout: float | None) -> Iterator[None]:
    """Within the block, step commands stop when ``timeout`` seconds have passed overall."""
    if timeout is None:
        yield
        return
    token = _DEADLINE.set((time.monotonic() + timeout, timeout))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _step_timeout(spec: ScriptSpec) -> tuple[float | None, str | None]:
    """The seconds this step's command may run, and what set them (for the error line)."""
    try:
        own = parse_timeout(spec.meta.get("timeout"), f"{spec.owner}: 'timeout'")
    except InvalidInput as exc:
        raise MetaError(exc.message) from None
    limit, source = own, f"timeout: {own:g} in its meta" if own else None
    deadline = _DEADLINE.get()
    if deadline is not None:
        left = deadline[0] - time.monotonic()
        if limit is None or left < limit:
            limit, source = max(left, 0.0), f"--timeout={deadline[1]:g} for the whole run"
    return limit, source


class StepContext:
    """What a ``preprocess(ctx)`` / ``postprocess(ctx)`` hook may read and change."""

    def __init__(self, spec: ScriptSpec, env: dict[str, str], inputs: dict[str, Any],
                 deps: dict[str, dict[str, Any]], work_dir: str, variations: list[str]) -> None:
        self.spec = spec
        self.env = env                    # the environment the native command will get
        self.inputs = inputs
        self.deps = deps                  # dependency results by name
        self.work_dir = work_dir
        self.script_dir = spec.path
        self.variations = variations
        self.new_env: dict[str, str] = {}  # what the step exports (hooks may add)
        self.state: dict[str, Any] = {}    # free for the hooks
        self.skip_run = False


def parse_env_out(path: str, owner: str = "the step") -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open(path, "rb") as fb:
            data = fb.read()
    except FileNotFoundError:
        return out
    try:
        text = data.decode("utf-8")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), data.index(b"\x00") + 1,
                                     "a NUL byte")
    except UnicodeDecodeError as exc:
        raise CommandFailed(f"{owner} wrote binary data to $CK_ENV_OUT ({exc.reason} at byte "
                            f"{exc.start}); write KEY=VALUE text lines there") from None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{path}: cannot read {line!r} (write KEY=VALUE lines)")
        out[key.strip()] = value
    return out


def _hooks(spec: ScriptSpec) -> Any:
    path = os.path.join(spec.path, spec.hooks_file)
    if not os.path.isfile(path):
        return None
    import importlib.util

    name = f"cknowledge_hooks_{spec.entry.get('uid')}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    try:
        with _stdout_to_stderr():
            module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        raise PluginError(f"{spec.owner}: hook module {path} failed to load: "
                          f"{type(exc).__name__}: {exc}") from None
    return module


def _call_hook(spec: ScriptSpec, module: Any, name: str, ctx: StepContext) -> None:
    func = getattr(module, name, None) if module is not None else None
    if func is None:
        return
    try:
        with _stdout_to_stderr():  # stdout belongs to the CLI's result (--json)
            result = func(ctx)
    except (CommandFailed, InvalidInput):
        raise
    except (Exception, SystemExit) as exc:
        raise CommandFailed(f"{spec.owner}: {name}() failed: {type(exc).__name__}: {exc}") from None
    if result is not None and not isinstance(result, dict):
        raise CommandFailed(f"{spec.owner}: {name}() must return a dict or None, not "
                            f"{type(result).__name__}")
    if isinstance(result, dict):
        extra = result.get("new_env") or {}
        if not isinstance(extra, dict):
            raise CommandFailed(f"{spec.owner}: {name}() returned a new_env that is not a mapping")
        ctx.new_env.update(extra)
        skip = result.get("skip_run")
        ctx.skip_run = ctx.skip_run or skip is True or str(skip).lower() in ("true", "yes", "1")
    _as_strings(spec, name, ctx)


def _as_strings(spec: ScriptSpec, hook: str, ctx: StepContext) -> None:
    """Env values are strings: numbers are converted, anything else is an error."""
    for label, mapping in (("env", ctx.env), ("new_env", ctx.new_env)):
        for key, value in list(mapping.items()):
            if not isinstance(key, str) or not key:
                raise CommandFailed(f"{spec.owner}: {hook}() put the key {key!r} into ctx.{label} "
                                    "(env names are non-empty strings)")
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise CommandFailed(f"{spec.owner}: {hook}() set ctx.{label}[{key!r}] to "
                                    f"{value!r} (env values are strings)")
            mapping[key] = str(value)


class _stdout_to_stderr:
    def __enter__(self) -> None:
        self.saved = sys.stdout
        sys.stdout = sys.stderr

    def __exit__(self, *_: Any) -> None:
        sys.stdout = self.saved


def run_script(spec: ScriptSpec, env: dict[str, str], inputs: dict[str, Any],
               deps: dict[str, dict[str, Any]], work_dir: str, variations: list[str],
               on_line: Callable[[str], None] | None,
               declared: dict[str, str] | None = None) -> dict[str, str]:
    """Run the hooks and the native command; return the exported env."""
    from .. import proc

    ctx = StepContext(spec, env, inputs, deps, work_dir, variations)
    run_file = os.path.join(spec.path, spec.run_file)
    if not os.path.realpath(run_file).startswith(os.path.realpath(spec.path) + os.sep):
        raise InvalidInput(f"{spec.owner}: run file {spec.run_file!r} is outside the entry")
    if "run" in spec.meta and not os.path.isfile(run_file):
        from ..errors import NotFound

        raise NotFound(f"{spec.owner}: its run file {spec.run_file} is missing")
    module = _hooks(spec)
    _call_hook(spec, module, "preprocess", ctx)
    if not ctx.skip_run and os.path.isfile(run_file):
        import tempfile

        fd, env_out = tempfile.mkstemp(prefix=ENV_OUT + "-")  # private to this run
        os.close(fd)
        try:
            run_env = dict(ctx.env)
            run_env.update(CK_ENV_OUT=env_out, CK_SCRIPT_DIR=spec.path, CK_WORK_DIR=work_dir)
            argv = ["cmd", "/c", run_file] if run_file.endswith(".bat") else ["bash", run_file]
            limit, source = _step_timeout(spec)
            proc.run(argv, cwd=work_dir, env=run_env, on_line=on_line, what=spec.owner,
                     timeout=limit, timeout_source=source)
            ctx.new_env.update(parse_env_out(env_out, spec.owner))
        finally:
            os.unlink(env_out)
    elif module is None and not os.path.isfile(run_file):
        # a step made of env only: what it declares is what it exports
        ctx.new_env.update(declared if declared is not None else {})
    _call_hook(spec, module, "postprocess", ctx)
    return spec.exported(ctx.new_env)


def recorded_paths(env: dict[str, str]) -> list[str]:
    """Absolute paths among exported values that exist now (a later hit needs them)."""
    out = []
    for value in env.values():
        for part in value.split(os.pathsep) if os.pathsep in value else [value]:
            if os.path.isabs(part) and os.path.exists(part) and part not in out:
                out.append(part)
    return out


def stderr_lines(prefix: str) -> Callable[[str], None]:
    def emit(line: str) -> None:
        sys.stderr.write(f"{prefix}{line}\n")

    return emit
