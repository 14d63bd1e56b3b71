"""The tuning loop: validate, (re)build the strategy, evaluate trials, record, report.

:func:`run_tuning` is the entry point for any evaluator (``ck autotune program:X`` wraps it
with a program evaluator, see :mod:`cknowledge.tuning.program`). An evaluator is a callable
``evaluate(config) -> {"samples": {metric: [values]}, ...}`` (or just the samples mapping);
an exception it raises marks the trial failed with its message as the reason, and tuning
goes on. An objective's value is the mean of its samples, its noise the half-width of the
95% confidence interval (:func:`cknowledge.experiments.stats.summarize`); one sample has no
noise.

Everything the user can get wrong (objectives, directions, the space, fixed choices, the
strategy, the backend, the budget) is checked before the first trial runs.

Backends: ``local`` evaluates one trial after another in this process; ``ray`` runs them as
Ray tasks (a local Ray started for the run, or ``--ray-address=auto|ray://HOST:PORT``), as
many at a time as there are workers, asking the strategy for a new trial as each one ends.
"""

from __future__ import annotations

import math
import os
import time

from ..errors import CKError, InvalidInput
from ..experiments.stats import summarize
from .space import Space, load_space, parse_objectives
from .strategies import check_strategy, make_strategy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from ..kernel.kernel import Kernel
    from .record import Run
    from .space import Objective
    from .strategies import Strategy, Suggestion

BACKENDS = ("local", "ray")
_OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
        "<": lambda a, b: a < b, "==": lambda a, b: a == b}


class Constraint:
    """``METRIC>=VALUE`` (or ``<=``, ``>``, ``<``, ``==``) on a trial's mean: a trial that
    breaks it is infeasible (recorded, never on the front)."""

    def __init__(self, text: str, metrics: Sequence[str]) -> None:
        import re

        found = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*(\S+)\s*",
                             str(text))
        if not found:
            raise InvalidInput(f"cannot read the constraint {text!r}: write METRIC>=VALUE "
                               "(or <=, >, <, ==), e.g. --constraint='map>=85'")
        self.metric, self.op = found.group(1), found.group(2)
        if metrics and self.metric not in metrics:
            from .space import _valid

            raise InvalidInput(f"constraint {text!r}: no metric {self.metric!r}"
                               + _valid(self.metric, list(metrics)))
        try:
            self.value = float(found.group(3))
        except ValueError:
            raise InvalidInput(f"constraint {text!r}: {found.group(3)!r} is not a number"
                               ) from None
        if not math.isfinite(self.value):
            raise InvalidInput(f"constraint {text!r}: the bound must be a finite number")

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def broken(self, stats: dict[str, Any]) -> str | None:
        """Why a trial with these statistics breaks the constraint (None: it holds)."""
        mean = (stats.get(self.metric) or {}).get("mean")
        if mean is None:
            return f"{self.metric} not measured (constraint {self})"
        if _OPS[self.op](float(mean), self.value):
            return None
        return f"{self.metric} = {mean:.6g} breaks the constraint {self}"


def parse_constraints(given: Any, metrics: Sequence[str]) -> list[Constraint]:
    """Constraints from a list or a comma-separated text (checked before any trial)."""
    if given in (None, "", []):
        return []
    items = given if isinstance(given, (list, tuple)) else str(given).split(",")
    return [Constraint(str(item), metrics) for item in items if str(item).strip()]
_STAT_KEYS = ("n", "mean", "median", "std", "min", "max", "ci95_half", "cv", "noisy")


