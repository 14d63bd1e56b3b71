"""``ck``: one line of argv in, text or ``--json`` out, one ``ck: error:`` line on failure.

This is the only place where exceptions become exit codes. Start-up stays light:
``ck --version`` imports nothing but this module and the package's ``__init__``.
"""

from __future__ import annotations

import os
import sys

from .args import HUB_VERBS, UsageError, hub_request, parse_argv

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

PROG = "ck"


def _err(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")


def _progress_line(text: str) -> None:
    sys.stderr.write(f"  {text}\n")
    sys.stderr.flush()


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("--version", "-V", "version") and set(argv[1:]) <= {"--json"}:
        if "--json" in argv:
            from .. import __version__ as version

            _emit(f'{{"version": "{version}", "return": 0}}')
            return 0
        from .. import __version__

        _emit(f"cknowledge {__version__}")
        return 0
    if argv[:1] == ["__complete"]:  # what the completion scripts ask: candidates only
        from .completion import complete_main

        return complete_main(argv[1:], _emit)
    debug = "--debug" in argv
    as_json = "--json" in argv or "-j" in argv
    try:
        request, flags = parse_argv(argv)
        if request.get("action") == "hub" or (PROG == "cb" and request.get("action")
                                              in HUB_VERBS):
            request = hub_request(request, via_hub_word=request.get("action") == "hub")
        from ..container.words import docker_request, is_docker_request

        if is_docker_request(request):  # ck docker VERB ..., ck run ... --docker
            try:
                request = docker_request(request)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    except UsageError as exc:
        return _usage_error(str(exc), 2, as_json)
    as_json = flags["json"]
    if flags["help"] and request.get("action") == "serve" and \
            request.get("automation") in (None, "hub"):
        return _serve_help(request.get("automation") == "hub")
    if request.get("action") == "completion":
        from .completion import completion_main

        return completion_main(request, _emit, _err, usage_only=flags["help"])
    if request.get("automation") == "hub" and request.get("action") == "serve" \
            and not flags["help"]:
        from ..client.serve import hub_serve_main

        return hub_serve_main(request)
    if flags["help"] or request.get("action") in (None, "help"):
        topic = _help_topic(request, flags)
        request = {"action": "help", "automation": "kernel"}
        if topic:
            request["topic"] = topic
    if request.get("action") == "serve" and not request.get("automation"):
        from ..serve.cli import serve_main

        return serve_main(request)
    undo: list[Any] = []  # the context settings of this call, reset when it ends
    if flags["verbose"]:
        from .. import proc

        undo.append((proc.VERBOSE, proc.VERBOSE.set(_progress_line)))
    if not flags["quiet"] and _stderr_is_tty():
        from ..install.progress import LIVE  # downloads draw a bar: size, rate, ETA

        undo.append((LIVE, LIVE.set(True)))
    restore = _on_termination()
    try:
        if request.get("action") == "help" and "topic" not in request:
            from ..home import home_dir
            from ..kernel.help import describe_automations

            result = describe_automations(home_dir())
            result.setdefault("return", 0)
        else:
            result = _run(request, quiet=flags["quiet"])
    except KeyboardInterrupt:
        return _usage_error("interrupted", 130, as_json)
    except Terminated as exc:
        return _usage_error(f"stopped by signal {exc.signum}", 128 + exc.signum, as_json)
    except Exception as exc:
        return _fail(exc, debug, as_json)
    finally:
        restore()
        for var, token in reversed(undo):
            var.reset(token)
    for warning in result.get("warnings", []):
        sys.stderr.write(f"{PROG}: warning: {warning}\n")
    try:
        if flags["json"]:
            import json

            _emit(json.dumps(result, indent=2, default=str))
        elif request.get("automation") == "hub" and isinstance(result.get("text"), str):
            _emit(result["text"])
        else:
            from .render import render

            text = render(request, result)
            if text:
                _emit(text)
    except Exception as exc:
        return _fail(exc, debug, as_json)
    return 0


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _help_topic(request: dict[str, Any], flags: dict[str, bool]) -> str | None:
    if request.get("action") in (None, "help"):
        auto = request.get("automation")
        if auto and request.get("artifact"):
            return f"{auto}:{request['artifact']}"
        extra = request.get("artifacts") or []
        if auto and extra:  # ck help ACTION AUTOMATION (or AUTOMATION ACTION)
            from ..kernel.registry import BUILTIN

            second = str(extra[0])
            if auto in BUILTIN and second not in BUILTIN:
                return f"{auto}:{second}"
            return f"{second}:{auto}"
        return auto
    # ck ACTION AUTOMATION --help
    return f"{request.get('automation') or 'kernel'}:{request['action']}"


def _run(request: dict[str, Any], quiet: bool = False) -> dict[str, Any]:
    from ..api import kernel_for

    kernel = kernel_for(os.environ.get("CK_HOME"))
    kernel.store.start_service = True
    kernel.store.watch_from = 0  # one-shot: in-process change notification never pays off
    kernel.echo = None if quiet else _progress_line
    if not request.get("automation") and request.get("action") not in (None, "help"):
        actions = kernel.automation_class("kernel").actions()
        if request["action"] not in actions:
            from ..errors import UnknownAction, suggest

            word = str(request["action"])
            raise UnknownAction(f"unknown command {word!r}{suggest(word, actions)}; "
                                "'ck help' lists the automations, 'ck help kernel' the "
                                "commands without one")
    return kernel.call(request)  # type: ignore[no-any-return]


def _serve_help(hub: bool) -> int:
    """``ck serve --help`` / ``ck hub serve --help``: the module's own usage text."""
    if hub:
        from ..client import serve as module
    else:
        from ..serve import cli as module  # type: ignore[no-redef]
    import re

    _emit(re.sub(r":\w+:`([^`]*)`", r"\1", (module.__doc__ or "").strip().replace("``", "")))
    return 0


class Terminated(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so running steps are stopped and cleaned."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_termination() -> Any:
    """Turn SIGTERM/SIGHUP into :class:`Terminated` while ``main`` runs; returns the undo."""
    import signal

    def stop(signum: int, _frame: Any) -> None:
        raise Terminated(signum)

    saved = []
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                saved.append((sig, signal.signal(sig, stop)))
            except (ValueError, OSError):  # not the main thread (in-process callers)
                pass

    def restore() -> None:
        for sig, handler in saved:
            signal.signal(sig, handler)

    return restore


#: what would break the error line (str.splitlines() splits at all of these) and the rest of
#: C0, escaped as Python writes them
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), 127, 0x85]} \
    | {10: "\\n", 13: "\\r", 9: "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _one_line(message: str) -> str:
    return message.translate(_CONTROL)


def _usage_error(message: str, code: int, as_json: bool) -> int:
    """One ``ck: error:`` line on stderr; with ``--json`` also CK's
    ``{"return": N, "error": "..."}`` on stdout. Returns the exit code. Control characters
    that the message quotes from the input (a newline, a carriage return) are escaped, so
    that the line stays one line."""
    message = _one_line(message)
    _err(message)
    if as_json:
        import json

        _emit(json.dumps({"return": code, "error": message}))
    return code


def _fail(exc: Exception, debug: bool, as_json: bool = False) -> int:
    from ..errors import CKError

    if debug:
        import traceback

        traceback.print_exc()
    if isinstance(exc, CKError):
        return _usage_error(exc.message, min(exc.code, 255), as_json)
    if isinstance(exc, OSError):  # the home or working folder is unusable, a disk is full...
        where = f": {exc.filename}" if exc.filename else ""
        return _usage_error(f"{exc.strerror or exc}{where}", 1, as_json)
    from ..errors import missing_extra

    missing = missing_extra(exc)
    if missing is not None:
        return _usage_error(missing.message, missing.code, as_json)
    return _usage_error(f"internal error: {type(exc).__name__}: {exc}"
                        + ("" if debug else " (run with --debug for the traceback)"), 1, as_json)


def cb_main(argv: list[str] | None = None) -> int:
    """``cb``: the paper's short verbs. ``cb init X`` = ``ck init solution:X``; the hub
    verbs (login, publish, versions, download, ...) go to the ``hub`` automation."""
    global PROG
    argv = list(sys.argv[1:] if argv is None else argv)
    PROG = "cb"
    if len(argv) >= 2 and argv[0] in ("init", "benchmark") and ":" not in argv[1]:
        argv = [argv[0], f"solution:{argv[1]}", *argv[2:]]
    if argv[:1] == ["benchmark"] and not any(a.split("=")[0] == "--submit" for a in argv):
        # the paper's `cb benchmark` shares the result: when a hub login exists, submit
        argv.append("--submit_if_logged_in")
    return main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
