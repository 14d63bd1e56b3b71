"""Search strategies behind one ask/tell interface.

``random``  uniform samples (seeded), never a configuration already tried while untried
            ones remain;
``grid``    every combination in declared order (a float choice takes ``grid`` values),
            skipping those already tried; the budget caps it;
``tpe``     Optuna's TPE sampler (seeded), multi-objective when there are several;
``nsga2``   Optuna's NSGA-II sampler (seeded); its population is an eighth of the budget,
            between 4 and 50, so that small budgets still evolve for several generations
            (on bench/solutions.py's 6-parameter problem with 100 trials, populations of
            8-16 reached a better front than 25).

A strategy is rebuilt from the recorded trials on ``--resume``: :meth:`Strategy.replay`
feeds each finished trial in (Optuna strategies add them to a fresh in-memory study),
then :meth:`Strategy.ask` and :meth:`Strategy.tell` go on. Optuna is imported only for its
strategies, with its logging silenced.
"""

from __future__ import annotations

import math
import random as _random

from ..errors import InvalidInput
from .space import config_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any

    from .space import Objective, Space

STRATEGIES = ("random", "grid", "tpe", "nsga2")
_MAX_REPEATS = 50


class Suggestion:
    """A configuration to evaluate, with what the strategy needs back at ``tell``."""

    __slots__ = ("config", "ticket")

    def __init__(self, config: dict[str, Any], ticket: Any = None) -> None:
        self.config = config
        self.ticket = ticket