def evaluate_trial(evaluate: Callable[[dict[str, Any]], Any], config: dict[str, Any]
                   ) -> dict[str, Any]:
    """Run one evaluation; never raises for a failing evaluation (it is the result)."""
    start = time.perf_counter()
    try:
        out = evaluate(config)
        if isinstance(out, dict) and isinstance(out.get("samples"), dict):
            samples, info = out["samples"], {k: v for k, v in out.items() if k != "samples"}
        elif isinstance(out, dict):
            samples, info = out, {}
        else:
            raise TypeError(f"the evaluator returned {type(out).__name__}, not a mapping of "
                            "metric samples")
        result: dict[str, Any] = {"status": "ok", "reason": None, "samples": {
            str(k): ([float(x) for x in v] if isinstance(v, (list, tuple)) else [float(v)])
            for k, v in samples.items()}, "info": _plain(info)}
    except CKError as exc:
        result = {"status": "failed", "reason": exc.message, "samples": {}, "info": {}}
    except Exception as exc:  # the evaluator's own bug or a worker problem: recorded
        result = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}", "samples": {},
                  "info": {}}
    result["duration_s"] = time.perf_counter() - start
    return result


def _plain(info: dict[str, Any]) -> dict[str, Any]:
    """The JSON-friendly scalars of an evaluator's extra output."""
    return {str(k): v for k, v in info.items()
            if v is None or isinstance(v, (str, int, float, bool))}


def objective_values(record: dict[str, Any], objectives: Sequence[Objective]
                     ) -> tuple[list[float], list[float]] | None:
    """(means, half-widths) of a successful record's objectives, or None."""
    if record.get("status") != "ok":
        return None
    means, halfs = [], []
    for obj in objectives:
        stat = (record.get("stats") or {}).get(obj.metric)
        if not stat or stat.get("mean") is None or not math.isfinite(stat["mean"]):
            return None
        means.append(float(stat["mean"]))
        halfs.append(float(stat.get("ci95_half") or 0.0))
    return means, halfs


def describe_config(space: Space, config: dict[str, Any]) -> str:
    """A short text of a configuration: its --opt and --flags, then choices that go nowhere."""
    opt, flags = space.program_args(config)
    parts = [p for p in (opt, flags) if p]
    parts += [f"{k}={config[k]}" for k, c in space.choices.items()
              if c.target == "none" and k in config]
    return " ".join(parts) or "(defaults)"


class _Loop:
    """State of one run of the loop (counts, records, timing)."""

    def __init__(self, space: Space, objectives: Sequence[Objective], strategy: Strategy,
                 budget: int, run: Run | None, records: list[dict[str, Any]],
                 echo: Callable[[str], None] | None,
                 on_trial: Callable[[dict[str, Any]], None] | None,
                 constraints: Sequence[Constraint] = ()) -> None:
        self.constraints = list(constraints)
        self.space, self.objectives, self.strategy = space, list(objectives), strategy
        self.budget, self.run, self.records = budget, run, records
        self.echo, self.on_trial = echo, on_trial
        self.new = 0
        self.harness_s = 0.0
        self.eval_s = 0.0

    @property
    def remaining(self) -> int:
        return self.budget - len(self.records)

    def finish(self, suggestion: Suggestion, raw: dict[str, Any]) -> dict[str, Any]:
        number = len(self.records)
        record: dict[str, Any] = {"number": number, "config": suggestion.config,
                                  "status": raw["status"], "reason": raw.get("reason"),
                                  "samples": raw.get("samples") or {}, "stats": {},
                                  "duration_s": round(float(raw.get("duration_s") or 0.0), 6),
                                  "finished": time.time()}
        if raw.get("info"):
            record["info"] = raw["info"]
        if record["status"] == "ok":
            try:
                for metric, values in record["samples"].items():
                    if values:
                        stat = summarize(values)
                        record["stats"][metric] = {k: stat[k] for k in _STAT_KEYS}
                missing = [o.metric for o in self.objectives if o.metric not in record["stats"]]
                if missing:
                    raise ValueError(f"the evaluation gave no value for {', '.join(missing)}")
                bad = [o.metric for o in self.objectives
                       if not math.isfinite(record["stats"][o.metric]["mean"])]
                if bad:
                    raise ValueError(f"the evaluation gave a non-finite {', '.join(bad)}")
            except ValueError as exc:
                record.update(status="failed", reason=str(exc))
        if record["status"] == "ok":
            broken = [why for c in self.constraints
                      if (why := c.broken(record["stats"])) is not None]
            if broken:
                record.update(status="infeasible", reason="; ".join(broken))
        got = objective_values(record, self.objectives)
        record["values"] = got[0] if got else None
        if self.run is not None:
            self.run.log.append(record)
        self.records.append(record)
        self.new += 1
        self.strategy.tell(suggestion, record["values"])
        if self.echo is not None:
            self.echo(self._line(record))
        if self.on_trial is not None:
            self.on_trial(record)
        return record

    def _line(self, record: dict[str, Any]) -> str:
        head = f"trial {record['number'] + 1}/{self.budget}"
        what = describe_config(self.space, record["config"])
        if record["status"] != "ok":
            return f"{head} {record['status']}: {record['reason']} [{what}]"
        from .report import _num

        vals = []
        for obj in self.objectives:
            stat = record["stats"][obj.metric]
            text = f"{obj.metric}={_num(stat['mean'])}"
            if stat.get("ci95_half"):
                text += f"±{stat['ci95_half']:.2g}"
            vals.append(text)
        return f"{head} ok: {' '.join(vals)} [{what}]"


