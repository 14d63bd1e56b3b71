"""Running subprocesses: never a prompt, and a failure that says what happened.

:func:`run` starts a command with stdin closed (nothing can wait for an answer), keeps
the tail of its output, and raises :class:`~cknowledge.errors.CommandFailed` naming the
command, its decoded exit status ("exit status 2", "killed by signal 9 (SIGKILL)") and the
last lines it printed — never a raw ``os.system`` status such as 256.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from collections import deque
from contextvars import ContextVar

from .errors import CommandFailed, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

TAIL_LINES = 20
#: seconds a timed-out command gets between SIGTERM and SIGKILL to stop cleanly
GRACE_S = 5.0
#: where ``ck -v`` shows each command, its folder and the environment it changes
VERBOSE: ContextVar[Callable[[str], None] | None] = ContextVar("ck_verbose", default=None)


def describe_status(returncode: int) -> str:
    """``0`` → "exit status 0"; ``-9`` (or 137 from a shell) → "killed by signal 9 (SIGKILL)"."""
    if returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {sig} ({name})"
    if returncode > 128 and returncode - 128 in {s.value for s in signal.Signals}:
        sig = returncode - 128
        return f"exit status {returncode} (a shell reporting signal {sig}, {signal.Signals(sig).name})"
    return f"exit status {returncode}"


def command_text(args: Sequence[str] | str) -> str:
    return args if isinstance(args, str) else shlex.join([str(a) for a in args])


def run(args: Sequence[str] | str, cwd: str | None = None, env: Mapping[str, str] | None = None,
        timeout: float | None = None, on_line: Callable[[str], None] | None = None,
        what: str | None = None, timeout_source: str | None = None) -> str:
    """Run ``args`` (a list, or a string for ``bash -c``); return its whole output.

    stdout and stderr are merged and read line by line (``on_line`` sees each, e.g. for a
    progress display). A non-zero exit raises ``CommandFailed`` with the tail of the output.
    After ``timeout`` seconds the process group gets SIGTERM, and SIGKILL :data:`GRACE_S`
    later; the ``CommandFailed`` names the timeout (and ``timeout_source``, what set it)
    and carries ``timeout`` in its details.
    """
    argv = ["bash", "-c", args] if isinstance(args, str) else [str(a) for a in args]
    shown = command_text(args)
    show = VERBOSE.get()
    if show is not None:
        _show_command(show, shown, cwd, env)
    if timeout is not None and timeout <= 0:
        raise CommandFailed(f"{what or 'command'} {shown!r} was not started: its timeout"
                            + (f" ({timeout_source})" if timeout_source else "")
                            + " was already spent", command=shown, timeout=timeout)
    try:
        # its own process group, so that a timeout or Ctrl-C stops the children it started too
        proc = subprocess.Popen(argv, cwd=cwd, env=dict(env) if env is not None else None,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace",
                                start_new_session=True)
    except FileNotFoundError:
        raise NotFound(f"cannot run {shown!r}: {argv[0]} is not installed or not on PATH") from None
    except PermissionError:
        raise CommandFailed(f"cannot run {shown!r}: {argv[0]} is not executable") from None
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    out: list[str] = []
    assert proc.stdout is not None
    timer = None
    timed_out: list[bool] = []
    if timeout is not None:
        import threading

        def stop() -> None:
            timed_out.append(True)
            _stop_group(proc)

        timer = threading.Timer(timeout, stop)
        timer.daemon = True
        timer.start()
    try:
        for line in proc.stdout:
            out.append(line)
            tail.append(line.rstrip("\n"))
            if on_line is not None:
                on_line(line.rstrip("\n"))
        proc.wait()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    finally:
        if timer is not None:
            timer.cancel()
    if timed_out:
        assert timeout is not None
        raise CommandFailed(f"{what or 'command'} {shown!r} was stopped after "
                            f"{_seconds(timeout)} by its timeout"
                            + (f" ({timeout_source})" if timeout_source else "")
                            + _tail(tail), command=shown,
                            timeout=timeout, cwd=cwd or os.getcwd(), tail=list(tail))
    if proc.returncode != 0:
        verb = "was" if proc.returncode < 0 else "failed with"
        raise CommandFailed(f"{what or 'command'} {shown!r} {verb} "
                            f"{describe_status(proc.returncode)}" + _tail(tail),
                            command=shown, returncode=proc.returncode, cwd=cwd or os.getcwd(),
                            tail=list(tail))
    return "".join(out)


def _seconds(value: float) -> str:
    return f"{value:g} s" if value >= 1 else f"{value:.2g} s"


def _show_command(show: Callable[[str], None], shown: str, cwd: str | None,
                  env: Mapping[str, str] | None) -> None:
    show(f"$ {shown}" + (f"   (in {cwd})" if cwd else ""))
    if env is None:
        return
    for key in sorted(env):
        if os.environ.get(key) != env[key]:
            show(f"    {key}={env[key]}")
    for key in sorted(set(os.environ) - set(env)):
        show(f"    unset {key}")


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM to the whole group, SIGKILL after :data:`GRACE_S` if anything is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, OSError):
        _kill_group(proc)
        return
    try:
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc)  # children that ignored SIGTERM, or outlived the leader


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass


def _tail(lines: deque[str]) -> str:
    kept = [line for line in lines if line.strip()]
    if not kept:
        return " (no output)"
    return "; last output: " + " | ".join(kept[-5:])
