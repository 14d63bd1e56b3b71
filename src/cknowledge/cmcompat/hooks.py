"""The parent side of the hook worker: one worker process per run, started on first use.

The worker (``inside/ck_hookworker.py``) runs with the interpreter of the managed venv
``package:python-venv-cm-hooks`` (the real ``cmind`` and ``mlcflow``, sha256-checked),
installed once through the package cache. Messages are JSON lines over two pipes; the
worker's stdout (what hooks print) is passed line by line to ``on_line``.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections import deque

from ..errors import CKError, CommandFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inside", "ck_hookworker.py")
VENV_PACKAGE = "python-venv-cm-hooks"
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "__PYVENV_LAUNCHER__")


def hook_python(kernel: Kernel, on_line: Callable[[str], None] | None) -> str:
    """The hook venv's interpreter (``$CK_CM_HOOKS_PYTHON`` overrides; else installed once)."""
    forced = os.environ.get("CK_CM_HOOKS_PYTHON")
    if forced:
        return forced
    from ..workflow import run

    result = run(kernel, "package", VENV_PACKAGE, None, None, {}, None, on_line=on_line)
    return str(result["new_env"]["CK_CM_HOOKS_PYTHON"])


class HookHost:
    """Calls hook functions in the worker; answers the worker's ``access`` requests."""

    def __init__(self, kernel: Kernel, on_line: Callable[[str], None] | None,
                 handler: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.kernel = kernel
        self.on_line = on_line
        self.handler = handler
        self.proc: subprocess.Popen[str] | None = None
        self.tail: deque[str] = deque(maxlen=20)

    def _start(self) -> None:
        python = hook_python(self.kernel, self.on_line)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
        env["PYTHONUNBUFFERED"] = "1"
        # importing the real packages creates their homes: keep those inside $CK_HOME
        for var, sub in (("CM_REPOS", "cm"), ("MLC_REPOS", "mlc")):
            env[var] = os.path.join(self.kernel.home, "cmcompat", sub)
        try:
            self.proc = subprocess.Popen(
                [python, WORKER, str(to_worker_r), str(from_worker_w)],
                pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                errors="replace", env=env)
        except OSError as exc:
            raise CommandFailed(f"cannot start the hook worker with {python}: {exc}") from None
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
        self.writer = os.fdopen(to_worker_w, "w", encoding="utf-8")
        self.reader = os.fdopen(from_worker_r, "r", encoding="utf-8")
        threading.Thread(target=self._pump, daemon=True).start()
        ready = self._receive()
        if ready.get("op") != "ready":
            raise CommandFailed(f"the hook worker did not start: {ready}")

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.tail.append(line)
            if self.on_line is not None:
                self.on_line(line)

    def _receive(self) -> dict[str, Any]:
        line = self.reader.readline()
        if not line:
            assert self.proc is not None
            status = self.proc.wait()
            last = " | ".join(list(self.tail)[-3:])
            raise CommandFailed(f"the hook worker stopped (exit status {status})"
                                + (f": {last}" if last else ""))
        msg: dict[str, Any] = json.loads(line)
        return msg

    def _send(self, msg: dict[str, Any]) -> None:
        self.writer.write(json.dumps(msg, default=str) + "\n")
        self.writer.flush()

    def call(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Run one hook; ``access`` requests made meanwhile are answered by ``handler``."""
        if self.proc is None:
            self._start()
        self._send(dict(msg, op="call"))
        while True:
            answer = self._receive()
            if answer.get("op") == "done":
                return answer
            if answer.get("op") == "access":
                try:
                    result = self.handler(answer.get("request") or {})
                except CKError as exc:
                    result = {"return": exc.code, "error": exc.message}
                self._send({"op": "reply", "result": result})

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.writer.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
