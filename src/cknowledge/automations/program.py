"""``program``: compile a program with the detected compiler, run it on a dataset, validate."""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ProgramAutomation(Automation):
    name = "program"
    summary = "programs to compile, run and validate"
    meta_file = "meta.yaml"

    @action
    def compile(self, artifact: str | None = None, tags: list[str] | None = None,
                opt: str | None = None, flags: str | None = None,
                env: dict[str, Any] | None = None, dry_run: bool = False, quiet: bool = False
                ) -> dict[str, Any]:
        """Compile (cached by sources, compiler, --opt, --flags and platform)."""
        from ..workflow import run

        inputs = {k: v for k, v in (("opt", opt), ("flags", flags)) if v is not None}
        return run(self.kernel, self.name, artifact, tags, None, inputs, env, dry_run=dry_run,
                   on_line=self.kernel.output(quiet))

    @action
    def run(self, artifact: str | None = None, tags: list[str] | None = None,
            opt: str | None = None, flags: str | None = None, dataset: str | None = None,
            repetitions: int = 1, validate: bool = True, timeout: float | None = None,
            env: dict[str, Any] | None = None, quiet: bool = False) -> dict[str, Any]:
        """Compile if needed, run on a dataset (--dataset=NAME), time it and check the output
        against the reference; returns time_s, binary_size, valid."""
        from ..workflow.program import pick_dataset, run_binary

        built = self.compile(artifact=artifact, tags=tags, opt=opt, flags=flags, env=env,
                             quiet=quiet)
        entry = self.store.load(self.name, self._ref(artifact, built))
        chosen = pick_dataset(self.kernel, entry["meta"], dataset)
        binary = built["new_env"]["CK_PROGRAM_BINARY"]
        result = run_binary(entry["meta"], entry["path"], binary, chosen, repetitions, validate,
                            timeout)
        result.update(name=built["name"], key=built["key"], compile_cached=built["cached"],
                      binary=binary, binary_size=int(built["new_env"]["CK_PROGRAM_BINARY_SIZE"]),
                      opt=opt, flags=flags, deps=built["deps"])
        return result

    def _ref(self, artifact: str | None, built: dict[str, Any]) -> Any:
        from ..store.cid import ArtifactRef, parse_artifact

        if artifact:
            return parse_artifact(artifact.split(",", 1)[0])
        return ArtifactRef(None, built["name"])
