"""Progress reporting for installs: the caller's callback, or a line on a terminal.

A callback has the shape ``progress(label, done, total)``: for a download ``label`` is
the file name, ``done`` the bytes so far and ``total`` the size or ``None``; for the
output of a long command it is ``(line, 0, None)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]


def human(n: float) -> str:
    """``1536`` → ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - loop always returns


class TerminalLine:
    """An in-place ``name  done / total (pct)  rate`` line on stderr, at most 10 a second."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last = 0.0
        self.first_done: int | None = None
        self.shown = False

    def __call__(self, label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if self.first_done is None:
            self.first_done = done  # a resumed download's rate counts new bytes only
        if now - self.last < 0.1 and not (total is not None and done >= total):
            return
        self.last = now
        rate = (done - self.first_done) / max(now - self.start, 1e-6)
        size = f"{human(done)} / {human(total)} ({100 * done // max(total, 1)}%)" \
            if total else human(done)
        sys.stderr.write(f"\r  {label}  {size}  {human(rate)}/s\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def reporter(progress: Progress | None) -> tuple[Progress | None, Callable[[], None]]:
    """The callback to use for a download and a function to call when it ends."""
    if progress is not None:
        return progress, lambda: None
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return None, lambda: None
    line = TerminalLine()
    return line, line.close


def line_forwarder(progress: Progress | None) -> Callable[[str], None] | None:
    """An ``on_line`` for :func:`cknowledge.proc.run` that forwards to the callback."""
    if progress is None:
        return None
    cb = progress
    return lambda line: cb(line, 0, None)
