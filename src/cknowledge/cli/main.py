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
    debug = "--debug" in argv
    try:
        request, flags = parse_argv(argv)
        if request.get("action") == "hub" or (PROG == "cb" and request.get("action")
                                              in HUB_VERBS):
            request = hub_request(request, via_hub_word=request.get("action") == "hub")
    except UsageError as exc:
        _err(str(exc))
        return 2
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
        _err("interrupted")
        return 130
    except Terminated as exc:
        _err(f"stopped by signal {exc.signum}")
        return 128 + exc.signum
    except Exception as exc:
        return _fail(exc, debug)
    finally:
        restore()
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
        return _fail(exc, debug)
    return 0


def _help_topic(request: dict[str, Any], flags: dict[str, bool]) -> str | None:
    if request.get("action") in (None, "help"):
        auto = request.get("automation")
        if auto and request.get("artifact"):
            return f"{auto}:{request['artifact']}"
        return auto
    # ck ACTION AUTOMATION --help
    return f"{request.get('automation') or 'kernel'}:{request['action']}"


def _run(request: dict[str, Any], quiet: bool = False) -> dict[str, Any]:
    from ..api import kernel_for

    kernel = kernel_for(os.environ.get("CK_HOME"))
    kernel.store.start_service = True
    kernel.store.watch_from = 0  # one-shot: in-process change notification never pays off
    kernel.echo = None if quiet else _progress_line
    return kernel.call(request)  # type: ignore[no-any-return]


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


def _fail(exc: Exception, debug: bool) -> int:
    from ..errors import CKError

    if debug:
        import traceback

        traceback.print_exc()
    if isinstance(exc, CKError):
        _err(exc.message)
        return min(exc.code, 255)
    if isinstance(exc, OSError):  # the home or working folder is unusable, a disk is full...
        where = f": {exc.filename}" if exc.filename else ""
        _err(f"{exc.strerror or exc}{where}")
        return 1
    _err(f"internal error: {type(exc).__name__}: {exc}"
         + ("" if debug else " (run with --debug for the traceback)"))
    return 1


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
