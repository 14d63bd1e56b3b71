"""Search spaces, objectives and strategies are validated before anything runs."""

from __future__ import annotations

import json
import random

import pytest

from cknowledge.errors import InvalidInput
from cknowledge.tuning.runner import run_tuning
from cknowledge.tuning.space import Space, load_space, parse_objectives

SPACE = {"choices": {
    "opt": {"type": "categorical", "values": ["-O1", "-O2", "-O3"]},
    "unroll": {"type": "flag", "flag": "-funroll-loops", "off": "-fno-unroll-loops"},
    "inline": {"type": "categorical", "values": ["", "-finline-functions"]},
    "times": {"type": "int", "low": 2, "high": 8, "step": 2,
              "format": "--param=max-unroll-times={value}"},
    "ratio": {"type": "float", "low": 0.1, "high": 10, "log": True, "grid": 3, "to": "none"},
}}


def test_a_configuration_maps_to_opt_and_flags() -> None:
    space = Space(SPACE)
    config = {"opt": "-O3", "unroll": True, "inline": "", "times": 4, "ratio": 1.0}
    assert space.program_args(config) == ("-O3", "-funroll-loops --param=max-unroll-times=4")
    config.update(unroll=False, inline="-finline-functions")
    assert space.program_args(config) == (
        "-O3", "-fno-unroll-loops -finline-functions --param=max-unroll-times=4")
    assert space.choices["times"].values == [2, 4, 6, 8]
    grid = space.choices["ratio"].grid()
    assert grid[0] == pytest.approx(0.1) and grid[1] == pytest.approx(1.0) and grid[2] == pytest.approx(10)
    assert space.size() == float("inf")
    sample = space.sample(random.Random(3))
    assert list(sample) == list(SPACE["choices"]) and 0.1 <= sample["ratio"] <= 10
    # a base set of flags comes first
    based = Space({"base_flags": ["-g0"], "choices": {"f": {"type": "flag", "flag": "-fx"}}})
    assert based.program_args({"f": True}) == (None, "-g0 -fx")


def test_the_grid_is_every_combination_in_declared_order() -> None:
    space = Space({"choices": {"a": {"type": "categorical", "values": [1, 2]},
                               "b": {"type": "flag", "flag": "-fb"}}})
    assert list(space.grid()) == [{"a": 1, "b": False}, {"a": 1, "b": True},
                                  {"a": 2, "b": False}, {"a": 2, "b": True}]
    assert list(space.grid({"b": True})) == [{"a": 1, "b": True}, {"a": 2, "b": True}]


@pytest.mark.parametrize("choices, words", [
    ({"opt": {"type": "categorical", "vaules": ["-O1"]}}, ["'vaules'", "did you mean: values",
                                                           "valid:", "type"]),
    ({"opt": {"type": "categorial", "values": ["-O1"]}}, ["'categorial'", "categorical, int"]),
    ({"n": {"type": "int", "low": 1}}, ["'high'"]),
    ({"n": {"type": "int", "low": 1, "high": 4}}, ["format"]),
    ({"f": {"type": "flag"}}, ["'flag'"]),
    ({"o": {"type": "categorical", "values": []}}, ["non-empty"]),
    ({"o": {"type": "categorical", "values": ["a"], "to": "flag"}}, ["opt, flags, none"]),
])
def test_a_wrong_space_is_an_error_naming_the_valid_keys(choices, words) -> None:
    with pytest.raises(InvalidInput) as err:
        Space({"choices": choices})
    for word in words:
        assert word in str(err.value)


def test_a_misspelled_top_level_key_or_file(tmp_path) -> None:
    with pytest.raises(InvalidInput, match="'choises'.*did you mean: choices"):
        Space({"choises": {}})
    path = tmp_path / "space.json"
    path.write_text(json.dumps(SPACE))
    assert load_space(str(path)).names == list(SPACE["choices"])
    (tmp_path / "space.yaml").write_text("choices:\n  opt: {values: [-O1, -O2]}\n")
    assert load_space(str(tmp_path / "space.yaml")).choices["opt"].type == "categorical"
    with pytest.raises(InvalidInput, match="not found"):
        load_space(str(tmp_path / "nope.yaml"))


def test_objectives() -> None:
    objs = parse_objectives("time:min, size:max", ["time", "size"])
    assert [(o.metric, o.direction, o.sign) for o in objs] == [("time", "min", 1.0),
                                                               ("size", "max", -1.0)]
    assert [str(o) for o in parse_objectives("time", ["time"])] == ["time:min"]
    with pytest.raises(InvalidInput, match=r"'tme' \(did you mean: time\?\); valid: size, time"):
        parse_objectives("tme:min", ["size", "time"])
    with pytest.raises(InvalidInput, match="direction 'minimum'.*valid: min, max"):
        parse_objectives("time:minimum", ["time"])
    with pytest.raises(InvalidInput, match="twice"):
        parse_objectives("time,time:max", ["time"])


def _counting():
    calls: list[dict] = []

    def evaluate(config):
        calls.append(config)
        return {"time": [1.0, 1.1], "size": [10]}

    return calls, evaluate


@pytest.mark.parametrize("kwargs, code, words", [
    ({"objectives": "time:min,sise:min"}, 2, ["'sise'", "valid: time, size"]),
    ({"objectives": "time:fastest"}, 2, ["valid: min, max"]),
    ({"strategy": "tpee"}, 2, ["'tpee'", "did you mean: tpe", "random, grid, tpe, nsga2"]),
    ({"fixed": {"optt": "-O2"}}, 2, ["'optt'", "did you mean: opt"]),
    ({"fixed": {"opt": "-O9"}}, 2, ["'-O9'", "-O1"]),
    ({"backend": "cluster"}, 2, ["local, ray"]),
    ({"budget": 0}, 2, ["--budget"]),
    ({"space": {"choices": {"opt": {"tpye": "flag"}}}}, 2, ["'tpye'"]),
])
def test_nothing_runs_when_an_input_is_wrong(home, kwargs, code, words) -> None:
    from cknowledge.api import kernel_for

    calls, evaluate = _counting()
    args = {"space": SPACE, "objectives": "time:min,size:min", "strategy": "random",
            "budget": 3, "name": "bad", **kwargs}
    kernel = kernel_for(str(home))
    with pytest.raises(InvalidInput) as err:
        run_tuning(kernel, evaluate, metrics=["time", "size"], **args)
    assert err.value.code == code
    for word in words:
        assert word in err.value.message, err.value.message
    assert calls == []
    assert kernel.store.find("experiment", __import__("cknowledge.store.cid", fromlist=["x"])
                             .ArtifactRef(None, None)) == []