def _run_local(loop: _Loop, evaluate: Callable[[dict[str, Any]], Any]) -> None:
    while loop.remaining > 0:
        t0 = time.perf_counter()
        suggestion = loop.strategy.ask()
        if suggestion is None:
            break
        raw = evaluate_trial(evaluate, suggestion.config)
        loop.finish(suggestion, raw)
        spent = time.perf_counter() - t0
        loop.eval_s += float(raw["duration_s"])
        loop.harness_s += max(0.0, spent - float(raw["duration_s"]))


def _ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise InvalidInput("the ray backend needs Ray: pip install 'cknowledge[ray]'") from None
    return ray


def _start_ray(address: str | None, workers: int | None) -> tuple[Any, bool]:
    """Ray, connected (to ``address``, or a local instance started here); and whether this
    call started it (then the run shuts it down at its end)."""
    ray = _ray_module()
    if ray.is_initialized():
        return ray, False
    import logging

    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR,
                              "log_to_driver": False}
    if address:
        kwargs["address"] = address
    else:
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
        env = {"PYTHONPATH": path}
        for key in ("CK_HOME", "CK_BUILTIN_REPO"):
            if os.environ.get(key):
                env[key] = os.environ[key]
        kwargs.update(num_cpus=workers or os.cpu_count() or 1, runtime_env={"env_vars": env})
    try:
        ray.init(**kwargs)
    except Exception as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        text = str(exc).strip().splitlines()
        raise CKError(f"cannot start or reach {where}: {text[0] if text else type(exc).__name__}"
                      ) from None
    return ray, True


def _run_ray(loop: _Loop, evaluate: Callable[[dict[str, Any]], Any], ray: Any, started: bool,
             workers: int | None) -> None:
    refs: dict[Any, Suggestion] = {}
    try:
        capacity = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=0)(evaluate_trial)
        evaluate_ref = ray.put(evaluate)
        exhausted = False
        while True:
            t0 = time.perf_counter()
            while not exhausted and len(refs) < capacity and loop.remaining - len(refs) > 0:
                suggestion = loop.strategy.ask()
                if suggestion is None:
                    exhausted = True
                    break
                refs[task.remote(evaluate_ref, suggestion.config)] = suggestion
            loop.harness_s += time.perf_counter() - t0
            if not refs:
                break
            ready, _ = ray.wait(list(refs), num_returns=1)
            t0 = time.perf_counter()
            for ref in ready:
                suggestion = refs.pop(ref)
                try:
                    raw = ray.get(ref)
                except Exception as exc:  # the worker died, or Ray could not run the task
                    raw = {"status": "failed", "reason": f"ray task failed: "
                           f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__}",
                           "samples": {}, "info": {}, "duration_s": 0.0}
                loop.eval_s += float(raw.get("duration_s") or 0.0)
                loop.finish(suggestion, raw)
            loop.harness_s += time.perf_counter() - t0
    finally:
        for ref in refs:
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass
        if started:
            ray.shutdown()


