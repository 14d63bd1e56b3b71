"""The kernel: input binding and conversion, suggestions, plugins and repo automations."""

from __future__ import annotations

import importlib.metadata
import os
import sys
import textwrap

import pytest

import cknowledge
from cknowledge.errors import ALL_ERRORS, CKError, InvalidInput, suggest
from cknowledge.kernel import registry
from cknowledge.kernel.automation import Automation, action, split_tags
from cknowledge.kernel.kernel import bind_inputs, convert
from tests.conftest import access, names, ok


# -- conversion -----------------------------------------------------------------------
@pytest.mark.parametrize("value,ann,want", [
    ("true", "bool", True), ("yes", "bool | None", True), ("", "bool", True),
    ("0", "bool", False), ("off", "bool", False), (True, "bool", True),
    ("12", "int", 12), ("1.5", "float", 1.5), ("a, b,,c", "list[str] | None", ["a", "b", "c"]),
    (("a",), "list[str]", ["a"]), ('{"k": 1}', "dict[str, Any] | None", {"k": 1}),
    ({"k": 1}, "dict", {"k": 1}), (5, "str | None", "5"), (None, "int", None),
    ("x", "Any", "x"),
])
def test_convert(value, ann, want) -> None:
    assert convert(value, ann, "k") == want


@pytest.mark.parametrize("value,ann", [("maybe", "bool"), ("x", "int"), ("x", "float"),
                                       (5, "list[str]"), ("[1]", "dict"), ({"a": 1}, "str"),
                                       (True, "int")])
def test_convert_errors(value, ann) -> None:
    with pytest.raises(InvalidInput) as exc:
        convert(value, ann, "key")
    assert "'key'" in exc.value.message and exc.value.code == 2


def test_split_tags() -> None:
    assert split_tags("a,b,-c") == (["a", "b"], ["c"])
    assert split_tags(["a", "-"], "d,e") == (["a", "-"], ["d", "e"])
    assert split_tags(None) == ([], [])


class Demo(Automation):
    name = "demo"

    @action(writes=False)
    def go(self, artifact: str, count: int = 1, flag: bool = False,
           items: list[str] | None = None) -> dict:
        """Go somewhere."""
        return {"artifact": artifact, "count": count, "flag": flag, "items": items}

    @action(writes=False)
    def anything(self, x: int = 0, **rest) -> dict:
        """Take anything."""
        return {"x": x, "rest": rest}


def test_bind_inputs() -> None:
    b = bind_inputs(Demo.go, {"artifact": "a", "count": "3", "flag": "yes"}, "demo", "go")
    assert b == {"artifact": "a", "count": 3, "flag": True}
    b = bind_inputs(Demo.go, {"artifacts": ["demo:z"]}, "demo", "go")
    assert b == {"artifact": "z"}
    with pytest.raises(InvalidInput, match="needs the input 'artifact'"):
        bind_inputs(Demo.go, {}, "demo", "go")
    with pytest.raises(InvalidInput, match="did you mean: count"):
        bind_inputs(Demo.go, {"artifact": "a", "cont": 1}, "demo", "go")
    with pytest.raises(InvalidInput, match="no further argument"):
        bind_inputs(Demo.go, {"artifact": "a", "artifacts": ["b"]}, "demo", "go")
    b = bind_inputs(Demo.anything, {"x": "4", "y": "z"}, "demo", "anything")
    assert b == {"x": 4, "y": "z"}


def test_describe() -> None:
    d = Demo.describe()
    assert d["go"]["summary"] == "Go somewhere." and d["go"]["writes"] is False
    inputs = {i["name"]: i for i in d["go"]["inputs"]}
    assert inputs["artifact"]["required"] and not inputs["count"]["required"]
    assert inputs["count"]["default"] == 1
    assert "search" in d and "add" in d and d["add"]["writes"] is True


