"""Search spaces and objectives, validated before anything runs.

A space is YAML or JSON (a file given with ``--space=FILE``, the ``space.yaml`` /
``space.json`` file in a program's entry folder, or the ``tune: {space: ...}`` section of
its meta)::

    choices:
      opt:            {type: categorical, values: ["-O0", "-O1", "-O2", "-O3", "-Os"]}
      unroll:         {type: flag, flag: "-funroll-loops"}
      frame-pointer:  {type: flag, flag: "-fomit-frame-pointer", off: "-fno-omit-frame-pointer"}
      unroll-times:   {type: int, low: 2, high: 16, step: 2,
                       format: "--param=max-unroll-times={value}"}
      threshold:      {type: float, low: 0.01, high: 1.0, log: true, grid: 4}

Choice types: ``categorical`` (``values``: strings, numbers or booleans), ``int`` (``low``,
``high``, optional ``step``), ``float`` (``low``, ``high``, optional ``log``; ``grid``: how
many values the grid strategy takes, default 5) and ``flag`` (on/off; ``flag``: the text
added when on, ``off``: optional text added when off).

How a trial's configuration maps to a program's ``--opt`` and ``--flags`` (what
:func:`cknowledge.experiments.measure.measure_program` takes): every choice has a target,
``to: opt`` or ``to: flags``; the choice named ``opt`` goes to ``opt`` unless it says
otherwise, every other choice to ``flags``. The text a choice contributes is its
``format`` (default ``"{value}"``) filled with its value; a flag contributes its ``flag``
when on and its ``off`` (if any) when off; an empty text contributes nothing; ``int`` and
``float`` choices that go to ``flags`` need a ``format``. ``flags`` is the contributions
joined by spaces, in the order the choices are declared (a space may also give ``base_flags``,
put first). A choice with ``to: none`` contributes nothing: it is only passed to an
evaluator given by the caller (threads, batch sizes, model variants).

Objectives are ``METRIC:DIRECTION`` separated by commas (``time:min,size:min``); the
direction is ``min`` or ``max`` (default ``min``).
"""

from __future__ import annotations

import itertools
import json
import math
import os

from ..errors import InvalidInput, suggest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from random import Random
    from typing import Any

CHOICE_TYPES = ("categorical", "int", "float", "flag")
TARGETS = ("opt", "flags", "none")
_COMMON_KEYS = ("type", "to", "format", "help", "default")
CHOICE_KEYS: dict[str, tuple[str, ...]] = {
    "categorical": _COMMON_KEYS + ("values",),
    "int": _COMMON_KEYS + ("low", "high", "step"),
    "float": _COMMON_KEYS + ("low", "high", "log", "grid"),
    "flag": ("type", "to", "flag", "off", "help", "default"),
}
SPACE_KEYS = ("choices", "base_flags", "objectives", "summary")
DIRECTIONS = ("min", "max")


def _valid(word: str, valid: Sequence[str]) -> str:
    return f"{suggest(word, valid)}; valid: {', '.join(valid)}"


