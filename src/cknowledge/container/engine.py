"""The container engine: which one (podman or docker), its flags, and one-line failures.

    engine = detect("podman" | "docker" | None)   # --engine, else $CK_CONTAINER_ENGINE,
                                                   # else podman, else docker
    engine.build(context_dir, tag, on_line)        # CommandFailed names the failing step
    engine.image(tag)                              # id, labels, size — or None

Podman runs rootful here with the ``runc`` runtime and explicit ulimits (no larger than
this process's own hard limits: a container asking for more fails to start with
"error setting rlimit"); ``$CK_CONTAINER_RUNTIME`` names another runtime, an empty value
leaves the engine's default. Docker needs its daemon; a client without one is one line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from ..errors import CommandFailed, InvalidInput, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

ENGINES = ("podman", "docker")
INSTALL_HINT = {
    "podman": "sudo apt-get install podman runc (Debian/Ubuntu) or sudo dnf install podman",
    "docker": "sudo apt-get install docker.io (Debian/Ubuntu), then sudo systemctl start docker",
}
#: most open files / processes a container asks for (less where this process may not have them)
NOFILE_MAX, NPROC_MAX = 65536, 32768
# podman: "STEP 3/9: RUN ..."; docker (BuildKit): "#7 [3/9] RUN ..."; classic: "Step 3/9 : RUN"
_STEP = re.compile(r"^(?:STEP (\d+/\d+): (.*)|#\d+ \[[^\]]*?(\d+/\d+)\] (.*)|Step (\d+/\d+) : (.*))$")


class Engine:
    """One installed engine: its binary and the flags every build and run gets."""

    def __init__(self, name: str, path: str) -> None:
        self.name, self.path = name, path

    def __repr__(self) -> str:
        return f"Engine({self.name!r}, {self.path!r})"

    # -- flags ----------------------------------------------------------------------------
    def common_flags(self) -> list[str]:
        """Flags for both ``build`` and ``run``: the runtime and the ulimits (podman)."""
        if self.name != "podman":
            return []
        flags = []
        runtime = os.environ.get("CK_CONTAINER_RUNTIME", "runc" if shutil.which("runc") else "")
        if runtime:
            flags.append(f"--runtime={runtime}")
        for name, limit in (("nofile", NOFILE_MAX), ("nproc", NPROC_MAX)):
            value = min(limit, _hard_limit(name))
            flags.append(f"--ulimit={name}={value}:{value}")
        return flags

    # -- commands -------------------------------------------------------------------------
    def argv(self, *args: str) -> list[str]:
        return [self.path, *args]

    def query(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(self.argv(*args), capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout, errors="replace")
        except subprocess.TimeoutExpired:
            raise CommandFailed(f"{self.name} {' '.join(args)} did not answer within "
                                f"{timeout:g} s") from None

    def check_ready(self) -> None:
        """Raise one line when the engine cannot serve requests (docker: no daemon)."""
        done = self.query("info", "--format", "{{json .}}", timeout=60)
        if done.returncode == 0:
            return
        text = (done.stderr or done.stdout).strip()
        if self.name == "docker" and ("Cannot connect" in text or "daemon" in text):
            first = next((ln for ln in text.splitlines() if "daemon" in ln), text)
            raise CommandFailed(f"docker is installed but its daemon is not running ({first.strip()}); "
                                "start it (sudo systemctl start docker) or use --engine=podman")
        last = text.splitlines()[-1] if text else f"exit status {done.returncode}"
        raise CommandFailed(f"{self.name} is installed but not usable: {self.name} info: {last}")

    def image(self, ref: str) -> dict[str, Any] | None:
        """``{"id", "labels", "size", "created"}`` of a local image, or None."""
        import json

        done = self.query("image", "inspect", ref)
        if done.returncode != 0:
            return None
        try:
            data = json.loads(done.stdout)[0]
        except (ValueError, IndexError, KeyError):
            return None
        config = data.get("Config") or {}
        return {"id": data.get("Id", ""), "labels": config.get("Labels") or {},
                "size": int(data.get("Size") or 0), "created": data.get("Created")}

    def build(self, context: str, tag: str, on_line: Callable[[str], None] | None = None,
              labels: dict[str, str] | None = None, containerfile: str = "Containerfile",
              timeout: float | None = None) -> str:
        """Build ``context`` into ``tag``; a failing step is one line with its last output."""
        from .. import proc

        label_flags = [f"--label={k}={v}" for k, v in sorted((labels or {}).items())]
        argv = self.argv("build", *self.common_flags(), *label_flags,
                         "-f", os.path.join(context, containerfile), "-t", tag, context)
        step: list[str] = []

        def watch(line: str) -> None:
            m = _STEP.match(line.strip())
            if m:
                number = m.group(1) or m.group(3) or m.group(5)
                text = m.group(2) or m.group(4) or m.group(6)
                step[:] = [f"step {number} ({_short(text)})"]
            if on_line is not None:
                on_line(line)

        try:
            return proc.run(argv, on_line=watch, what=f"{self.name} build", timeout=timeout)
        except CommandFailed as exc:
            tail = [_short(ln, 240) for ln in exc.details.get("tail") or [] if ln.strip()][-4:]
            where = step[0] if step else "its start"
            raise CommandFailed(f"building image {tag} failed at {where}: "
                                + " | ".join(ln.strip() for ln in tail),
                                **exc.details) from None


def _short(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _hard_limit(name: str) -> int:
    import resource

    which = {"nofile": resource.RLIMIT_NOFILE, "nproc": resource.RLIMIT_NPROC}[name]
    soft, hard = resource.getrlimit(which)
    values = [v for v in (soft, hard) if v != resource.RLIM_INFINITY]
    return min(values) if values else 1 << 30


def detect(wanted: str | None = None, check: bool = True) -> Engine:
    """The engine to use: ``wanted`` (--engine), ``$CK_CONTAINER_ENGINE``, podman, docker."""
    wanted = wanted or os.environ.get("CK_CONTAINER_ENGINE") or None
    if wanted is not None and wanted not in ENGINES:
        raise InvalidInput(f"--engine={wanted}: not a container engine this tool drives "
                           f"(choose {' or '.join(ENGINES)})")
    names = (wanted,) if wanted else ENGINES
    for name in names:
        path = shutil.which(name)
        if path:
            engine = Engine(name, path)
            if check:
                engine.check_ready()
            return engine
    if wanted:
        raise NotFound(f"no {wanted} on PATH; install it: {INSTALL_HINT[wanted]}")
    raise NotFound("no container engine found (podman or docker on PATH); install one: "
                   f"{INSTALL_HINT['podman']}")
