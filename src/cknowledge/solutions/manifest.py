"""The solution manifest: what a ``solution`` entry's meta declares (checked by pydantic).

A solution is one benchmark made portable: the Python range it needs, the workflow steps
that prepare it (``ck init``), the harness that runs it with its inputs (``ck benchmark``),
the checks that validate a run, the file the result is written to, and the scoreboard
the result feeds. ``docs/solutions.md`` documents every field; :func:`load_manifest`
turns a shape error into one :class:`~cknowledge.errors.MetaError` line naming the field.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from ..errors import InvalidInput, MetaError
from ..versions import VersionRange

HARNESSES = ("mlperf-loadgen", "command", "workflow")
# what each harness measures itself: the names a manifest's `metrics` and `reference` may
# use without a `from` (the command and workflow harnesses time the run; every other metric
# of theirs says where it comes from: `from: json|env|regex|result`)
HARNESS_METRICS = {"mlperf-loadgen": ("qps", "latency_p50_ms", "latency_p90_ms",
                                      "latency_p99_ms", "map", "energy_j"),
                   "command": ("time",), "workflow": ("time",)}
METRIC_SOURCES = ("harness", "json", "env", "regex", "result")
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _file_name(value: str) -> str:
    if not _FILE_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a plain file name (letters, digits, '_', '-', "
                         "'.'; no folders)")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Model):
    """One input of ``ck benchmark``: a default, and choices or a lower bound."""

    type: Literal["str", "int", "float"] = "str"
    default: str | int | float | None = None
    choices: list[str] | None = None
    min: int | float | None = None
    max: int | float | None = None
    help: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        if self.type != "str" and self.choices is not None:
            raise ValueError(f"`choices` is for type str; an {self.type} input takes `min` "
                             "and `max`")
        if self.type == "str" and (self.min is not None or self.max is not None):
            raise ValueError("`min` and `max` are for numbers; a str input takes `choices`")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError(f"`max` {self.max} is below `min` {self.min}")
        if self.choices is not None and not self.choices:
            raise ValueError("`choices` is empty: list the accepted values or leave it out")
        value = self.default
        if value is None:
            return self
        if self.type in ("int", "float"):
            whole = isinstance(value, int) and not isinstance(value, bool)
            if self.type == "int" and not whole:
                raise ValueError(f"the default {value!r} is not a whole number")
            if isinstance(value, str) or isinstance(value, bool):
                raise ValueError(f"the default {value!r} is not a number")
            if self.min is not None and value < self.min:
                raise ValueError(f"the default {value} is below the input's min {self.min}")
            if self.max is not None and value > self.max:
                raise ValueError(f"the default {value} is above the input's max {self.max}")
        elif self.choices is not None and str(value) not in self.choices:
            raise ValueError(f"the default {value!r} is not one of its choices "
                             f"{', '.join(self.choices)}")
        return self


class Step(_Model):
    """A workflow step ``ck init`` prepares: a package or script found by tags."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    kind: Literal["package", "script"] = "script"
    tags: str
    version: str | None = None
    when: dict[str, list[str]] = {}   # only for these input values, e.g. {backend: [onnxruntime]}
    help: str = ""

    @field_validator("version")
    @classmethod
    def _range(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                VersionRange(value)
            except InvalidInput as exc:
                raise ValueError(exc.message) from None
        return value

    def active(self, inputs: dict[str, Any]) -> bool:
        return all(str(inputs.get(key)) in values for key, values in self.when.items())


class EnvRef(_Model):
    """Where the harness finds a value: ``step`` exports ``var``."""

    step: str
    var: str


class WorkflowSpec(_Model):
    """The workflow step a ``workflow`` run executes: ``ck run KIND`` by name or tags, with
    inputs templated from the benchmark's inputs (``"{opt}"``)."""

    kind: Literal["script", "program"] = "script"
    artifact: str | None = None                     # a name, may be templated: cbench-{program}
    tags: str | None = None
    inputs: dict[str, str | int | float | bool] = {}

    @model_validator(mode="after")
    def _one(self) -> WorkflowSpec:
        if not self.artifact and not self.tags:
            raise ValueError("name the step: `artifact` (a name) or `tags`")
        return self


_MLPERF_ONLY = ("model", "dataset", "model_name")
_GENERIC_ONLY = ("command", "workflow", "where", "cwd", "env", "repetitions", "warmup",
                 "metrics_file")


class RunSpec(_Model):
    """How ``ck benchmark`` runs the solution: the MLPerf LoadGen harness, a command (in the
    solution's managed venv or on the host) or a workflow step (script or program)."""

    harness: Literal["mlperf-loadgen", "command", "workflow"]
    modes: list[Literal["performance", "accuracy"]] = Field(
        default=["performance", "accuracy"], min_length=1)
    python: EnvRef | None = None                    # the managed venv's interpreter
    model: dict[str, EnvRef] = {}                   # per backend
    dataset: EnvRef | None = None
    model_name: str | None = None                   # the results layout's model folder
    min_duration_ms: int = Field(default=10_000, ge=0)
    timeout_s: float = Field(default=3600, gt=0)
    # command and workflow harnesses
    command: str | list[str] | None = None          # templated: {input}, {python}, {entry}, {run_dir}
    workflow: WorkflowSpec | None = None
    where: Literal["venv", "host"] = "host"         # venv: run.python's bin first on PATH
    cwd: Literal["run", "entry"] = "run"            # the run folder or the solution's entry
    env: dict[str, str] = {}                        # templated like the command
    repetitions: int = Field(default=1, ge=1)       # each a separate run; time per repetition
    warmup: int = Field(default=0, ge=0)
    metrics_file: str = "metrics.json"              # `from: json` reads it in the run folder

    _model_name = field_validator("model_name")(lambda v: v if v is None else _file_name(v))
    _metrics_file = field_validator("metrics_file")(_file_name)

    @field_validator("modes")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"a mode is listed twice: {value}")
        return value

    @model_validator(mode="after")
    def _per_harness(self) -> RunSpec:
        given = self.model_fields_set
        if self.harness == "mlperf-loadgen":
            missing = [k for k in ("python", "model", "dataset", "model_name")
                       if k not in given]
            if missing:
                raise ValueError(f"the mlperf-loadgen harness needs {', '.join(missing)}")
            extra = [k for k in _GENERIC_ONLY if k in given]
            if extra:
                raise ValueError(f"{', '.join(extra)}: not a key of the mlperf-loadgen harness "
                                 "(it is for the command and workflow harnesses)")
            return self
        extra = [k for k in (*_MLPERF_ONLY, "modes", "min_duration_ms") if k in given]
        if extra:
            raise ValueError(f"{', '.join(extra)}: not a key of the {self.harness} harness "
                             "(it is for mlperf-loadgen)")
        if self.harness == "command":
            if not self.command:
                raise ValueError("the command harness needs `command` (a string or a list)")
            if "workflow" in given:
                raise ValueError("`workflow` is for the workflow harness; the command "
                                 "harness runs `command`")
            if self.where == "venv" and self.python is None:
                raise ValueError("`where: venv` needs `python: {step, var}`: the step that "
                                 "makes the venv and the variable naming its interpreter")
        else:
            if self.workflow is None:
                raise ValueError("the workflow harness needs `workflow: {kind, artifact or "
                                 "tags, inputs}`")
            if "command" in given or "where" in given:
                raise ValueError("`command` and `where` are for the command harness")
        return self