class Choice:
    """One dimension of a space."""

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name = name
        if not isinstance(spec, dict):
            raise InvalidInput(f"space choice {name!r} must be a mapping with a 'type'")
        every = sorted({k for keys in CHOICE_KEYS.values() for k in keys})
        for key in spec:
            if key not in every:
                raise InvalidInput(f"space choice {name!r} has an unknown key {key!r}"
                                   + _valid(str(key), every))
        kind = spec.get("type")
        if kind is None:
            kind = "flag" if "flag" in spec else ("categorical" if "values" in spec else None)
        if kind not in CHOICE_TYPES:
            raise InvalidInput(f"space choice {name!r} has an unknown type {kind!r}"
                               + _valid(str(kind), CHOICE_TYPES))
        self.type: str = kind
        allowed = CHOICE_KEYS[kind]
        for key in spec:
            if key not in allowed:
                raise InvalidInput(f"space choice {name!r} ({kind}) has an unknown key {key!r}"
                                   + _valid(str(key), allowed))
        self.target: str = str(spec.get("to") or ("opt" if name == "opt" else "flags"))
        if self.target not in TARGETS:
            raise InvalidInput(f"space choice {name!r}: 'to' must be one of "
                               f"{', '.join(TARGETS)}, not {self.target!r}")
        self.format: str | None = None if spec.get("format") is None else str(spec["format"])
        if self.format is not None:
            try:
                self.format.format(value=0)
            except (KeyError, IndexError, ValueError) as exc:
                raise InvalidInput(f"space choice {name!r}: format {self.format!r} is not "
                                   "valid (the only placeholder is {value}): "
                                   f"{type(exc).__name__} {exc}") from None
        self.values: list[Any] = []
        self.low: float = 0.0
        self.high: float = 0.0
        self.step: int = 1
        self.log = False
        self.grid_points = 5
        self.flag = ""
        self.off = ""
        if kind == "categorical":
            values = spec.get("values")
            if not isinstance(values, list) or not values:
                raise InvalidInput(f"space choice {name!r} needs a non-empty list 'values'")
            for v in values:
                if v is not None and not isinstance(v, (str, int, float, bool)):
                    raise InvalidInput(f"space choice {name!r}: value {v!r} is not a string, "
                                       "number or boolean")
            if len({json.dumps(v) for v in values}) != len(values):
                raise InvalidInput(f"space choice {name!r} lists a value twice")
            self.values = list(values)
        elif kind in ("int", "float"):
            for key in ("low", "high"):
                if not isinstance(spec.get(key), (int, float)) or isinstance(spec.get(key), bool):
                    raise InvalidInput(f"space choice {name!r} ({kind}) needs a number '{key}'")
            self.low, self.high = spec["low"], spec["high"]
            if self.low > self.high:
                raise InvalidInput(f"space choice {name!r}: low {self.low} is above high "
                                   f"{self.high}")
            if kind == "int":
                if int(self.low) != self.low or int(self.high) != self.high:
                    raise InvalidInput(f"space choice {name!r} (int): low and high must be "
                                       "integers")
                self.low, self.high = int(self.low), int(self.high)
                step = spec.get("step", 1)
                if not isinstance(step, int) or isinstance(step, bool) or step < 1:
                    raise InvalidInput(f"space choice {name!r}: step must be a positive integer")
                self.step = step
                self.values = list(range(int(self.low), int(self.high) + 1, step))
            else:
                self.log = bool(spec.get("log", False))
                if self.log and self.low <= 0:
                    raise InvalidInput(f"space choice {name!r}: a log range needs low > 0")
                grid = spec.get("grid", 5)
                if not isinstance(grid, int) or isinstance(grid, bool) or grid < 1:
                    raise InvalidInput(f"space choice {name!r}: grid must be a positive integer")
                self.grid_points = grid
            if self.target == "flags" and self.format is None:
                raise InvalidInput(f"space choice {name!r} ({kind}) goes to the flags and needs "
                                   "a 'format' such as \"--param=NAME={value}\"")
        else:  # flag
            flag = spec.get("flag")
            if not isinstance(flag, str) or not flag.strip():
                raise InvalidInput(f"space choice {name!r} (flag) needs the text 'flag'")
            self.flag = flag.strip()
            self.off = str(spec.get("off") or "").strip()
            self.values = [False, True]

    # -- values ---------------------------------------------------------------------------
    def grid(self) -> list[Any]:
        if self.type == "float":
            n = self.grid_points
            if n == 1:
                return [self.low]
            if self.log:
                a, b = math.log(self.low), math.log(self.high)
                return [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
            return [self.low + (self.high - self.low) * i / (n - 1) for i in range(n)]
        return list(self.values)

    def sample(self, rng: Random) -> Any:
        if self.type == "float":
            if self.log:
                return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
            return rng.uniform(self.low, self.high)
        return self.values[rng.randrange(len(self.values))]

    def check(self, value: Any) -> Any:
        """``value`` as this choice holds it, or InvalidInput."""
        if self.type == "flag":
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in ("true", "on", "yes", "1"):
                return True
            if text in ("false", "off", "no", "0"):
                return False
        elif self.type == "categorical":
            for v in self.values:
                if v == value or (isinstance(value, str) and json.dumps(v).strip('"') == value):
                    return v
        else:
            try:
                number = int(value) if self.type == "int" else float(value)
            except (TypeError, ValueError):
                number = None
            if number is not None and self.low <= number <= self.high and (
                    self.type == "float" or (number - int(self.low)) % self.step == 0):
                return number
        shown = (f"{self.low}..{self.high}" if self.type in ("int", "float")
                 else ", ".join(json.dumps(v) for v in self.values))
        raise InvalidInput(f"{value!r} is not a value of choice {self.name!r} (valid: {shown})")

    def text(self, value: Any) -> str:
        if self.type == "flag":
            return self.flag if value else self.off
        if value is None or value == "":
            return ""
        return (self.format or "{value}").format(value=value).strip()

    def distribution(self) -> Any:
        from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                          IntDistribution)

        if self.type == "float":
            return FloatDistribution(self.low, self.high, log=self.log)
        if self.type == "int":
            return IntDistribution(int(self.low), int(self.high), step=self.step)
        return CategoricalDistribution(list(self.values))

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "to": self.target}
        if self.type == "flag":
            out["flag"] = self.flag
            if self.off:
                out["off"] = self.off
        elif self.type == "categorical":
            out["values"] = list(self.values)
        else:
            out.update(low=self.low, high=self.high)
            if self.type == "int":
                out["step"] = self.step
            else:
                out.update(log=self.log, grid=self.grid_points)
        if self.format is not None:
            out["format"] = self.format
        return out


