"""The ``access()`` boundary: hostile input gets its own error code and one line, never an
exception and never code 1 ("internal error")."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cknowledge import api


class _Obj:
    def __repr__(self) -> str:
        raise RuntimeError("hostile repr")


def _circular() -> dict:
    d: dict = {}
    d["self"] = d
    return d


def _deep(n: int) -> dict:
    root: dict = {}
    node = root
    for _ in range(n):
        node["a"] = {}
        node = node["a"]
    return root


HOSTILE = [set(), {1, 2}, b"bytes", bytearray(b"x"), _Obj(), object(), math.nan, math.inf,
           -math.inf, ("a", "b"), {("t", "k"): 1}, {1: "int key"}, 10 ** 400, _circular(),
           [_circular()], _deep(5000), complex(1, 2), frozenset({1})]

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_like = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
values = json_like | st.sampled_from(HOSTILE)

ACTIONS = ["add", "load", "update", "rm", "ren", "cp", "mv", "find", "search", "list",
           "export", "import", "version", "help"]
KEYS = ["artifact", "meta", "tags", "no_tags", "repo", "target", "new_name", "force",
        "replace", "uid", "with_meta", "artifacts", "topic", "overwrite"]


@st.composite
def requests(draw: st.DrawFn, tmp: str) -> dict:
    request: dict = {}
    request["action"] = draw(st.sampled_from(ACTIONS) | values)
    if draw(st.booleans()):
        request["automation"] = draw(st.sampled_from(["dataset", "model", "kernel"]) | values)
    for key in draw(st.lists(st.sampled_from(KEYS) | st.text(max_size=6), max_size=5)):
        request[key] = draw(values)
    if draw(st.integers(0, 9)) == 0:  # files stay inside the test's folder
        request["file"] = draw(st.sampled_from(
            [os.path.join(tmp, n) for n in ("a.zip", "b.tar.gz", "c.rar", "missing.zip")])
            | st.sampled_from(HOSTILE))
    if draw(st.integers(0, 9)) == 0:
        request["home"] = draw(st.sampled_from([5, b"x", ["x"], os.path.join(tmp, "a-file")]))
    if draw(st.integers(0, 19)) == 0:
        request[draw(st.sampled_from([("t",), 1, None]))] = 1
    return request


def _check(result: object) -> None:
    assert isinstance(result, dict)
    code = result["return"]
    assert isinstance(code, int) and code != 1, result
    if code:
        assert isinstance(result["error"], str) and "\n" not in result["error"], result


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: type(v).__name__)
def test_hostile_meta_is_invalid_input(home, value) -> None:
    for action in ("add", "update"):
        r = api.access({"action": action, "automation": "dataset", "artifact": "x",
                        "meta": value})
        _check(r)
        assert r["return"] in (2, 16), r
    r = api.access({"action": "find", "automation": "dataset", "tags": value})
    _check(r)


def test_home_that_is_not_a_folder(home, tmp_path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for where in ({"home": str(a_file)}, {"home": 5}, {"home": ["x"]}):
        r = api.access({"action": "find", "automation": "dataset", **where})
        _check(r)
        assert r["return"] == 2, r
    assert api.access({"action": "find", "automation": "dataset"}, home=str(a_file))["return"] == 2
    assert api.access(["not", "a", "dict"])["return"] == 2  # type: ignore[arg-type]
    assert api.access({("tuple",): 1})["return"] == 2


@settings(max_examples=int(os.environ.get("CK_HYPOTHESIS_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_requests_never_raise_nor_answer_internal_error(home, tmp_path, data) -> None:
    tmp = str(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    old = os.getcwd()
    os.chdir(tmp)  # anything written to a relative path stays here
    try:
        request = data.draw(requests(tmp))
        _check(api.access(request))
    finally:
        os.chdir(old)


@pytest.mark.parametrize("value, annotation", [
    ("1e999", "float"), (10 ** 400, "float"), ("nan", "float"), ("-inf", "float | None"),
    ('{"a": NaN}', "dict[str, Any]"), ('{"a": Infinity}', "dict"), ("[" * 5000, "dict"),
    ('{"a":' * 3000 + "1" + "}" * 3000, "dict"), ("x" * 100_000, "int"),
])
def test_cli_strings_that_convert_to_nothing_usable(value, annotation) -> None:
    """What the CLI and REST hand the kernel as strings: converted or one InvalidInput."""
    from cknowledge.errors import InvalidInput
    from cknowledge.kernel.kernel import convert

    with pytest.raises(InvalidInput) as err:
        convert(value, annotation, "k")
    assert len(err.value.message) < 200


def test_export_to_paths_that_cannot_be_written(home, tmp_path) -> None:
    api.access({"action": "add", "automation": "dataset", "artifact": "x"})
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir.zip").mkdir()
    for file in (f"{tmp_path}/\0.zip", f"{tmp_path}/{'a' * 5000}.zip",
                 f"{tmp_path}/a-file/x.zip", f"{tmp_path}/a-dir.zip"):
        r = api.access({"action": "export", "automation": "dataset", "file": file})
        _check(r)
        assert r["return"] == 2, r
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]
