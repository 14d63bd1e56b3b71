"""Every part of a step's cache key: change it and the step (and its dependants) miss,
change it back and they hit again."""

from __future__ import annotations

import copy

import pytest

from .conftest import cache_records, run_ok

RUN = 'echo "running $CK_GREETING"\necho "OUT=$CK_GREETING-$X-$V" >> "$CK_ENV_OUT"\n'
META = {"tags": ["kk-hello"], "cache": True,
        "input_mapping": {"greeting": "CK_GREETING"},
        "default_env": {"CK_GREETING": "hi", "X": "x0", "V": "v0"},
        "variations": {"v": {"env": {"V": "v1"}}}}


@pytest.fixture
def hello(repo):
    repo.script("hello", META, RUN)
    return repo


def first(**kw):
    return run_ok(tags=kw.pop("tags", "kk-hello"), **kw)


def test_same_inputs_hit(hello, home):
    a = first()
    assert a["cached"] is False and a["new_env"] == {"OUT": "hi-x0-v0"}
    b = first()
    assert b["cached"] is True and b["key"] == a["key"] and b["new_env"] == a["new_env"]
    assert b["path"] == a["path"]
    assert len(cache_records(home)) == 1
    # the same step by name hits the same entry
    c = run_ok(artifact="hello")
    assert c["cached"] is True and c["key"] == a["key"]


def _miss_then_back(base, changed, back):
    assert changed["cached"] is False, changed
    assert changed["key"] != base["key"]
    assert back["cached"] is True, back
    assert back["key"] == base["key"]


def test_meta_is_part_of_the_key(hello):
    base = first()
    meta = hello.meta("script", "hello")
    hello.set_meta("script", "hello", dict(meta, extra_key="something"))
    changed = first()
    hello.set_meta("script", "hello", meta)
    _miss_then_back(base, changed, first())


def test_uid_is_not_part_of_the_key(hello):
    base = first()
    meta = hello.meta("script", "hello")
    hello.set_meta("script", "hello", dict(meta, uid="00000000deadbeef"))
    assert first()["key"] == base["key"]


def test_files_are_part_of_the_key(hello):
    base = first()
    hello.write("script", "hello", "run.sh", RUN + "# a comment that changes nothing else\n")
    changed = first()
    assert changed["new_env"] == base["new_env"]
    hello.write("script", "hello", "run.sh", RUN)
    _miss_then_back(base, changed, first())


def test_any_file_of_the_folder_is_part_of_the_key(hello):
    base = first()
    hello.write("script", "hello", "data.txt", "payload\n")
    changed = first()
    (hello.root / "script" / "hello" / "data.txt").unlink()
    hello.settle()
    _miss_then_back(base, changed, first())


def test_input_is_part_of_the_key(hello):
    base = first()
    changed = first(greeting="yo")
    assert changed["new_env"] == {"OUT": "yo-x0-v0"}
    _miss_then_back(base, changed, first())
    again = first(greeting="yo")
    assert again["cached"] is True and again["key"] == changed["key"]


def test_env_is_part_of_the_key(hello):
    base = first()
    changed = first(env={"X": "x1"})
    assert changed["new_env"] == {"OUT": "hi-x1-v0"}
    _miss_then_back(base, changed, first())
    # an env var the step does not declare also counts (it reaches the script)
    other = first(env={"UNRELATED": "1"})
    assert other["cached"] is False and other["key"] != base["key"]


def test_input_and_equivalent_env_give_the_same_result(hello):
    a = first(greeting="yo")
    b = first(env={"CK_GREETING": "yo"})
    assert b["new_env"] == a["new_env"]
    assert b["key"] == a["key"] and b["cached"] is True


def test_variation_is_part_of_the_key(hello):
    base = first()
    changed = first(tags="kk-hello,_v")
    assert changed["new_env"] == {"OUT": "hi-x0-v1"} and changed["variations"] == ["v"]
    _miss_then_back(base, changed, first())


def test_variation_without_env_is_part_of_the_key(repo):
    repo.script("hv", {"tags": ["kk-hv"], "cache": True, "variations": {"a": {}, "b": {}}},
                files={"customize.py": "def postprocess(ctx):\n"
                                       "    ctx.new_env['V'] = ','.join(ctx.variations)\n"})
    a = run_ok(tags="kk-hv,_a")
    assert a["new_env"] == {"V": "a"}
    b = run_ok(tags="kk-hv,_b")
    assert b["new_env"] == {"V": "b"}
    assert b["key"] != a["key"] and b["cached"] is False


def test_platform_is_part_of_the_key(hello, monkeypatch):
    from cknowledge.detect import platform

    base = first()
    real = platform._facts  # what the engine reads (selected_facts)

    def other_arch():
        facts = copy.deepcopy(real())
        facts["arch"] = "riscv128"
        return facts

    monkeypatch.setattr(platform, "_facts", other_arch)
    changed = first()
    monkeypatch.setattr(platform, "_facts", real)
    _miss_then_back(base, changed, first())


def test_facts_outside_platform_keys_are_not_part_of_the_key(hello, monkeypatch):
    from cknowledge.detect import platform

    base = first()
    real = platform._facts  # what the engine reads (selected_facts)

    def other_memory():
        facts = copy.deepcopy(real())
        facts["memory"] = 1
        facts["kernel"] = "0.0.1-test"
        return facts

    monkeypatch.setattr(platform, "_facts", other_memory)
    assert first()["key"] == base["key"]