class Space:
    """The choices of a tuning run, in declared order."""

    def __init__(self, data: dict[str, Any], source: str = "space") -> None:
        if not isinstance(data, dict):
            raise InvalidInput(f"{source}: a space must be a mapping with 'choices'")
        for key in data:
            if key not in SPACE_KEYS:
                raise InvalidInput(f"{source}: unknown key {key!r}" + _valid(str(key), SPACE_KEYS))
        choices = data.get("choices")
        if not isinstance(choices, dict) or not choices:
            raise InvalidInput(f"{source}: 'choices' must be a non-empty mapping")
        self.source = source
        self.choices: dict[str, Choice] = {str(k): Choice(str(k), v) for k, v in choices.items()}
        base = data.get("base_flags") or ""
        self.base_flags = " ".join(base) if isinstance(base, list) else str(base)
        self.objectives = data.get("objectives")
        targets = [c.name for c in self.choices.values() if c.target == "opt"]
        if len(targets) > 1:
            raise InvalidInput(f"{source}: only one choice can go to opt, not {', '.join(targets)}")

    @property
    def names(self) -> list[str]:
        return list(self.choices)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"choices": {n: c.describe() for n, c in self.choices.items()}}
        if self.base_flags:
            out["base_flags"] = self.base_flags
        return out

    def size(self) -> float:
        """How many distinct configurations (inf with a float choice)."""
        total = 1.0
        for c in self.choices.values():
            if c.type == "float":
                return math.inf
            total *= len(c.values)
        return total

    def check_keys(self, keys: Sequence[str], what: str) -> None:
        for key in keys:
            if key not in self.choices:
                raise InvalidInput(f"{what}: unknown choice {key!r}"
                                   + _valid(str(key), self.names))

    def check_config(self, config: dict[str, Any], what: str = "configuration") -> dict[str, Any]:
        self.check_keys(list(config), what)
        return {k: self.choices[k].check(v) for k, v in config.items()}

    def complete(self, config: dict[str, Any]) -> dict[str, Any]:
        """A full configuration in declared order (missing choices: their first value)."""
        return {n: config[n] if n in config else c.grid()[0] for n, c in self.choices.items()}

    def sample(self, rng: Random, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
        fixed = fixed or {}
        return {n: fixed[n] if n in fixed else c.sample(rng) for n, c in self.choices.items()}

    def grid(self, fixed: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        fixed = fixed or {}
        axes = [[fixed[n]] if n in fixed else c.grid() for n, c in self.choices.items()]
        for combo in itertools.product(*axes):
            yield dict(zip(self.choices, combo))

    def distributions(self, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
        fixed = fixed or {}
        return {n: c.distribution() for n, c in self.choices.items() if n not in fixed}

    def program_args(self, config: dict[str, Any]) -> tuple[str | None, str]:
        """(opt, flags) for ``measure_program``: see the module's documentation."""
        opt: str | None = None
        parts = [self.base_flags] if self.base_flags else []
        for name, choice in self.choices.items():
            if name not in config or choice.target == "none":
                continue
            text = choice.text(config[name])
            if choice.target == "opt":
                opt = text or None
            elif text:
                parts.append(text)
        return opt, " ".join(parts)


def config_key(config: dict[str, Any]) -> str:
    """A canonical text of a configuration (to find repeats)."""
    return json.dumps(config, sort_keys=True, default=str)


def load_space(source: Any, base_dir: str | None = None) -> Space:
    """A space from a dict, a JSON/YAML file path, or inline JSON text."""
    if isinstance(source, Space):
        return source
    if isinstance(source, dict):
        data = source.get("space", source) if "choices" not in source else source
        return Space(data, "space")
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("--space must be a file (YAML or JSON) or a mapping")
    text = source.strip()
    if text.startswith("{"):
        try:
            return Space(json.loads(text), "--space")
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--space is not valid JSON: {exc}") from None
    path = text if os.path.isabs(text) or base_dir is None else os.path.join(base_dir, text)
    if not os.path.isfile(path):
        raise InvalidInput(f"space file {text} not found")
    from ..store.metaio import read_meta

    try:
        data = read_meta(path)
    except Exception as exc:  # MetaError and the like: one line naming the file
        raise InvalidInput(f"cannot read the space file {path}: {exc}") from None
    if "choices" not in data and isinstance(data.get("space"), dict):
        data = data["space"]
    return Space(data, path)


class Objective:
    def __init__(self, metric: str, direction: str) -> None:
        self.metric, self.direction = metric, direction

    @property
    def sign(self) -> float:
        """+1 for min, -1 for max: ``sign * value`` is always minimised."""
        return 1.0 if self.direction == "min" else -1.0

    def __str__(self) -> str:
        return f"{self.metric}:{self.direction}"

    def __repr__(self) -> str:
        return f"Objective({self.metric!r}, {self.direction!r})"


def parse_objectives(text: Any, metrics: Sequence[str]) -> list[Objective]:
    """``time:min,size:min`` (or a list of such items) → objectives; unknown metrics and
    directions are errors listing the valid ones."""
    if text is None or text == "" or text is True:
        raise InvalidInput("give --objectives=METRIC:min|max[,...]; metrics: " + ", ".join(metrics))
    items = text if isinstance(text, list) else str(text).split(",")
    out: list[Objective] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        metric, _, direction = item.partition(":")
        metric, direction = metric.strip(), (direction.strip() or "min").lower()
        if metric not in metrics:
            raise InvalidInput(f"unknown objective metric {metric!r}" + _valid(metric, metrics))
        if direction not in DIRECTIONS:
            raise InvalidInput(f"objective {metric!r}: unknown direction {direction!r}"
                               + _valid(direction, DIRECTIONS))
        if any(o.metric == metric for o in out):
            raise InvalidInput(f"objective {metric!r} is given twice")
        out.append(Objective(metric, direction))
    if not out:
        raise InvalidInput("give at least one objective: --objectives=METRIC:min|max")
    return out