class Rule(_Model):
    """A validation rule: a metric's mean within bounds, or within a band of a reference row."""

    metric: str
    min: float | None = None
    max: float | None = None
    reference: str | None = None                    # the label of a reference row
    within_pct: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _something(self) -> Rule:
        if self.min is None and self.max is None and self.reference is None:
            raise ValueError(f"rule on {self.metric!r} checks nothing: give min, max or "
                             "reference with within_pct")
        if (self.reference is None) != (self.within_pct is None):
            raise ValueError(f"rule on {self.metric!r}: `reference` and `within_pct` go "
                             "together (the band, in percent, around the reference's value)")
        return self

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.reference is not None:
            parts.append(f"within {self.within_pct:g}% of reference {self.reference!r}")
        return f"{self.metric} " + " and ".join(parts)


class ValidateSpec(_Model):
    # mlperf-results: the results layout is complete, the performance run VALID with no
    # errors in LoadGen's detail log, accuracy.txt states the mAP, the system file complete
    # (default for the mlperf-loadgen harness; none for the others)
    checks: list[Literal["mlperf-results"]] | None = None
    min_map: float | None = None                    # percent; below it the run fails
    rules: list[Rule] = []


class Metric(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    unit: str = ""
    better: Literal["higher", "lower"] = "higher"
    title: str = ""
    # where a command or workflow run's value comes from (see docs/solutions.md)
    from_: Literal["harness", "json", "env", "regex", "result"] | None = Field(
        default=None, alias="from")
    key: str | None = None                          # json: dotted key; result: key; env: name
    pattern: str | None = None                      # regex: group 1 (or `value`), last match

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value, re.MULTILINE)
            except re.error as exc:
                raise ValueError(f"the pattern {value!r} is not a regular expression: "
                                 f"{exc}") from None
            if compiled.groups < 1:
                raise ValueError(f"the pattern {value!r} has no group: put the number in "
                                 "( ) or (?P<value> )")
        return value


