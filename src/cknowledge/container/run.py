"""Running a component in its image, with its results written back to the host.

    run_in_image(kernel, engine, built, target, inputs)   # the inner result, plus "container"

The container runs ``ck ACTION KIND:NAME --json @/ck/io/request.json``: the same request
the host would run, in the image's prepared home (its content-keyed cache holds what the
build prepared). Mounted from the host's ``$CK_HOME``: the ``local`` repo's
``experiment`` folder (experiment entries land in the host's store, and the index sees
them on the next query) and, for a solution, ``solutions/NAME/runs`` (its run folders,
results layout and report). ``CK_CONTAINER_*`` variables name the engine, the image, its
ID and base; an experiment records every ``CK_*`` variable, so it says where it ran.
The inner error comes back as the same error class, its message prefixed "in the container";
paths of the result inside the mounted folders are given as the host sees them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

from ..errors import ALL_ERRORS, CKError, CommandFailed, InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel
    from .engine import Engine
    from .plan import Target

IMAGE_HOME = "/ck/home"


def gpu_flags(engine: Engine, gpus: Any) -> list[str]:
    """``--gpus=all|N|none``: CDI devices (podman) or ``--gpus`` (docker) when the host has
    NVIDIA GPUs; asking for GPUs on a host without them is an error, not a silent CPU run."""
    if gpus in (None, False, "", "none", "no", 0, "0"):
        return []
    count = "all" if gpus in (True, "all", "yes") else str(gpus)
    if not count.isdigit() and count != "all":
        raise InvalidInput(f"--gpus={gpus}: write all, none or a number")
    if not any(os.path.exists(p) for p in ("/dev/nvidia0", "/dev/dxg")):
        raise InvalidInput(f"--gpus={gpus}: this host has no NVIDIA GPU (no /dev/nvidia0)")
    if engine.name == "docker":
        return [f"--gpus={count}"]
    if count == "all":
        return ["--device=nvidia.com/gpu=all"]
    return [f"--device=nvidia.com/gpu={i}" for i in range(int(count))]


def host_mounts(kernel: Kernel, target: Target) -> list[tuple[str, str]]:
    """(host folder, container folder) pairs that carry results back."""
    local = kernel.store.repos.get("local")
    pairs = [(os.path.join(kernel.store.repos.writable_path(local), "experiment"),
              f"{IMAGE_HOME}/repos/local/experiment")]
    if target.kind == "solution" and target.name:
        pairs.append((os.path.join(kernel.home, "solutions", target.name, "runs"),
                      f"{IMAGE_HOME}/solutions/{target.name}/runs"))
    for host, _ in pairs:
        os.makedirs(host, exist_ok=True)
    return pairs


def container_env(engine: Engine, built: dict[str, Any]) -> dict[str, str]:
    return {"CK_CONTAINER_ENGINE": engine.name, "CK_CONTAINER_IMAGE": built["image"],
            "CK_CONTAINER_IMAGE_ID": built["id"], "CK_CONTAINER_BASE": built["base"],
            "CK_CONTAINER_LOCK": built["lock_digest"][:16]}


def run_argv(engine: Engine, built: dict[str, Any], target: Target, mounts: list[tuple[str, str]],
             io_dir: str, gpus: Any = None, offline: bool = False, interactive: bool = False,
             tty: bool = False, verb: str | None = None) -> list[str]:
    from .plan import KINDS

    argv = engine.argv("run", "--rm", *engine.common_flags())
    if interactive:
        argv.append("-it" if tty else "-i")
    if offline:
        argv.append("--network=none")
    argv += gpu_flags(engine, gpus)
    for key, value in sorted(container_env(engine, built).items()):
        argv.append(f"--env={key}={value}")
    for host, inside in mounts + [(io_dir, "/ck/io")]:
        argv.append(f"--volume={host}:{inside}")
    argv.append(built["image"])
    if interactive:
        argv.append("bash")
        return argv
    artifact = target.kind + (f":{target.name}" if target.name else "")
    inner = f"ck {verb or KINDS[target.kind]} {artifact} --json @/ck/io/request.json > /ck/io/result.json"
    return argv + ["bash", "-c", inner]


def run_in_image(kernel: Kernel, engine: Engine, built: dict[str, Any], target: Target,
                 inputs: dict[str, Any], gpus: Any = None, offline: bool = False,
                 on_line: Callable[[str], None] | None = None,
                 timeout: float | None = None, verb: str | None = None) -> dict[str, Any]:
    from .. import proc

    mounts = host_mounts(kernel, target)
    io_dir = tempfile.mkdtemp(prefix="io-", dir=_io_root(kernel))
    try:
        request = {k: v for k, v in inputs.items()}
        if target.tags:
            request["tags"] = target.tags
        with open(os.path.join(io_dir, "request.json"), "w", encoding="utf-8") as fh:
            json.dump(request, fh)
        argv = run_argv(engine, built, target, mounts, io_dir, gpus, offline, verb=verb)
        failure: CKError | None = None
        try:
            proc.run(argv, on_line=on_line, what=f"{engine.name} run", timeout=timeout)
        except CommandFailed as exc:
            failure = exc
        result = _read_result(os.path.join(io_dir, "result.json"))
    finally:
        shutil.rmtree(io_dir, ignore_errors=True)
    if result is None:
        raise failure or CommandFailed(f"{engine.name} run of {built['image']} gave no result")
    if result.get("return"):
        raise _error_class(int(result["return"]))(
            f"in the container ({built['image']}): {result.get('error')}")
    result = dict(host_paths(result, mounts))
    result["container"] = {k: v for k, v in built.items() if k not in ("text",)}
    result["text"] = _text(target, verb, inputs, result, built, engine)
    return result


def _text(target: Target, verb: str | None, inputs: dict[str, Any], result: dict[str, Any],
          built: dict[str, Any], engine: Engine) -> str:
    """The inner result as ``ck`` shows it on the host, and where it ran."""
    from ..cli.render import render
    from .plan import KINDS

    request = {"action": verb or KINDS[target.kind], "automation": target.kind, **inputs}
    shown = render(request, {k: v for k, v in result.items() if k != "container"})
    return (shown + "\n" if shown else "") + \
        f"(ran in {built['image']}, {engine.name}, base {built['base']})"


def host_paths(value: Any, mounts: list[tuple[str, str]]) -> Any:
    """The result with paths inside the mounted folders given as the host sees them."""
    if isinstance(value, dict):
        return {k: host_paths(v, mounts) for k, v in value.items()}
    if isinstance(value, list):
        return [host_paths(v, mounts) for v in value]
    if isinstance(value, str):
        import re

        for host, inside in mounts:  # whole paths, and paths inside a text
            value = re.sub(rf"(?<![\w/.-]){re.escape(inside)}(?=/|\s|$|[)\]'\",;:])",
                           host.replace("\\", "\\\\"), value)
    return value


def _io_root(kernel: Kernel) -> str:
    folder = os.path.join(kernel.home, "container", "io")
    os.makedirs(folder, exist_ok=True)
    return folder


def _read_result(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _error_class(code: int) -> type[CKError]:
    return next((cls for cls in ALL_ERRORS if cls.code == code), CKError)


def shell(kernel: Kernel, engine: Engine, built: dict[str, Any], target: Target,
          gpus: Any = None) -> dict[str, Any]:
    """An interactive shell in the prepared image (the terminal is handed over)."""
    import sys

    mounts = host_mounts(kernel, target)
    io_dir = tempfile.mkdtemp(prefix="io-", dir=_io_root(kernel))
    try:
        argv = run_argv(engine, built, target, mounts, io_dir, gpus, interactive=True,
                        tty=sys.stdin.isatty() and sys.stdout.isatty())
        code = subprocess.call(argv)
    finally:
        shutil.rmtree(io_dir, ignore_errors=True)
    return {"image": built["image"], "exit_status": code,
            "text": f"shell in {built['image']} ended (exit status {code})"}