def test_errors_tree() -> None:
    codes = {cls.code for cls in ALL_ERRORS}
    assert len(codes) == len(ALL_ERRORS)
    assert all(issubclass(cls, CKError) for cls in ALL_ERRORS)
    e = CKError("m", path="p")
    assert e.to_result() == {"return": 1, "error": "m", "details": {"path": "p"}}
    assert suggest("lod", ["load", "add"]) == " (did you mean: load?)"
    assert suggest("zzz", ["load"]) == ""


# -- through access() ---------------------------------------------------------------------
def test_unknown_action_suggests(home) -> None:
    r = access(action="lod", automation="dataset", artifact="x")
    assert r["return"] == 3, r
    assert "did you mean: load" in r["error"] and "'lod'" in r["error"]


def test_unknown_automation_suggests(home) -> None:
    r = access(action="find", automation="datset")
    assert r["return"] == 4 and "dataset" in r["error"]
    r = access(action="add", automation="datset", artifact="x")
    assert r["return"] == 4 and "dataset" in r["error"]
    assert not os.path.exists(os.path.join(str(home), "repos", "local", "datset"))


def test_missing_required_input(home) -> None:
    r = access(action="load", automation="dataset")
    assert r["return"] == 2 and "artifact" in r["error"]
    assert access(action="export", automation="dataset")["return"] == 2


def test_wrong_type(home) -> None:
    ok(action="add", automation="dataset", artifact="x")
    r = access(action="rm", automation="dataset", artifact="x", force="maybe")
    assert r["return"] == 2 and "force" in r["error"]
    assert ok(action="load", automation="dataset", artifact="x")  # nothing removed
    r = access(action="find", automation="dataset", meta="[1, 2]")
    assert r["return"] == 2


def test_unknown_input(home) -> None:
    r = access(action="find", automation="dataset", tagz="x")
    assert r["return"] == 2 and "tags" in r["error"]


def test_no_action(home) -> None:
    assert access(automation="dataset")["return"] == 2
    assert access(action="", automation="dataset")["return"] == 2


def test_kernel_actions(home) -> None:
    assert ok(action="version")["version"] == cknowledge.__version__
    h = ok(action="help")
    assert {"dataset", "repo", "automation"} <= {a["name"] for a in h["automations"]}
    h = ok(action="help", topic="dataset")
    assert h["automation"] == "dataset" and {"add", "find", "load"} <= set(h["actions"])
    h = ok(action="help", topic="dataset:find")
    assert list(h["actions"]) == ["find"]
    assert access(action="help", topic="dataset:fnd")["return"] == 3
    assert access(action="help", topic="nosuch")["return"] == 4


def test_lazy_attributes() -> None:
    assert cknowledge.Automation is Automation
    assert cknowledge.action is action
    from cknowledge.kernel.kernel import Kernel

    assert cknowledge.Kernel is Kernel
    with pytest.raises(AttributeError):
        cknowledge.nothing_here  # noqa: B018


def test_internal_error_is_a_result(home, monkeypatch) -> None:
    from cknowledge.kernel.kernel import Kernel

    def boom(self, request):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Kernel, "call", boom)
    r = cknowledge.access({"action": "find", "automation": "dataset"})
    assert r["return"] == 1 and "ZeroDivisionError" in r["error"]


# -- repo automations -------------------------------------------------------------------
def test_repo_automation_template_works(home) -> None:
    r = ok(action="add", automation="automation", artifact="myauto", summary="my own")
    assert os.path.isfile(os.path.join(r["path"], "automation.py"))
    out = ok(action="hello", automation="myauto", who="x")
    assert out["message"] == "hello, x, from myauto"
    assert ok(action="hello", automation="myauto")["message"] == "hello, world, from myauto"
    # it inherits the core actions on its own entries
    ok(action="add", automation="myauto", artifact="thing", tags="t")
    assert names(ok(action="find", automation="myauto", tags="t")) == ["thing"]
    listed = {a["name"]: a for a in ok(action="help")["automations"]}
    assert listed["myauto"]["summary"] == "my own"
    assert "hello" in ok(action="help", topic="myauto")["actions"]


