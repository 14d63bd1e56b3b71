"""Progress reporting for installs: the caller's callback, or a live bar on a terminal.

A callback has the shape ``progress(label, done, total)``: for a download ``label`` is
the file name, ``done`` the bytes so far and ``total`` the size or ``None``; for the
output of a long command it is ``(line, 0, None)``.

A caller's callback hears of a download a few times only (its start, each quarter, its
end, and at most every :data:`EVERY_S` seconds): a log gets a few lines, not one per MiB.
Where the CLI marks the terminal as live (:data:`LIVE`, set by ``ck`` when stderr is a
terminal) a download shows a bar instead: size, rate and ETA, drawn by rich when it is
installed, else one line redrawn in place.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextvars import ContextVar

Progress = Callable[[str, int, int | None], None]

#: set by the CLI when stderr is a terminal that may show live progress bars
LIVE: ContextVar[bool] = ContextVar("ck_live_progress", default=False)
#: the longest a caller's callback waits for news of a running download
EVERY_S = 30.0


def human(n: float) -> str:
    """``1536`` → ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - loop always returns


def eta(done: int, total: int | None, rate: float) -> str:
    """``"ETA 1:05"``, or ``""`` when it cannot be told."""
    if not total or rate <= 0 or done >= total:
        return ""
    left = int((total - done) / rate)
    hours, rest = divmod(left, 3600)
    return f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"ETA {rest // 60}:{rest % 60:02d}"


class Throttle:
    """Passes a download's progress to ``progress`` at its start, at each quarter, at its
    end and every :data:`EVERY_S` seconds; text lines (``done == 0``, no total) pass."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.quarter: dict[str, int] = {}
        self.last: dict[str, float] = {}

    def __call__(self, label: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if label not in self.last:  # the first news of this file
            self.last[label] = now
            self.quarter[label] = 4 * done // total if total else 0
            self.progress(label, done, total)
            return
        quarter = 4 * done // total if total else 0
        if quarter > self.quarter[label] or now - self.last[label] >= EVERY_S:
            self.quarter[label] = quarter
            self.last[label] = now
            self.progress(label, done, total)

    def note(self, text: str) -> None:
        self.progress(text, 0, None)


class RichBar:
    """rich's progress bar on stderr: name, bar, size, rate, ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        self.bar = Progress(TextColumn("  {task.description}"), BarColumn(), DownloadColumn(),
                            TransferSpeedColumn(), TimeRemainingColumn(),
                            console=Console(stderr=True))
        self.tasks: dict[str, object] = {}
        self.started = False

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if not self.started:
            self.bar.start()
            self.started = True
        task = self.tasks.get(label)
        if task is None:
            self.tasks[label] = self.bar.add_task(label, total=total, completed=done)
        else:
            self.bar.update(task, completed=done, total=total)  # type: ignore[arg-type]

    def note(self, text: str) -> None:
        self.bar.console.print(f"  {text}")

    def close(self) -> None:
        if self.started:
            self.bar.stop()
            self.started = False


class TerminalLine:
    """An in-place ``name  done / total (pct)  rate  ETA`` line on stderr, at most 10 a
    second."""

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
        left = eta(done, total, rate)
        sys.stderr.write(f"\r  {label}  {size}  {human(rate)}/s{'  ' + left if left else ''}"
                         "\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def note(self, text: str) -> None:
        sys.stderr.write(("\n" if self.shown else "") + f"  {text}\n")
        sys.stderr.flush()
        self.shown = False

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def reporter(progress: Progress | None) -> tuple[Progress | None, Callable[[], None]]:
    """The callback to use for a download and a function to call when it ends: a live
    bar where the CLI said the terminal is live (or no callback was given and stderr is a
    terminal), else the caller's callback, throttled."""
    if progress is not None and not (LIVE.get() and _tty()):
        return Throttle(progress), lambda: None
    if not _tty():
        return None, lambda: None
    try:
        bar = RichBar()
    except ImportError:
        line = TerminalLine()
        return line, line.close
    return bar, bar.close


def line_forwarder(progress: Progress | None) -> Callable[[str], None] | None:
    """An ``on_line`` for :func:`cknowledge.proc.run` that forwards to the callback."""
    if progress is None:
        return None
    cb = progress
    return lambda line: cb(line, 0, None)
