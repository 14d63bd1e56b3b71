"""The solution manifest: what a ``solution`` entry's meta declares (checked by pydantic).

A solution is one benchmark made portable: the Python range it needs, the workflow steps
that prepare it (``ck init``), the harness that runs it with its inputs (``ck benchmark``),
the checks that validate a run, the file the result is written to, and the scoreboard
the result feeds. ``docs/solutions.md`` documents every field; :func:`load_manifest`
turns a shape error into one :class:`~cknowledge.errors.MetaError` line naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InvalidInput, MetaError
from ..versions import VersionRange

HARNESSES = ("mlperf-loadgen",)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_Model):
    """One input of ``ck benchmark``: a default, and choices or a lower bound."""

    type: Literal["str", "int"] = "str"
    default: str | int | None = None
    choices: list[str] | None = None
    min: int | None = None
    help: str = ""


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
    modes: list[Literal["performance", "accuracy"]] = ["performance", "accuracy"]
    python: EnvRef                                  # the managed venv's interpreter
    model: dict[str, EnvRef]                        # per backend
    dataset: EnvRef
    model_name: str                                 # the results layout's model folder
    min_duration_ms: int = Field(default=10_000, ge=0)
    timeout_s: float = Field(default=3600, gt=0)


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
    result: str = "result.json"
    scoreboard: str
    metrics: list[Metric]
    reference: list[Reference] = []

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

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
        for ref in [self.run.python, self.run.dataset, *self.run.model.values()]:
            self.step(ref.step)
        backends = (self.inputs.get("backend") or InputSpec()).choices
        if backends:
            missing = [b for b in backends if b not in self.run.model]
            if missing:
                raise MetaError(f"the solution's run.model names no model for backend(s) "
                                f"{missing}")


_FIELDS = {"solution": "solution"}  # the meta keys that are not part of the manifest
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
