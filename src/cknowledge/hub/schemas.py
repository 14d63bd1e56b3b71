"""What the hub accepts: pydantic v2 models of a result submission and a scoreboard."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.+@=-]{0,199}$"
_METRIC = r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$"
_COMPONENT = r"^[A-Za-z0-9_][A-Za-z0-9_.+@=-]{0,199}:[A-Za-z0-9_][A-Za-z0-9_.+@=-]{0,199}$"

Scalar = str | int | float | bool | None


def _not_bool(value: Any) -> Any:
    """JSON ``true``/``false`` are not numbers (pydantic would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number; send the number")
    return value


#: a number (an integer or a float), never a boolean
Number = Annotated[float, BeforeValidator(_not_bool)]
Count = Annotated[int, BeforeValidator(_not_bool), Field(ge=1)]
#: how deep JSON values in a submission or a published meta may nest
MAX_DEPTH = 32
#: the longest text of one config value (they are shown in the scoreboard's columns)
MAX_CONFIG_TEXT = 1000


def json_problem(value: Any, where: str = "body", max_depth: int = MAX_DEPTH) -> str | None:
    """The first problem of a parsed JSON value, or None: nesting deeper than
    ``max_depth``, a number that is not finite (NaN, Infinity: JSON has no such numbers),
    an integer beyond 64 bits (databases cannot keep it exactly) or a NUL character in a
    text (PostgreSQL cannot store it)."""
    import math

    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth >= max_depth:
                return f"{path}: nested deeper than {max_depth} levels"
            if isinstance(item, dict) and any("\x00" in str(k) for k in item):
                return f"{path}: a key holds a NUL character"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((v, f"{path}.{k}", depth + 1) for k, v in pairs)
        elif isinstance(item, str) and "\x00" in item:
            return f"{path}: the text holds a NUL character"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{path}: {item} is not a finite number"
        elif isinstance(item, int) and not isinstance(item, bool) and \
                not -(1 << 63) <= item < (1 << 63):
            return f"{path}: the integer is too large (more than 64 bits)"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Checked(_Strict):
    """A whole request body: checked by ``json_problem`` before its fields are read."""

    @model_validator(mode="before")
    @classmethod
    def _plain_json(cls, data: Any) -> Any:
        problem = json_problem(data, "body")
        if problem:
            raise ValueError(problem)
        return data


class SolutionRef(_Strict):
    name: str = Field(pattern=_NAME)
    version: str = Field(min_length=1, max_length=100)


class ComponentRef(_Strict):
    component: str = Field(pattern=_COMPONENT, description="AUTOMATION:NAME")
    version: str = Field(min_length=1, max_length=100)


class Statistic(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    mean: Number
    ci95: Number | None = None
    cv: Number | None = None
    n: Count


class Platform(_Strict):
    fingerprint: str = Field(pattern=r"^[0-9a-f]{16}$", description="16 hex digits")
    facts: dict[str, Any] = Field(default_factory=dict)


class ExperimentRef(_Strict):
    uid: str = Field(min_length=1, max_length=100)
    recorded_at: str | None = None


class Submission(_Checked):
    """One benchmark result as posted to ``/api/v1/scoreboards/{name}/results``."""

    solution: SolutionRef
    components: list[ComponentRef] = Field(default_factory=list, max_length=1000)
    config: dict[str, Scalar] = Field(default_factory=dict)
    metrics: dict[str, Number] = Field(min_length=1, max_length=100)
    statistics: dict[str, Statistic] | None = None
    platform: Platform
    lockfile: dict[str, Any] | None = None
    experiment: ExperimentRef | None = None
    reference: bool = False

    @field_validator("config")
    @classmethod
    def _config(cls, value: dict[str, Scalar]) -> dict[str, Scalar]:
        if len(value) > 100:
            raise ValueError("has more than 100 keys")
        for key, item in value.items():
            if len(key) > 100 or (isinstance(item, str) and len(item) > MAX_CONFIG_TEXT):
                raise ValueError(f"{key[:100]!r}: keys may have up to 100 characters, "
                                 f"values up to {MAX_CONFIG_TEXT}")
        return value

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, value: dict[str, float]) -> dict[str, float]:
        import re

        for key in value:
            if not re.match(_METRIC, key):
                raise ValueError(f"metric name {key!r} is not valid (letters, digits, _ . -)")
        return value

    def digest(self, scoreboard: str) -> str:
        """sha256 of the canonical JSON (sorted keys) without the volatile fields (when
        the experiment was recorded): the same result posted twice has the same digest."""
        data = self.model_dump(mode="json")
        if data.get("experiment"):
            data["experiment"].pop("recorded_at", None)
        data["scoreboard"] = scoreboard
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Metric(_Strict):
    name: str = Field(pattern=_METRIC)
    unit: str = Field(default="", max_length=50)
    better: Literal["higher", "lower"]


class ScoreboardIn(_Checked):
    """A scoreboard definition as posted (by an admin) to ``/api/v1/scoreboards``."""

    name: str = Field(pattern=_NAME)
    title: str = Field(default="", max_length=400)
    description: str = Field(default="", max_length=10_000)
    metrics: list[Metric] = Field(min_length=1, max_length=50)
    config_keys: list[str] = Field(default_factory=list, max_length=50)
    required: list[str] = Field(default_factory=list)
    private: bool = False

    @model_validator(mode="after")
    def _known(self) -> ScoreboardIn:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names repeat")
        unknown = [r for r in self.required if r not in names]
        if unknown:
            raise ValueError(f"required metrics {unknown} are not among the metrics {names}")
        return self


class OwnerIn(_Checked):
    user: str = Field(min_length=1, max_length=100)


class ReaderIn(_Checked):
    """A user invited to read a private component or scoreboard."""

    user: str = Field(min_length=1, max_length=100)


class VisibilityIn(_Checked):
    private: bool


class ClaimVerdict(_Strict):
    verdict: Literal["reproduced", "not_reproduced", "not_comparable", "failed"]
    measured: Number | None = None
    points: dict[str, Number | None] | None = Field(default=None, max_length=1000)
    reason: str = Field(default="", max_length=1000)


class ReproductionIn(_Checked):
    """One reproduction of a paper, as ``ck reproduce paper:NAME --submit`` posts it to
    ``/api/v1/papers/{name}/reproductions``."""

    paper_version: str = Field(default="", max_length=100)
    claims: dict[str, ClaimVerdict] = Field(min_length=1, max_length=500)
    platform: Platform
    hardware_class: dict[str, Any] = Field(default_factory=dict)
    complete: bool = False
    cknowledge: str = Field(default="", max_length=100)
    reproduced_at: str | None = Field(default=None, max_length=40)

    @field_validator("claims")
    @classmethod
    def _ids(cls, value: dict[str, ClaimVerdict]) -> dict[str, ClaimVerdict]:
        import re

        for key in value:
            if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$", key):
                raise ValueError(f"claim id {key[:64]!r} is not valid (letters, digits, _ . -)")
        return value

    def digest(self, paper: str, submitter: str) -> str:
        """sha256 of the canonical JSON without the time, with the paper and the
        submitter: one row per reproduction (the same one by two users counts twice: it is
        evidence of two people)."""
        data = self.model_dump(mode="json")
        data.pop("reproduced_at", None)
        data["paper"] = paper
        data["submitter"] = submitter
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def problems(exc: Exception) -> str:
    """One line naming each invalid field of a pydantic ValidationError."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    out = []
    for e in errors():
        loc = ".".join(str(p) for p in e.get("loc", ())) or "body"
        out.append(f"{loc}: {e.get('msg')}")
    return "; ".join(out)
