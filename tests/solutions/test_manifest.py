"""The solution manifest: shape errors name the field; inputs are checked before anything runs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from cknowledge.errors import InvalidInput, MetaError
from cknowledge.solutions.manifest import bind_inputs, json_schema, load_manifest

BUILTIN = Path(__file__).resolve().parents[2] / "src/cknowledge/builtin/solution"


def flagship() -> dict[str, Any]:
    meta = yaml.safe_load((BUILTIN / "mlperf-object-detection/meta.yaml").read_text())
    return {"name": "mlperf-object-detection", "meta": meta}


def test_the_flagship_manifest_is_valid() -> None:
    m = load_manifest(flagship())
    assert [s.name for s in m.prepare][:1] == ["runtime"]
    assert set(m.run.model) == {"tensorflow", "onnxruntime"}
    assert m.scoreboard == "mlperf-object-detection"
    assert {x.name for x in m.metrics} >= {"qps", "latency_p90_ms", "map"}


@pytest.mark.parametrize("change, field", [
    (lambda m: m.pop("prepare"), "prepare"),
    (lambda m: m["run"].update(harness="other"), "run.harness"),
    (lambda m: m.update(python="newest"), "python"),
    (lambda m: m["prepare"][0].update(version="==>1"), "prepare.0.version"),
    (lambda m: m["prepare"][0].update(name="Bad Name"), "prepare.0.name"),
    (lambda m: m.update(colour="blue"), "colour"),
    (lambda m: m["inputs"]["count"].update(type="complex"), "inputs.count.type"),
])
def test_shape_errors_name_the_field(change: Any, field: str) -> None:
    entry = flagship()
    change(entry["meta"])
    with pytest.raises(MetaError) as err:
        load_manifest(entry)
    assert f"meta field {field}:" in err.value.message
    assert err.value.message.startswith("solution:mlperf-object-detection:")


def test_references_between_sections_are_checked() -> None:
    entry = flagship()
    entry["meta"]["run"]["dataset"]["step"] = "datasett"
    with pytest.raises(MetaError, match="names step 'datasett'.*declared: runtime"):
        load_manifest(entry)
    entry = flagship()
    del entry["meta"]["run"]["model"]["onnxruntime"]
    with pytest.raises(MetaError, match=r"no model for backend\(s\) \['onnxruntime'\]"):
        load_manifest(entry)
    entry = flagship()
    entry["meta"]["prepare"].append(copy.deepcopy(entry["meta"]["prepare"][0]))
    with pytest.raises(MetaError, match="repeat the name"):
        load_manifest(entry)


def test_inputs_get_defaults_and_are_checked() -> None:
    m = load_manifest(flagship())
    label = "solution:x"
    got = bind_inputs(m, {}, label)
    assert got["scenario"] == "Offline" and got["backend"] == "tensorflow"
    assert got["count"] is None and got["duration_ms"] == 10000
    got = bind_inputs(m, {"count": "8", "scenario": "SingleStream"}, label)
    assert got["count"] == 8 and got["scenario"] == "SingleStream"
    with pytest.raises(InvalidInput, match=r"--scenario=offline is not one of .*did you mean: Offline"):
        bind_inputs(m, {"scenario": "offline"}, label)
    with pytest.raises(InvalidInput, match="--count must be at least 1, not 0"):
        bind_inputs(m, {"count": 0}, label)
    with pytest.raises(InvalidInput, match="--count must be a whole number"):
        bind_inputs(m, {"count": "many"}, label)
    with pytest.raises(InvalidInput, match="no input --backnd.*did you mean: backend"):
        bind_inputs(m, {"backnd": "tensorflow"}, label)


def test_steps_limited_by_when() -> None:
    m = load_manifest(flagship())
    tf = [s.name for s in m.prepare if s.active({"backend": "tensorflow"})]
    ort = [s.name for s in m.prepare if s.active({"backend": "onnxruntime"})]
    assert "model-onnxruntime" not in tf and "model-onnxruntime" in ort


def test_json_schema_describes_the_manifest() -> None:
    schema = json_schema()
    assert {"prepare", "run", "scoreboard", "metrics", "validate"} <= set(schema["properties"])
