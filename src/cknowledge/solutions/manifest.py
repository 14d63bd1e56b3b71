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

HARNESSES = ("mlperf-loadgen",)
# what each harness measures: the names a manifest's `metrics` and `reference` may use
HARNESS_METRICS = {"mlperf-loadgen": ("qps", "latency_p50_ms", "latency_p90_ms",
                                      "latency_p99_ms", "map", "energy_j")}
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

    type: Literal["str", "int"] = "str"
    default: str | int | None = None
    choices: list[str] | None = None
    min: int | None = None
    help: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> InputSpec:
        if self.type == "int" and self.choices is not None:
            raise ValueError("`choices` is for type str; an int input takes `min`")
        if self.type == "str" and self.min is not None:
            raise ValueError("`min` is for type int; a str input takes `choices`")
        if self.choices is not None and not self.choices:
            raise ValueError("`choices` is empty: list the accepted values or leave it out")
        value = self.default
        if value is None:
            return self
        if self.type == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"the default {value!r} is not a whole number")
            if self.min is not None and value < self.min:
                raise ValueError(f"the default {value} is below the input's min {self.min}")
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


class RunSpec(_Model):
    harness: Literal["mlperf-loadgen"]
    modes: list[Literal["performance", "accuracy"]] = Field(
        default=["performance", "accuracy"], min_length=1)
    python: EnvRef                                  # the managed venv's interpreter
    model: dict[str, EnvRef]                        # per backend
    dataset: EnvRef
    model_name: str                                 # the results layout's model folder
    min_duration_ms: int = Field(default=10_000, ge=0)
    timeout_s: float = Field(default=3600, gt=0)

    _model_name = field_validator("model_name")(_file_name)

    @field_validator("modes")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"a mode is listed twice: {value}")
        return value


class ValidateSpec(_Model):
    # mlperf-results: the results layout is complete, the performance run VALID with no
    # errors in LoadGen's detail log, accuracy.txt states the mAP, the system file complete
    checks: list[Literal["mlperf-results"]] = ["mlperf-results"]
    min_map: float | None = None                    # percent; below it the run fails


class Metric(_Model):
    name: str
    unit: str = ""
    better: Literal["higher", "lower"] = "higher"
    title: str = ""


class Reference(_Model):
    """A result shown beside every run: where and how it was measured."""

    label: str
    config: dict[str, str | int]
    metrics: dict[str, float]
    platform: str
    measured: str = ""
    command: str = ""


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
        for env_ref in [self.run.python, self.run.dataset, *self.run.model.values()]:
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
        known = HARNESS_METRICS[self.run.harness]
        metrics = [m.name for m in self.metrics]
        for name in metrics:
            if name not in known:
                raise MetaError(f"metric {name!r} is not measured by the {self.run.harness} "
                                f"harness (it measures: {', '.join(known)})")
        if len(set(metrics)) != len(metrics):
            raise MetaError(f"a metric is listed twice: {metrics}")
        for ref in self.reference:
            extra = sorted(set(ref.metrics) - set(metrics))
            if extra:
                raise MetaError(f"reference {ref.label!r}: metric(s) {extra} are not among "
                                f"the solution's metrics ({', '.join(metrics)})")
            extra = sorted(set(ref.config) - set(self.inputs))
            if extra:
                raise MetaError(f"reference {ref.label!r}: config key(s) {extra} are not "
                                f"inputs of the solution")
        backends = (self.inputs.get("backend") or InputSpec()).choices
        if backends:
            missing = [b for b in backends if b not in self.run.model]
            if missing:
                raise MetaError(f"the solution's run.model names no model for backend(s) "
                                f"{missing}")


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
        if spec.type == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise InvalidInput(f"{label}: --{name} must be a whole number, not "
                                   f"{value!r}") from None
            if spec.min is not None and value < spec.min:
                raise InvalidInput(f"{label}: --{name} must be at least {spec.min}, not {value}")
        else:
            value = str(value)
            if spec.choices is not None and value not in spec.choices:
                raise InvalidInput(f"{label}: --{name}={value} is not one of "
                                   f"{', '.join(spec.choices)}" + suggest(value, spec.choices))
        out[name] = value
    return out


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (``ck help solution`` and docs/solutions.md)."""
    return Manifest.model_json_schema(by_alias=True)