class Reference(_Model):
    """A result shown beside every run: where and how it was measured."""

    label: str
    config: dict[str, str | int]
    metrics: dict[str, float]
    platform: str
    measured: str = ""
    command: str = ""


class TuneSpec(_Model):
    """Defaults of ``ck autotune solution:X``: the inputs to search (``space``: input name ->
    ``{values: [...]}`` or ``{low, high, step, log}``), objectives and constraints."""

    space: dict[str, dict[str, Any]] = {}
    objectives: str | None = None
    constraints: list[str] = []


class Manifest(_Model):
    title: str = ""
    description: str = ""
    python: str = ">=3.10"
    inputs: dict[str, InputSpec] = {}
    prepare: list[Step]
    run: RunSpec
    validate_: ValidateSpec = Field(default_factory=ValidateSpec, alias="validate")
    result: str = "result.json"                     # a file in the run folder
    scoreboard: str
    metrics: list[Metric]
    reference: list[Reference] = []
    tune: TuneSpec | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    _result = field_validator("result")(_file_name)

    @field_validator("python")
    @classmethod
    def _python(cls, value: str) -> str:
        try:
            VersionRange(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return value

    def step(self, name: str) -> Step:
        for step in self.prepare:
            if step.name == name:
                return step
        raise MetaError(f"the solution's run names step {name!r}, which `prepare` does not "
                        f"declare (declared: {', '.join(s.name for s in self.prepare)})")

    def check_refs(self) -> None:
        names = [s.name for s in self.prepare]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise MetaError(f"the solution's prepare steps repeat the name(s) {sorted(dup)}")
        refs = [self.run.python, self.run.dataset, *self.run.model.values()]
        for env_ref in refs:
            if env_ref is not None:
                self.step(env_ref.step)
        for step in self.prepare:
            for key, values in step.when.items():
                spec = self.inputs.get(key)
                if spec is None:
                    raise MetaError(f"prepare step {step.name!r}: `when` names the input "
                                    f"{key!r}, which `inputs` does not declare (declared: "
                                    f"{', '.join(sorted(self.inputs)) or 'none'})")
                bad = [v for v in values if spec.choices is not None and v not in spec.choices]
                if bad:
                    raise MetaError(f"prepare step {step.name!r}: `when` {key}: {bad} is not "
                                    f"among the input's choices {spec.choices}")
        self._check_metrics()
        self._check_rules()
        metrics = [m.name for m in self.metrics]
        for ref in self.reference:
            extra = sorted(set(ref.metrics) - set(metrics))
            if extra:
                raise MetaError(f"reference {ref.label!r}: metric(s) {extra} are not among "
                                f"the solution's metrics ({', '.join(metrics)})")
            extra = sorted(set(ref.config) - set(self.inputs))
            if extra:
                raise MetaError(f"reference {ref.label!r}: config key(s) {extra} are not "
                                f"inputs of the solution")
        if self.run.harness == "mlperf-loadgen":
            backends = (self.inputs.get("backend") or InputSpec()).choices
            missing = [b for b in backends or [] if b not in self.run.model]
            if missing:
                raise MetaError(f"the solution's run.model names no model for backend(s) "
                                f"{missing}")
        elif "mlperf-results" in (self.validate_.checks or []):
            raise MetaError(f"validate.checks: mlperf-results checks the MLPerf results "
                            f"layout, which the {self.run.harness} harness does not write; "
                            "use validate.rules")
        if self.tune is not None:
            extra = sorted(set(self.tune.space) - set(self.inputs))
            if extra:
                raise MetaError(f"tune.space: {extra} are not inputs of the solution "
                                f"(inputs: {', '.join(sorted(self.inputs)) or 'none'})")

    def _check_metrics(self) -> None:
        harness = self.run.harness
        known = HARNESS_METRICS[harness]
        metrics = [m.name for m in self.metrics]
        if len(set(metrics)) != len(metrics):
            raise MetaError(f"a metric is listed twice: {metrics}")
        for m in self.metrics:
            source = m.from_
            if harness == "mlperf-loadgen":
                if source not in (None, "harness") or m.key or m.pattern:
                    raise MetaError(f"metric {m.name!r}: `from`, `key` and `pattern` are for "
                                    "the command and workflow harnesses")
                if m.name not in known:
                    raise MetaError(f"metric {m.name!r} is not measured by the {harness} "
                                    f"harness (it measures: {', '.join(known)})")
                continue
            if source in (None, "harness"):
                if m.name not in known:
                    raise MetaError(f"metric {m.name!r} needs `from: json|env|regex"
                                    + ("|result" if harness == "workflow" else "")
                                    + f"` (the {harness} harness itself measures only "
                                    f"{', '.join(known)})")
            elif source == "regex" and not m.pattern:
                raise MetaError(f"metric {m.name!r}: `from: regex` needs a `pattern` with "
                                "one group")
            elif source in ("json", "regex") and harness == "workflow":
                raise MetaError(f"metric {m.name!r}: `from: {source}` reads what a command "
                                "writes; a workflow step's metrics come `from: result` or "
                                "`from: env`")
            elif source == "result" and harness != "workflow":
                raise MetaError(f"metric {m.name!r}: `from: result` reads the workflow "
                                "step's result; the command harness has none (use json, "
                                "env or regex)")
            if m.pattern and source != "regex":
                raise MetaError(f"metric {m.name!r}: `pattern` goes with `from: regex`")

    def _check_rules(self) -> None:
        names = [m.name for m in self.metrics]
        labels = {r.label: r for r in self.reference}
        for rule in self.validate_.rules:
            if rule.metric not in names:
                raise MetaError(f"validate.rules: metric {rule.metric!r} is not among the "
                                f"solution's metrics ({', '.join(names)})")
            if rule.reference is not None:
                ref = labels.get(rule.reference)
                if ref is None:
                    raise MetaError(f"validate.rules: no reference row labelled "
                                    f"{rule.reference!r} (labels: "
                                    f"{', '.join(labels) or 'none'})")
                if rule.metric not in ref.metrics:
                    raise MetaError(f"validate.rules: reference {rule.reference!r} has no "
                                    f"value for {rule.metric!r}")

    @property
    def checks(self) -> list[str]:
        given = self.validate_.checks
        if given is None:
            return ["mlperf-results"] if self.run.harness == "mlperf-loadgen" else []
        return list(given)


_IDENTITY = ("alias", "uid", "automation", "tags", "name", "summary", "version")


def load_manifest(entry: dict[str, Any]) -> Manifest:
    """The manifest of a loaded ``solution`` entry, or one MetaError line naming the field."""
    meta = {k: v for k, v in (entry.get("meta") or {}).items() if k not in _IDENTITY}
    label = f"solution:{entry.get('name')}"
    try:
        manifest = Manifest.model_validate(meta)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise MetaError(f"{label}: meta field {where}: {first['msg']} "
                        f"({exc.error_count()} problem(s); see docs/solutions.md)") from None
    try:
        manifest.check_refs()
    except MetaError as exc:
        raise MetaError(f"{label}: {exc.message}") from None
    return manifest


def bind_inputs(manifest: Manifest, given: dict[str, Any], label: str) -> dict[str, Any]:
    """The benchmark's inputs: given values checked against the manifest, defaults filled."""
    from ..errors import suggest

    if "no_tags" in given:  # `-x` on the command line excludes a tag when finding entries
        flags = given["no_tags"] if isinstance(given["no_tags"], list) else [given["no_tags"]]
        raise InvalidInput(f"{label} takes no option -{flags[0]} (a single '-' excludes a tag "
                           "when finding entries); write inputs as --NAME=VALUE, and --quiet "
                           "to hide progress")
    unknown = [k for k in given if k not in manifest.inputs]
    if unknown:
        known = sorted(manifest.inputs)
        raise InvalidInput(f"{label} has no input --{unknown[0]}; its inputs: "
                           + ", ".join(f"--{k}" for k in known) + suggest(unknown[0], known))
    out: dict[str, Any] = {}
    for name, spec in manifest.inputs.items():
        value = given.get(name, spec.default)
        if value is None:
            out[name] = None
            continue
        if spec.type in ("int", "float"):
            value = _number(value, spec.type, f"{label}: --{name}")
            if spec.min is not None and value < spec.min:
                raise InvalidInput(f"{label}: --{name} must be at least {spec.min}, not {value}")
            if spec.max is not None and value > spec.max:
                raise InvalidInput(f"{label}: --{name} must be at most {spec.max}, not {value}")
        else:
            value = str(value)
            if spec.choices is not None and value not in spec.choices:
                raise InvalidInput(f"{label}: --{name}={value} is not one of "
                                   f"{', '.join(spec.choices)}" + suggest(value, spec.choices))
        out[name] = value
    return out


def _number(value: Any, kind: str, what: str) -> int | float:
    import math

    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, not {value!r}")
    try:
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(value)
                return int(value)
            return int(value)
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a {'whole ' if kind == 'int' else ''}number, "
                           f"not {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what} must be a finite number, not {value!r}")
    return number


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (``ck help solution`` and docs/solutions.md)."""
    return Manifest.model_json_schema(by_alias=True)