class Strategy:
    name = ""

    def __init__(self, space: Space, objectives: Sequence[Objective], seed: int, budget: int,
                 fixed: dict[str, Any] | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.space = space
        self.objectives = list(objectives)
        self.seed = seed
        self.budget = budget
        self.fixed = dict(fixed or {})
        self.options = dict(options or {})
        self.seen: dict[str, list[float] | None] = {}   # finished: key → values (None: failed)
        self.pending: set[str] = set()
        self.queue: list[dict[str, Any]] = []           # configurations to try first

    def _exhausted(self) -> bool:
        size = self.space.size()
        for name in self.fixed:  # a fixed choice has one value
            choice = self.space.choices[name]
            if choice.type != "float":
                size /= len(choice.values)
        return len(self.seen) + len(self.pending) >= size

    def replay(self, config: dict[str, Any], values: list[float] | None) -> None:
        self.seen[config_key(config)] = values

    def ask(self) -> Suggestion | None:
        raise NotImplementedError

    def tell(self, suggestion: Suggestion, values: list[float] | None) -> None:
        key = config_key(suggestion.config)
        self.pending.discard(key)
        self.seen[key] = values

    def warm(self, config: dict[str, Any], values: list[float]) -> None:
        """Learn from a result measured elsewhere (another platform, from the hub): it
        informs the model-based strategies and is never counted as tried here."""

    def enqueue(self, config: dict[str, Any]) -> None:
        """Try ``config`` before the strategy's own choices (a warm start's best guesses)."""
        self.queue.append(self.space.complete({**config, **self.fixed}))

    def _queued(self) -> Suggestion | None:
        while self.queue:
            config = self.queue.pop(0)
            key = config_key(config)
            if key not in self.seen and key not in self.pending:
                self.pending.add(key)
                return Suggestion(config)
        return None


class RandomStrategy(Strategy):
    name = "random"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.rng = _random.Random(self.seed)
        self._replayed = 0

    def replay(self, config: dict[str, Any], values: list[float] | None) -> None:
        super().replay(config, values)
        self._replayed += 1
        self.rng = _random.Random(f"{self.seed}/{self._replayed}")

    def ask(self) -> Suggestion | None:
        if self._exhausted():
            return None
        queued = self._queued()
        if queued is not None:
            return queued
        config = self.space.sample(self.rng, self.fixed)
        for _ in range(1000):
            key = config_key(config)
            if key not in self.seen and key not in self.pending:
                break
            config = self.space.sample(self.rng, self.fixed)
        self.pending.add(config_key(config))
        return Suggestion(config)


class GridStrategy(Strategy):
    name = "grid"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._iter: Iterator[dict[str, Any]] = self.space.grid(self.fixed)

    def ask(self) -> Suggestion | None:
        queued = self._queued()
        if queued is not None:
            return queued
        for config in self._iter:
            key = config_key(config)
            if key not in self.seen and key not in self.pending:
                self.pending.add(key)
                return Suggestion(config)
        return None


def _quiet_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise InvalidInput("the tpe and nsga2 strategies need Optuna: pip install "
                           "'cknowledge[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    optuna.logging.disable_default_handler()
    import warnings

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


class OptunaStrategy(Strategy):
    """Ask/tell over an in-memory Optuna study."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        optuna = _quiet_optuna()
        self.optuna = optuna
        self.dists = self.space.distributions(self.fixed)
        directions = ["minimize" if o.direction == "min" else "maximize"
                      for o in self.objectives]
        self.study = optuna.create_study(directions=directions, sampler=self.sampler())
        self._free = [n for n in self.space.choices if n not in self.fixed]

    def sampler(self) -> Any:
        raise NotImplementedError

    def _params(self, config: dict[str, Any]) -> dict[str, Any] | None:
        params = {}
        for name in self._free:
            if name not in config:
                return None
            value = config[name]
            dist = self.dists[name]
            try:
                if not dist._contains(dist.to_internal_repr(value)):
                    return None
            except (ValueError, TypeError):
                return None
            params[name] = value
        return params

    def replay(self, config: dict[str, Any], values: list[float] | None) -> None:
        super().replay(config, values)
        params = self._params(config)
        if params is None or any(config.get(k) != v for k, v in self.fixed.items()):
            return  # recorded under another space: counts for the budget, not the model
        from optuna.trial import TrialState, create_trial

        try:
            if values is None:
                trial = create_trial(state=TrialState.FAIL, params=params,
                                     distributions=self.dists)
            else:
                trial = create_trial(values=values, params=params, distributions=self.dists)
            self.study.add_trial(trial)
        except (ValueError, TypeError):
            pass

    def warm(self, config: dict[str, Any], values: list[float]) -> None:
        params = self._params(self.space.complete({**config, **self.fixed}))
        if params is None or not all(math.isfinite(v) for v in values):
            return
        from optuna.trial import create_trial

        try:
            self.study.add_trial(create_trial(values=list(values), params=params,
                                              distributions=self.dists))
        except (ValueError, TypeError):
            pass

    def enqueue(self, config: dict[str, Any]) -> None:
        params = self._params(self.space.complete({**config, **self.fixed}))
        if params is not None:
            self.study.enqueue_trial(params, skip_if_exists=False)

    def ask(self) -> Suggestion | None:
        if self._exhausted():
            return None
        from optuna.trial import TrialState

        for _ in range(_MAX_REPEATS):
            trial = self.study.ask(self.dists)
            config = self.space.complete({**trial.params, **self.fixed})
            key = config_key(config)
            if key in self.seen:      # tried already: the model learns it again, for free
                known = self.seen[key]
                if known is None:
                    self.study.tell(trial, state=TrialState.FAIL)
                else:
                    self.study.tell(trial, known)
                continue
            if key in self.pending:   # being evaluated by another worker
                self.study.tell(trial, state=TrialState.PRUNED)
                continue
            break
        else:  # the sampler keeps repeating itself: evaluate the repeat once more
            trial = self.study.ask(self.dists)
            config = self.space.complete({**trial.params, **self.fixed})
            key = config_key(config)
        self.pending.add(key)
        return Suggestion(config, trial)

    def tell(self, suggestion: Suggestion, values: list[float] | None) -> None:
        super().tell(suggestion, values)
        from optuna.trial import TrialState

        if values is None or not all(math.isfinite(v) for v in values):
            self.study.tell(suggestion.ticket, state=TrialState.FAIL)
        else:
            self.study.tell(suggestion.ticket, values)


class TPEStrategy(OptunaStrategy):
    name = "tpe"

    def sampler(self) -> Any:
        startup = int(self.options.get("n_startup_trials", min(10, max(4, self.budget // 8))))
        return self.optuna.samplers.TPESampler(
            seed=self.seed, n_startup_trials=startup,
            multivariate=bool(self.options.get("multivariate", True)),
            constant_liar=True)


class NSGA2Strategy(OptunaStrategy):
    name = "nsga2"

    def sampler(self) -> Any:
        population = int(self.options.get("population_size", min(50, max(4, self.budget // 8))))
        return self.optuna.samplers.NSGAIISampler(seed=self.seed, population_size=population)


_CLASSES: dict[str, type[Strategy]] = {"random": RandomStrategy, "grid": GridStrategy,
                                       "tpe": TPEStrategy, "nsga2": NSGA2Strategy}


def check_strategy(name: Any) -> str:
    from .space import _valid

    text = str(name or "").strip().lower()
    if text not in _CLASSES:
        raise InvalidInput(f"unknown strategy {name!r}" + _valid(str(name), STRATEGIES))
    return text


def make_strategy(name: str, space: Space, objectives: Sequence[Objective], seed: int,
                  budget: int, fixed: dict[str, Any] | None = None,
                  options: dict[str, Any] | None = None) -> Strategy:
    return _CLASSES[check_strategy(name)](space, objectives, seed, budget, fixed, options)
