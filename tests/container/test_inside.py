"""The check at build time: the image's plan against the host's lock."""

from __future__ import annotations

import json

import pytest

from cknowledge import api
from cknowledge.container.inside import check_and_prepare, compare_nodes
from cknowledge.errors import InvalidInput, Unsatisfiable


def node(ident, kind="soft", name="gcc", version="12.2.0", entry="e", files="f", uid="u1"):
    return {"ident": ident, "kind": kind, "name": name, "uid": uid, "version": version,
            "parts": {"entry": entry, "files": files, "platform": ident + "p"}}


def test_same_components_and_releases_match():
    lock = [node("cc"), node("s", kind="script", name="s", version="1.0", uid="u2")]
    here = [dict(node("cc", version="12.2.0"), parts={"entry": "e", "files": "f",
                                                      "platform": "other"}),
            node("s", kind="script", name="s", version="1.0", uid="u2")]
    assert compare_nodes(lock, here) == []
    assert compare_nodes([node("py", name="python", version="3.11.7")],
                         [node("py", name="python", version="3.11.2")]) == []


def test_every_difference_is_named():
    lock = [node("cc"), node("s", kind="script", name="s", uid="u2"), node("gone", name="gone")]
    here = [node("cc", version="13.1.0"), node("s", kind="script", name="s", uid="u2",
                                               files="changed"), node("new", name="new")]
    assert compare_nodes(lock, here) == [
        "soft:gcc is version 12.2.0 in the lock, 13.1.0 in the image",
        "script:s: its files differ from the lock's",
        "soft:gone is not part of the plan in the image",
        "soft:new is in the image's plan, not in the lock"]


def test_check_fails_in_one_line_when_the_plan_differs(home, greet, tmp_path):
    from cknowledge.container.plan import Target, resolve

    kernel = api.kernel_for(str(home))
    lock = resolve(kernel, Target.parse("script:greet"), {"who": "ana"})
    lock["nodes"][0]["parts"]["files"] = "0" * 64
    import yaml

    (tmp_path / "lock.yaml").write_text(yaml.safe_dump(lock))
    (tmp_path / "request.json").write_text(json.dumps({
        "component": {"kind": "script", "name": "greet", "tags": []},
        "inputs": {"who": "ana"}, "plan_inputs": {"who": "ana"}}))
    with pytest.raises(Unsatisfiable, match=r"^the image does not match the lock of script:greet: "
                                            r"script:greet: its files differ from the lock's$"):
        check_and_prepare(kernel, str(tmp_path / "lock.yaml"), str(tmp_path / "request.json"))
    (tmp_path / "request.json").write_text("[1]")
    with pytest.raises(InvalidInput, match="is not an image request"):
        check_and_prepare(kernel, str(tmp_path / "lock.yaml"), str(tmp_path / "request.json"))
    lock["nodes"][0]["parts"]["files"] = resolve(kernel, Target.parse("script:greet"),
                                                 {"who": "ana"})["nodes"][0]["parts"]["files"]
    (tmp_path / "lock.yaml").write_text(yaml.safe_dump(lock))
    (tmp_path / "request.json").write_text(json.dumps({
        "component": {"kind": "script", "name": "greet", "tags": []},
        "inputs": {"who": "ana"}, "plan_inputs": {"who": "ana"}}))
    done = check_and_prepare(kernel, str(tmp_path / "lock.yaml"), str(tmp_path / "request.json"))
    assert done["text"].startswith("script:greet: the image matches its lock (1 components)")
