"""Images of components: build (or reuse) one from its lock, export its context.

    built = build(kernel, engine, target, inputs, base=None)   # reuses a matching image
    export(kernel, target, inputs, output, base)               # a folder that builds anywhere

The tag is ``localhost/ck/KIND-NAME:LOCKDIGEST`` (16 hex digits of :func:`.context.lock_digest`),
so the same lock names the same image; the build also labels the image with the digest of
its whole context, and an image whose context digest is the current one is used as it is.
"""

from __future__ import annotations

import os
import time

from ..errors import CKError, Unsatisfiable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel
    from .engine import Engine
    from .plan import Target

CONTEXT_LABEL = "org.cknowledge.context"
LOCK_LABEL = "org.cknowledge.lock"
BASE_LABEL = "org.cknowledge.base"


def image_tag(target: Target, lock_digest: str) -> str:
    return f"localhost/ck/{target.slug()}:{lock_digest[:16]}"


def context_folder(kernel: Kernel, target: Target) -> str:
    return os.path.join(kernel.home, "container", "contexts", target.slug())


def prepare_context(kernel: Kernel, target: Target, inputs: dict[str, Any], base: str,
                    folder: str) -> dict[str, Any]:
    from .context import write_context
    from .plan import resolve

    try:
        lock = resolve(kernel, target, inputs)
    except CKError as exc:
        raise type(exc)(f"{target.label}: cannot plan the image: {exc.message}",
                        **exc.details) from None
    ctx = write_context(kernel, folder, target, lock, inputs, base)
    ctx["lock"] = lock
    return ctx


def build(kernel: Kernel, engine: Engine, target: Target, inputs: dict[str, Any],
          base: str | None = None, on_line: Callable[[str], None] | None = None,
          force: bool = False) -> dict[str, Any]:
    """Build the image of ``target`` (or find the one its context made); describe it."""
    from .base import default_base

    base = base or default_base(engine)
    started = time.perf_counter()
    ctx = prepare_context(kernel, target, inputs, base, context_folder(kernel, target))
    tag = image_tag(target, ctx["lock_digest"])
    found = engine.image(tag)
    reused = (not force and found is not None
              and found["labels"].get(CONTEXT_LABEL) == ctx["context_digest"])
    if not reused:
        if on_line is not None:
            on_line(f"{target.label}: building {tag} with {engine.name} from {base}")
        try:
            engine.build(ctx["folder"], tag, on_line=on_line,
                         labels={CONTEXT_LABEL: ctx["context_digest"]})
        except CKError as exc:
            if " at step 1/" in exc.message:  # FROM: the base image is not there
                exc.message += (f" (no base image {base}: make one from the Debian mirror with"
                                " 'ck docker base', or pass --base=IMAGE)")
                exc.args = (exc.message,)
            raise
        found = engine.image(tag)
    assert found is not None
    seconds = round(time.perf_counter() - started, 2)
    state = "reused" if reused else "built"
    return {"image": tag, "id": found["id"], "size": found["size"], "engine": engine.name,
            "base": base, "lock_digest": ctx["lock_digest"], "context": ctx["folder"],
            "context_digest": ctx["context_digest"], "reused": reused, "seconds": seconds,
            "component": target.label, "apt": ctx["needs"]["apt"], "pip": ctx["needs"]["pip"],
            "repos": ctx["repos"], "pip_skipped": ctx["pip_skipped"],
            "text": f"{target.label}: image {tag} {state} in {seconds} s "
                    f"({found['size'] / 1e6:.0f} MB, {engine.name}, base {base})"}


def check_image(engine: Engine, image: str, target: Target, lock: dict[str, Any]
                ) -> dict[str, Any]:
    """An image the user names (--image) must be the one built for this lock."""
    from ..errors import NotFound
    from .context import lock_digest

    found = engine.image(image)
    if found is None:
        raise NotFound(f"no image {image} in {engine.name} (ck docker build {target.label} "
                       "makes it)")
    have = found["labels"].get(LOCK_LABEL)
    want = lock_digest(lock, found["labels"].get(BASE_LABEL, ""))[:16]
    if have != want:
        raise Unsatisfiable(f"image {image} does not match the lock of {target.label}: it was "
                            f"built for lock {have or '(none: not made by ck docker build)'}, "
                            f"this lock is {want}; rebuild: ck docker build {target.label}")
    found["lock_digest"] = want
    return found


def export(kernel: Kernel, target: Target, inputs: dict[str, Any], output: str,
           base: str) -> dict[str, Any]:
    """Write a self-contained context with a README of the plain build and run commands."""
    from ..errors import AlreadyExists, InvalidInput

    output = os.path.abspath(output)
    if os.path.exists(output) and (not os.path.isdir(output) or os.listdir(output)):
        raise AlreadyExists(f"--output={output} exists and is not an empty folder")
    try:
        os.makedirs(os.path.dirname(output) or ".", exist_ok=True)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"--output={output}: cannot create it: {exc}") from None
    ctx = prepare_context(kernel, target, inputs, base, output)
    tag = image_tag(target, ctx["lock_digest"])
    readme = readme_text(target, tag, base)
    with open(os.path.join(output, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(readme)
    return {"output": output, "image": tag, "base": base, "lock_digest": ctx["lock_digest"],
            "files": sorted(os.listdir(output)),
            "text": f"{target.label}: build context in {output}\n"
                    f"  podman build -t {tag} {output}\n  (README.md: build and run commands)"}


def readme_text(target: Target, tag: str, base: str) -> str:
    from .plan import KINDS

    run = f"ck {KINDS[target.kind]} {target.label}"
    return f"""# Image of {target.label}

Made by `ck docker export` from the resolved lock (`lock.yaml`). It builds without
cknowledge on the host: only a container engine (podman or docker) and the base image
`{base}`.

Build:

    podman build -t {tag} .
    docker build -t {tag} .

(On hosts where podman's default runtime fails, add `--runtime=runc`; where the default
ulimits are refused, `--ulimit=nofile=1024:1024 --ulimit=nproc=1024:1024`.)

Run the component (its results stay in the container unless a folder is mounted):

    podman run --rm {tag} {run}

A shell in the prepared image:

    podman run --rm -it {tag} bash

Contents: `Containerfile`; `apt/` (the apt sources and keyrings the image uses); `pip.conf`
(package indexes); `requirements.txt` (cknowledge's dependencies, pinned); `wheels/`
(cknowledge itself); `home/` (the repos with the entries the lock needs); `lock.yaml`;
`request.json` (what `ck prepare docker` checks and prepares at build time).
"""