def test_repo_automation_converts_cli_strings(home) -> None:
    """User automations written without `from __future__ import annotations` (as the
    template is) must still get ints and bools converted from CLI strings."""
    r = ok(action="add", automation="automation", artifact="typed")
    with open(os.path.join(r["path"], "automation.py"), "w") as fh:
        fh.write(textwrap.dedent('''
            from cknowledge import Automation, action

            class Typed(Automation):
                @action(writes=False)
                def twice(self, n: int = 1, loud: bool = False) -> dict:
                    """Double n."""
                    return {"n": n * 2, "loud": loud}
        '''))
    out = ok(action="twice", automation="typed", n="21", loud="false")
    assert out["n"] == 42 and out["loud"] is False
    assert access(action="twice", automation="typed", n="many")["return"] == 2


def test_broken_repo_automation_is_12_and_others_work(home) -> None:
    good = ok(action="add", automation="automation", artifact="goodauto")
    bad = ok(action="add", automation="automation", artifact="badauto")
    with open(os.path.join(bad["path"], "automation.py"), "w") as fh:
        fh.write("def broken(:\n")
    r = access(action="hello", automation="badauto")
    assert r["return"] == 12 and "badauto" in r["error"]
    assert ok(action="hello", automation="goodauto")["message"].startswith("hello")
    ok(action="add", automation="dataset", artifact="fine")
    assert names(ok(action="find", automation="dataset")) == ["fine"]
    assert "badauto" in {a["name"] for a in ok(action="help")["automations"]}
    assert good["name"] == "goodauto"


def test_repo_automation_without_class_or_module(home) -> None:
    a = ok(action="add", automation="automation", artifact="noclass")
    with open(os.path.join(a["path"], "automation.py"), "w") as fh:
        fh.write("X = 1\n")
    r = access(action="find", automation="noclass")
    assert r["return"] == 12 and "noclass" in r["error"]
    b = ok(action="add", automation="automation", artifact="nomodule")
    os.unlink(os.path.join(b["path"], "automation.py"))
    r = access(action="find", automation="nomodule")
    assert r["return"] == 12 and "missing" in r["error"]


# -- entry-point plugins --------------------------------------------------------------------
PLUGIN = '''
from cknowledge import Automation, action


class Greeter(Automation):
    summary = "a plugin"

    @action(writes=False)
    def greet(self, times: int = 1) -> dict:
        """Greet."""
        return {"greeting": "hi" * times}


NOT_A_CLASS = 42
'''


@pytest.fixture
def plugins(tmp_path, monkeypatch, home):
    pkg = tmp_path / "plugins"
    pkg.mkdir()
    (pkg / "ckplug_good.py").write_text(PLUGIN)
    (pkg / "ckplug_bad.py").write_text("raise RuntimeError('plugin import exploded')\n")
    monkeypatch.syspath_prepend(str(pkg))
    fakes = [
        importlib.metadata.EntryPoint("greeter", "ckplug_good:Greeter", registry.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("brokenplug", "ckplug_bad:Thing", registry.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("notauto", "ckplug_good:NOT_A_CLASS",
                                      registry.ENTRY_POINT_GROUP),
    ]
    real = importlib.metadata.entry_points

    def fake_entry_points(**kw):
        if kw.get("group") == registry.ENTRY_POINT_GROUP:
            return fakes
        return real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    yield
    for mod in ("ckplug_good", "ckplug_bad"):
        sys.modules.pop(mod, None)


def test_entry_point_plugin(plugins) -> None:
    assert ok(action="greet", automation="greeter", times=3)["greeting"] == "hihihi"
    r = access(action="greet", automation="brokenplug")
    assert r["return"] == 12 and "brokenplug" in r["error"] and "exploded" in r["error"]
    r = access(action="x", automation="notauto")
    assert r["return"] == 12 and "notauto" in r["error"]
    # the others keep working
    assert ok(action="greet", automation="greeter")["greeting"] == "hi"
    ok(action="add", automation="dataset", artifact="d")
    listed = {a["name"]: a for a in ok(action="help")["automations"]}
    assert listed["greeter"]["source"].startswith("plugin")
    # suggestions include plugins
    assert "greeter" in access(action="greet", automation="greter")["error"]
