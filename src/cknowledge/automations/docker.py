"""``docker``: scripts, programs and solutions in containers built from their locks.

``ck docker build|run|export|base ...`` (and ``ck run KIND:NAME --docker``) reach these
actions; the engine is podman or docker (``--engine=``). See docs/containers.md.
"""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class DockerAutomation(Automation):
    name = "docker"
    summary = "containers: images of components built from their locks, runs inside them"

    @action
    def build(self, component: str | None = None, tags: list[str] | None = None,
              engine: str | None = None, base: str | None = None, force: bool = False,
              quiet: bool = False, **inputs: Any) -> dict[str, Any]:
        """Build (or reuse) the image of a script, program or solution from its lock.

        KIND:NAME is script:NAME, program:NAME or solution:NAME; --base=IMAGE (default:
        the one `ck docker base` made, else debian:bookworm-slim); --engine=podman|docker;
        --force rebuilds; other inputs (--opt, ...) enter the plan as for `ck run`. The
        tag is localhost/ck/KIND-NAME:LOCK (16 hex digits of the lock's digest)."""
        from ..container import engine as engines
        from ..container.images import build
        from ..container.plan import Target

        target = Target.parse(component, tags)
        found = engines.detect(engine)
        return build(self.kernel, found, target, inputs, base=base,
                     on_line=self.kernel.output(quiet), force=force)

    @action
    def run(self, component: str | None = None, tags: list[str] | None = None,
            engine: str | None = None, base: str | None = None, image: str | None = None,
            shell: bool = False, gpus: str | None = None, offline: bool = False,
            verb: str | None = None, timeout: float | None = None, quiet: bool = False,
            **inputs: Any) -> dict[str, Any]:
        """Run a script, program or solution in its image (built first when needed).

        Experiment entries and solution runs written to this home: --shell opens a shell in
        the image instead, --gpus=all|N passes GPUs through (CDI with podman), --offline runs
        without a network, --image=REF uses an image that must match the lock,
        --verb=benchmark runs `ck benchmark` inside (default: run; benchmark for a solution);
        the other inputs go to the component's run."""
        from ..container import engine as engines
        from ..container import run as runner
        from ..container.images import build
        from ..container.plan import Target

        if verb is not None and verb not in ("run", "benchmark"):
            from ..errors import InvalidInput

            raise InvalidInput(f"--verb={verb}: the container runs 'run' or 'benchmark'")
        target = Target.parse(component, tags)
        found = engines.detect(engine)
        runner.gpu_flags(found, gpus)  # refuse a host without GPUs before building
        on_line = self.kernel.output(quiet)
        if image:
            built = self._named_image(found, target, image, inputs, base)
        else:
            built = build(self.kernel, found, target, inputs, base=base, on_line=on_line)
        if shell:
            return runner.shell(self.kernel, found, built, target, gpus)
        if on_line is not None:
            on_line(f"{target.label}: running in {built['image']} ({found.name})")
        return runner.run_in_image(self.kernel, found, built, target, inputs, gpus=gpus,
                                   offline=offline, on_line=on_line, timeout=timeout, verb=verb)

    def _named_image(self, found: Any, target: Any, image: str, inputs: dict[str, Any],
                     base: str | None) -> dict[str, Any]:
        from ..container.images import check_image
        from ..container.plan import resolve

        info = check_image(found, image, target, resolve(self.kernel, target, inputs))
        return {"image": image, "id": info["id"], "size": info["size"], "engine": found.name,
                "base": info["labels"].get("org.cknowledge.base") or base or "",
                "lock_digest": info["lock_digest"]}

    @action
    def export(  # type: ignore[override]  # an image's context, not an entry archive
            self, component: str | None = None, tags: list[str] | None = None,
            output: str | None = None, base: str | None = None, engine: str | None = None,
            **inputs: Any) -> dict[str, Any]:
        """Write an image's build context to a folder that builds without cknowledge.

        --output=DIR (empty or new) gets the Containerfile,
        lock, repos, cknowledge's wheel and a README with the plain build and run commands."""
        from ..container import engine as engines
        from ..container.base import REGISTRY_BASE, default_base
        from ..container.images import export
        from ..container.plan import Target
        from ..errors import InvalidInput

        if not output:
            raise InvalidInput("name the folder: ck docker export KIND:NAME --output=DIR")
        target = Target.parse(component, tags)
        if base is None:
            try:
                base = default_base(engines.detect(engine))
            except Exception:
                base = REGISTRY_BASE.format(suite="bookworm")
        return export(self.kernel, target, inputs, output, base)

    @action
    def base(self, suite: str = "bookworm", mirror: str | None = None, tag: str | None = None,
             engine: str | None = None, quiet: bool = False) -> dict[str, Any]:
        """Make a minimal Debian base image from the package mirror (no registry needed).

        debootstrap --variant=minbase --suite=SUITE from the host's apt mirror (--mirror=URL), imported as localhost/ck-base:SUITE."""
        from ..container import engine as engines
        from ..container.base import make_base

        return make_base(engines.detect(engine), suite, mirror, tag,
                         on_line=self.kernel.output(quiet))

    @action
    def prepare(self, lock: str, request: str, quiet: bool = False) -> dict[str, Any]:
        """Inside an image being built: check it against its lock, prepare the component.

        --lock=FILE is the host's lock; prepares the component of --request=FILE (compile a program, install a solution's steps)."""
        from ..container.inside import check_and_prepare

        return check_and_prepare(self.kernel, lock, request, quiet)
