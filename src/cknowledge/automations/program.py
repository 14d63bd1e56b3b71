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

        if repetitions < 1:
            from ..errors import InvalidInput

            raise InvalidInput(f"--repetitions must be at least 1, not {repetitions}")

        built = self.compile(artifact=artifact, tags=tags, opt=opt, flags=flags, env=env,
                             quiet=quiet)
        entry = self.store.load(self.name, self._ref(artifact, built))
        chosen = pick_dataset(self.kernel, entry["meta"], dataset)
        binary = built["new_env"]["CK_PROGRAM_BINARY"]
        result = run_binary(entry["meta"], entry["path"], binary, chosen, repetitions, validate,
                            timeout)
        env = built["new_env"]
        result.update(name=built["name"], key=built["key"], compile_cached=built["cached"],
                      binary=binary, binary_size=int(env["CK_PROGRAM_BINARY_SIZE"]),
                      code_size=int(env.get("CK_PROGRAM_CODE_SIZE") or env["CK_PROGRAM_BINARY_SIZE"]),
                      opt=opt, flags=flags, deps=built["deps"])
        return result

    def _ref(self, artifact: str | None, built: dict[str, Any]) -> Any:
        from ..store.cid import ArtifactRef, parse_artifact

        if artifact:
            return parse_artifact(artifact.split(",", 1)[0])
        return ArtifactRef(None, built["name"])

    @action
    def benchmark(self, artifact: str | None = None, opt: str | None = None,
                  flags: str | None = None, dataset: str | None = None, repetitions: int = 5,
                  warmup: int = 1, record: bool = False, name: str | None = None,
                  repo: str | None = None, timeout: float | None = None,
                  validate: bool = True) -> dict[str, Any]:
        """Measure --repetitions=N runs after --warmup=W; --record [--name=E] keeps it.

        Metrics: wall time per run, binary size, energy where RAPL counters are readable;
        statistics per metric. The experiment entry holds the inputs, the lock, platform,
        env and git state."""
        from ..errors import InvalidInput
        from ..experiments import bench
        from ..experiments.record import finish

        if not artifact:
            raise InvalidInput("name the program: ck benchmark program:NAME")
        measured = bench.program(self.kernel, artifact, opt=opt, flags=flags, dataset=dataset,
                                 repetitions=repetitions, warmup=warmup, timeout=timeout,
                                 validate=validate)
        return finish(self.kernel, measured, record, name, repo)

    @action
    def autotune(self, artifact: str | None = None, space: Any = None, objectives: Any = None,
                 strategy: str | None = None, budget: int | None = None,
                 seed: int | None = None, repetitions: int | None = None,
                 dataset: str | None = None, backend: str = "local",
                 ray_address: str | None = None, workers: int | None = None,
                 name: str | None = None, resume: bool = False,
                 fixed: dict[str, Any] | None = None, timeout: float | None = None,
                 quiet: bool = False) -> dict[str, Any]:
        """Tune a program's choices for --objectives (time:min,size:min): noise-aware Pareto front.

        --space=FILE (default: the program's space.yaml), --strategy=random|grid|tpe|nsga2,
        --budget=N, --repetitions=R, --backend=local|ray [--ray-address=auto|ray://...],
        --name=NAME [--resume], --fixed.CHOICE=VALUE. Every trial is recorded in an
        experiment entry; the result has the front as a table, a PNG and an HTML plot."""
        from ..tuning.program import autotune_program

        result = autotune_program(self.kernel, artifact, space=space, objectives=objectives,
                                  strategy=strategy, budget=budget, seed=seed,
                                  repetitions=repetitions, dataset=dataset, backend=backend,
                                  ray_address=ray_address, workers=workers, name=name,
                                  resume=resume, fixed=fixed, timeout=timeout,
                                  echo=self.kernel.output(quiet))
        trials = result.get("trials") or {}
        if trials.get("count") and not trials.get("ok"):
            from ..errors import CommandFailed

            exp = result.get("experiment") or {}
            where = exp.get("trials") if isinstance(exp, dict) else exp
            raise CommandFailed(f"all {trials['count']} trials failed (their reasons are "
                                f"recorded in {where}); no Pareto front")
        return result

    @action
    def reduce(self, artifact: str | None = None, flags: str | None = None,
               opt: str | None = None, objective: str = "time", repetitions: int = 5,
               dataset: str | None = None, timeout: float | None = None,
               quiet: bool = False) -> dict[str, Any]:
        """Find the smallest subset of --flags whose --objective stays within noise of the full set.

        --objective=time|size[:min|max], --opt, --repetitions=R, --dataset; returns the kept
        and removed flags and every measurement."""
        from ..tuning.program import reduce_program

        return reduce_program(self.kernel, artifact, flags, opt=opt, objective=objective,
                              repetitions=repetitions, dataset=dataset, timeout=timeout,
                              echo=self.kernel.output(quiet))