def _stop_ray(ray: Any, started: bool) -> None:
    if started and ray is not None and ray.is_initialized():
        ray.shutdown()


def _sigterm_as_interrupt() -> Callable[[], None]:
    """While tuning in the main thread, SIGTERM (plain ``kill``) ends it like Ctrl-C: the
    run is marked interrupted. Returns the undo."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        return lambda: None

    def undo() -> None:
        signal.signal(signal.SIGTERM, old)

    return undo


def _stored(meta: dict[str, Any], key: str, given: Any, same: Callable[[Any, Any], bool]
            ) -> Any:
    stored = meta.get(key)
    if given is None:
        return stored
    if stored is not None and not same(stored, given):
        raise InvalidInput(f"--resume goes on with the experiment's own {key} ({stored!r}); "
                           f"{given!r} differs: leave --{key.replace('_', '-')} out, or start "
                           "a new run with another --name")
    return given


def run_tuning(kernel: Kernel | None, evaluate: Callable[[dict[str, Any]], Any], *,
               space: Space | dict[str, Any] | str | None = None,
               objectives: str | Sequence[str] | None = None,
               metrics: Sequence[str] = ("time", "size"),
               strategy: str | None = None, budget: int | None = None, seed: int | None = None,
               fixed: dict[str, Any] | None = None, name: str | None = None,
               resume: bool = False, repo: str | None = None,
               backend: str = "local", ray_address: str | None = None,
               workers: int | None = None, reference: Sequence[float] | None = None,
               strategy_options: dict[str, Any] | None = None, plots: bool = True,
               program: str | None = None, extra_meta: dict[str, Any] | None = None,
               echo: Callable[[str], None] | None = None,
               on_trial: Callable[[dict[str, Any]], None] | None = None,
               validate: Callable[[Space, list[Objective]], None] | None = None,
               constraints: Any = None,
               warm: Callable[[Space, list[Objective]], dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    """Tune ``evaluate`` over ``space`` for ``objectives``; see the module documentation.

    With a ``kernel`` the run is recorded as an ``experiment`` entry (``name``, repo
    ``local``) and can be resumed; without one nothing is written (no plots either).
    Returns ``trials`` (count, ok, failed, new), ``front``, ``hypervolume``,
    ``reference``, ``table``, ``png``, ``html``, ``experiment`` and the timing.
    """
    from .pareto import hypervolume as _hypervolume
    from .pareto import pareto_front, reference_point
    from .record import open_run, read_trials

    if backend not in BACKENDS:
        from .space import _valid

        raise InvalidInput(f"unknown backend {backend!r}" + _valid(str(backend), BACKENDS))
    if backend == "ray":
        _ray_module()
    from . import TUNE_NEEDS, require

    for module, what in TUNE_NEEDS.items():  # before anything runs or is written
        if module == "numpy" or (plots and kernel is not None):
            require(module, what)
    if workers is not None and workers < 1:
        raise InvalidInput("--workers must be at least 1")
    if budget is not None and (not isinstance(budget, int) or budget < 1):
        raise InvalidInput(f"--budget must be a positive number of trials, not {budget!r}")
    if resume and kernel is None:
        raise InvalidInput("--resume needs a recorded run (a kernel)")
    # Everything given is validated before any experiment is touched; with --resume the
    # stored settings fill what is not given, and are validated the same way.
    parsed_space = load_space(space) if space is not None else None
    if strategy is not None:
        strategy = check_strategy(strategy)
    if objectives is not None:
        parse_objectives(objectives, metrics)
    parsed_constraints = parse_constraints(constraints, metrics)
    run: Run | None = None
    resumed = False
    records: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    ray_mod: Any = None
    ray_started = False
    if resume:
        assert kernel is not None
        run, resumed = open_run(kernel, name, {}, True, repo, program)
        meta = run.meta
    try:
        if resumed:
            if parsed_space is None:
                parsed_space = load_space(meta.get("space") or {})
            elif meta.get("space") and load_space(meta["space"]).describe() != \
                    parsed_space.describe():
                raise InvalidInput("--resume goes on with the experiment's own space; the "
                                   "space given differs: leave --space out, or start a new run")
            objectives = _stored(meta, "objectives", None if objectives is None else
                                 [str(o) for o in parse_objectives(objectives, metrics)],
                                 lambda a, b: list(a) == list(b))
            strategy = _stored(meta, "strategy", strategy, lambda a, b: a == b)
            seed = _stored(meta, "seed", seed, lambda a, b: a == b)
            fixed = _stored(meta, "fixed", fixed or None, lambda a, b: a == b) or {}
            if not parsed_constraints and meta.get("constraints"):
                parsed_constraints = parse_constraints(meta["constraints"], metrics)
            elif parsed_constraints and [str(c) for c in parsed_constraints] != \
                    list(meta.get("constraints") or []):
                raise InvalidInput("--resume goes on with the experiment's own constraints "
                                   f"({meta.get('constraints') or 'none'}); leave "
                                   "--constraint out, or start a new run with another --name")
            _stored(meta, "program", program, lambda a, b: a == b)
            for key, value in (extra_meta or {}).items():  # e.g. dataset, repetitions
                _stored(meta, key, value, lambda a, b: a == b)
            budget = budget if budget is not None else meta.get("budget")
        if parsed_space is None:
            raise InvalidInput("give the search space: --space=FILE (YAML or JSON)")
        space_obj = parsed_space
        objs = parse_objectives(objectives if objectives is not None else "time:min", metrics)
        strategy = check_strategy(strategy or "random")
        seed = 0 if seed is None else int(seed)
        budget = 20 if budget is None else int(budget)
        if budget < 1:
            raise InvalidInput(f"--budget must be a positive number of trials, not {budget!r}")
        fixed = space_obj.check_config(dict(fixed or {}), "--fixed")
        if validate is not None:
            validate(space_obj, objs)
        tuner = make_strategy(strategy, space_obj, objs, seed, budget, fixed, strategy_options)
        warm_info: dict[str, Any] | None = None
        if warm is not None:  # results of other platforms (before anything is recorded):
            warm_info = warm(space_obj, objs)  # learnt from, the best ones tried first
            for config, values in warm_info.get("points") or []:
                tuner.warm(config, values)
            for config in warm_info.get("first") or []:
                tuner.enqueue(config)
            if echo is not None and warm_info.get("text"):
                echo(warm_info["text"])
        settings = {"kind": "tuning", "program": program, "space": space_obj.describe(),
                    "objectives": [str(o) for o in objs], "strategy": strategy, "seed": seed,
                    "budget": budget, "fixed": fixed, "backend": backend,
                    "constraints": [str(c) for c in parsed_constraints],
                    **(extra_meta or {})}
        if backend == "ray":
            ray_mod, ray_started = _start_ray(ray_address, workers)
        if kernel is not None and run is None:
            run, resumed = open_run(kernel, name, {
                **settings, "status": "running",
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, False, repo, program)
        elif run is not None:
            run.update(status="running", budget=budget, backend=backend,
                       resumed=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        if run is not None and resumed:
            records = read_trials(run.trials_path)
            for i, rec in enumerate(records):
                rec["number"] = i
                got = objective_values(rec, objs)
                rec["values"] = got[0] if got else None
                if isinstance(rec.get("config"), dict):
                    tuner.replay(rec["config"], rec["values"])
        loop = _Loop(space_obj, objs, tuner, budget, run, records, echo, on_trial,
                     parsed_constraints)
        undo = _sigterm_as_interrupt()
        started = time.perf_counter()
        try:
            if backend == "ray":
                _run_ray(loop, evaluate, ray_mod, ray_started, workers)
            else:
                _run_local(loop, evaluate)
        finally:
            undo()
        wall = time.perf_counter() - started
    except KeyboardInterrupt:
        _stop_ray(ray_mod, ray_started)
        if run is not None:
            try:
                run.update(status="interrupted",
                           interrupted=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            finally:
                run.release()
        raise
    except BaseException:
        _stop_ray(ray_mod, ray_started)
        if run is not None:
            run.release()
        raise

    try:
        ok = [r for r in records if r.get("values") is not None]
        infeasible = sum(1 for r in records if r.get("status") == "infeasible")
        failed = sum(1 for r in records if r.get("status") not in ("ok", "infeasible"))
        halfs = [objective_values(r, objs)[1] for r in ok]  # type: ignore[index]
        signed = [[o.sign * v for o, v in zip(objs, r["values"])] for r in ok]
        front_idx = pareto_front(signed, halfs) if ok else []
        ref_signed: list[float] | None = None
        if reference is not None:
            if len(reference) != len(objs):
                raise InvalidInput(f"the reference point needs {len(objs)} values")
            ref_signed = [o.sign * float(v) for o, v in zip(objs, reference)]
        elif ok:
            ref_signed = reference_point(signed)
        hv = _hypervolume([signed[i] for i in front_idx], ref_signed) if ref_signed else None
        front = []
        for i in sorted(front_idx, key=lambda j: signed[j]):
            rec = ok[i]
            front.append({
                "number": rec["number"], "config": rec["config"],
                "describe": describe_config(space_obj, rec["config"]),
                "objectives": {o.metric: {"mean": rec["values"][k], "ci95_half": halfs[i][k] or None,
                                          "direction": o.direction}
                               for k, o in enumerate(objs)},
                **({"info": rec["info"]} if rec.get("info") else {})})
        counts = {"count": len(records), "ok": len(ok), "failed": failed,
                  "infeasible": infeasible, "new": loop.new,
                  "resumed": len(records) - loop.new}
        from .report import front_table

        table = front_table(objs, front, counts, hv)
        result: dict[str, Any] = {
            "trials": counts, "front": front, "hypervolume": hv,
            "reference": [o.sign * v for o, v in zip(objs, ref_signed)] if ref_signed else None,
            "objectives": [str(o) for o in objs], "strategy": strategy, "seed": seed,
            "budget": budget, "table": table, "png": None, "html": None,
            "exhausted": len(records) < budget,
            "constraints": [str(c) for c in parsed_constraints],
            **({"warm_start": {k: v for k, v in warm_info.items() if k != "points"}}
               if warm_info else {}),
            "timing": {"wall_s": wall, "evaluate_s": loop.eval_s,
                       "harness_ms_per_trial": 1000 * loop.harness_s / loop.new if loop.new
                       else None}}
        if run is not None:
            result["experiment"] = {"name": run.name, "repo": run.repo, "path": run.path,
                                    "uid": run.entry.get("uid"), "trials": run.trials_path}
            if plots and ok:
                from .report import write_html, write_png

                title = (f"{program or 'tuning'}: {strategy}, {len(records)} trials, "
                         f"{len(front)} on the front")
                points = [{"number": r["number"], "config": r["config"],
                           "describe": describe_config(space_obj, r["config"]),
                           "objectives": {o.metric: {"mean": r["values"][k],
                                                     "ci95_half": halfs[j][k]}
                                          for k, o in enumerate(objs)}}
                          for j, r in enumerate(ok)]
                result["png"] = write_png(os.path.join(run.path, "pareto.png"), objs, points,
                                          front, title)
                result["html"] = write_html(os.path.join(run.path, "pareto.html"), objs, points,
                                            front, title)
            run.update(status="done", finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       summary={"trials": counts, "hypervolume": hv,
                                "front": [p["number"] for p in front],
                                "reference": result["reference"]})
        return result
    finally:
        if run is not None:
            run.release()