def test_declared_platform_keys_enter_the_key(repo, monkeypatch):
    from cknowledge.detect import platform

    repo.script("k", {"tags": ["kk-k"], "cache": True, "platform_keys": ["kernel"]},
                'echo "A=1" >> "$CK_ENV_OUT"\n')
    base = run_ok(tags="kk-k")
    real = platform._facts  # what the engine reads (selected_facts)

    def other():
        facts = copy.deepcopy(real())
        facts["kernel"] = "0.0.1-test"
        return facts

    monkeypatch.setattr(platform, "_facts", other)
    assert run_ok(tags="kk-k")["key"] != base["key"]


def test_env_keys_from_the_outside_enter_the_key(repo, monkeypatch):
    repo.script("k", {"tags": ["kk-k"], "cache": True, "env_keys": ["KK_OUTSIDE"]},
                'echo "A=$KK_OUTSIDE" >> "$CK_ENV_OUT"\n')
    monkeypatch.setenv("KK_OUTSIDE", "one")
    a = run_ok(tags="kk-k")
    monkeypatch.setenv("KK_OUTSIDE", "two")
    b = run_ok(tags="kk-k")
    assert b["cached"] is False and b["key"] != a["key"] and b["new_env"] == {"A": "two"}
    monkeypatch.setenv("KK_OUTSIDE", "one")
    c = run_ok(tags="kk-k")
    assert c["cached"] is True and c["key"] == a["key"]


@pytest.fixture
def chain(repo):
    repo.script("child", {"tags": ["kk-child"], "cache": True},
                'echo "CHILD=c1" >> "$CK_ENV_OUT"\n')
    repo.script("parent", {"tags": ["kk-parent"], "cache": True,
                           "deps": [{"tags": "kk-child", "names": ["child"]}]},
                'echo "PARENT=got-$CHILD" >> "$CK_ENV_OUT"\n')
    return repo


def test_dependency_change_misses_the_dependants(chain):
    base = run_ok(tags="kk-parent")
    assert base["new_env"] == {"PARENT": "got-c1"}
    child_ident = next(iter(base["deps"]))
    hit = run_ok(tags="kk-parent")
    # the parent hits, so its dependency is not even consulted
    assert hit["cached"] is True and hit["deps"][child_ident]["skipped"] is True

    chain.write("script", "child", "run.sh", 'echo "CHILD=c2" >> "$CK_ENV_OUT"\n')
    changed = run_ok(tags="kk-parent")
    assert changed["cached"] is False and changed["key"] != base["key"]
    assert changed["deps"][child_ident]["cached"] is False
    assert changed["deps"][child_ident]["key"] != base["deps"][child_ident]["key"]
    assert changed["new_env"] == {"PARENT": "got-c2"}

    chain.write("script", "child", "run.sh", 'echo "CHILD=c1" >> "$CK_ENV_OUT"\n')
    back = run_ok(tags="kk-parent")
    assert back["cached"] is True and back["key"] == base["key"]
    assert back["new_env"] == {"PARENT": "got-c1"}


def test_parent_change_keeps_the_dependency_cached(chain):
    base = run_ok(tags="kk-parent")
    child_ident = next(iter(base["deps"]))
    chain.write("script", "parent", "run.sh", 'echo "PARENT=new-$CHILD" >> "$CK_ENV_OUT"\n')
    changed = run_ok(tags="kk-parent")
    assert changed["cached"] is False and changed["key"] != base["key"]
    assert changed["deps"][child_ident]["cached"] is True
    assert changed["deps"][child_ident]["key"] == base["deps"][child_ident]["key"]


def test_parent_env_does_not_leak_into_dependency_key(chain):
    base = run_ok(tags="kk-parent")
    child_ident = next(iter(base["deps"]))
    other = run_ok(tags="kk-parent", env={"SOMETHING": "else"})
    assert other["key"] != base["key"]
    assert other["deps"][child_ident]["key"] == base["deps"][child_ident]["key"]


def test_key_parts_are_all_declared():
    from cknowledge.cache.keys import KEY_PARTS, key_parts, make_key

    parts = key_parts("script", {"tags": ["a"]}, None, {"A": "1"}, {"os": "Linux"}, {})
    assert set(parts) == set(KEY_PARTS)
    base = make_key(parts)
    for name in KEY_PARTS:
        changed = dict(parts, **{name: parts[name] + "x"})
        assert make_key(changed) != base, name


def test_detected_tool_change_misses_the_dependants(repo, fake_soft, tmp_path):
    tool = tmp_path / "bin" / "tool"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho v1\n")
    repo.entry("soft", "tool-soft", {"tags": ["kk-tool"], "detect": {"executables": ["tool"]}})
    fake_soft({"tool-soft": [{"version": "12.2.0", "path": str(tool),
                              "env": {"CK_TOOL": str(tool)}}]})
    repo.script("use", {"tags": ["kk-use"], "cache": True, "deps": [{"tags": "kk-tool"}]},
                'echo "USED=$CK_TOOL" >> "$CK_ENV_OUT"\n')
    base = run_ok(tags="kk-use")
    assert base["new_env"] == {"USED": str(tool)}
    assert run_ok(tags="kk-use")["cached"] is True
    tool.write_text("#!/bin/sh\necho version two\n")      # the binary was replaced
    changed = run_ok(tags="kk-use")
    assert changed["cached"] is False and changed["key"] != base["key"]
    # another detected version is another key too
    fake_soft({"tool-soft": [{"version": "12.3.0", "path": str(tool),
                              "env": {"CK_TOOL": str(tool)}}]})
    other = run_ok(tags="kk-use")
    assert other["cached"] is False and other["key"] not in (base["key"], changed["key"])
