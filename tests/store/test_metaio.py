"""Meta files: YAML/JSON round trips, clear errors, atomic writes."""

from __future__ import annotations

import json
import os

import pytest

from cknowledge.errors import MetaError
from cknowledge.store import metaio
from cknowledge.store.metaio import (atomic_write_text, find_meta_file, merge, parse_text,
                                     read_meta, write_meta)

SAMPLE = {"uid": "0123456789abcdef", "alias": "x", "tags": ["a", "b"], "n": 3, "f": 1.5,
          "flag": True, "none": None, "nested": {"k": [1, {"d": "é"}]}}


@pytest.mark.parametrize("fname", ["meta.yaml", "meta.yml", "meta.json", "_cm.json"])
def test_round_trip(tmp_path, fname: str) -> None:
    path = str(tmp_path / fname)
    write_meta(path, SAMPLE)
    assert read_meta(path) == SAMPLE


def test_yaml_is_yaml_and_json_is_json(tmp_path) -> None:
    y, j = str(tmp_path / "meta.yaml"), str(tmp_path / "meta.json")
    write_meta(y, SAMPLE)
    write_meta(j, SAMPLE)
    assert json.loads(open(j, encoding="utf-8").read()) == SAMPLE
    text = open(y, encoding="utf-8").read()
    assert not text.lstrip().startswith("{")
    assert "alias: x" in text
    # key order is kept (uid first)
    assert text.splitlines()[0].startswith("uid:")


@pytest.mark.parametrize("fname,text", [
    ("meta.yaml", "a: [1, 2\nb: c"),
    ("meta.yaml", "key: : :\n  - bad"),
    ("meta.json", "{\"a\": 1,"),
    ("meta.json", "not json"),
])
def test_malformed_meta_names_the_file(tmp_path, fname: str, text: str) -> None:
    path = tmp_path / fname
    path.write_text(text)
    with pytest.raises(MetaError) as exc:
        read_meta(str(path))
    assert exc.value.code == 6
    assert str(path) in exc.value.message
    assert "\n" not in exc.value.message
    assert exc.value.details["path"] == str(path)


@pytest.mark.parametrize("fname,text", [("meta.yaml", "- a\n- b\n"), ("meta.json", "[1]"),
                                        ("meta.json", "3")])
def test_meta_must_be_a_mapping(tmp_path, fname: str, text: str) -> None:
    path = tmp_path / fname
    path.write_text(text)
    with pytest.raises(MetaError) as exc:
        read_meta(str(path))
    assert str(path) in exc.value.message


def test_empty_yaml_is_empty_dict(tmp_path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text("")
    assert read_meta(str(path)) == {}


def test_missing_and_undecodable(tmp_path) -> None:
    with pytest.raises(MetaError) as exc:
        read_meta(str(tmp_path / "nope.yaml"))
    assert "nope.yaml" in exc.value.message
    bad = tmp_path / "meta.json"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(MetaError) as exc:
        read_meta(str(bad))
    assert str(bad) in exc.value.message


def test_parse_text_direct() -> None:
    assert parse_text("a: 1", "x.yaml") == {"a": 1}
    assert parse_text('{"a": 1}', "x.json") == {"a": 1}
    with pytest.raises(MetaError):
        parse_text("a: 1", "x.json")


def test_atomic_write_leaves_no_temp_files(tmp_path) -> None:
    path = str(tmp_path / "meta.yaml")
    for i in range(5):
        write_meta(path, {"i": i})
    assert os.listdir(tmp_path) == ["meta.yaml"]
    assert read_meta(path) == {"i": 4}


def test_crash_mid_write_keeps_old_file(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "meta.yaml")
    write_meta(path, {"version": "old"})

    def boom(*args, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(metaio.os, "replace", boom)
    with pytest.raises(OSError):
        write_meta(path, {"version": "new"})
    monkeypatch.undo()
    assert read_meta(path) == {"version": "old"}
    assert os.listdir(tmp_path) == ["meta.yaml"]  # the temp file was cleaned up


def test_crash_while_writing_data_keeps_old_file(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "meta.json")
    write_meta(path, {"version": "old"})

    def bad_dump(data, p):
        raise KeyboardInterrupt  # even a BaseException must not leave a temp file

    monkeypatch.setattr(metaio, "dump_text", bad_dump)
    with pytest.raises(KeyboardInterrupt):
        write_meta(path, {"version": "new"})
    monkeypatch.undo()
    assert read_meta(path) == {"version": "old"}
    assert os.listdir(tmp_path) == ["meta.json"]


def test_atomic_write_keeps_permissions(tmp_path) -> None:
    """Replacing a meta file must not make it private (mkstemp creates 0600 files)."""
    old = os.umask(0o022)
    try:
        path = str(tmp_path / "meta.yaml")
        with open(path, "w") as fh:
            fh.write("a: 1\n")
        assert os.stat(path).st_mode & 0o777 == 0o644
        atomic_write_text(path, "a: 2\n")
        assert open(path).read() == "a: 2\n"
        assert os.stat(path).st_mode & 0o777 == 0o644
        new = str(tmp_path / "new.yaml")
        atomic_write_text(new, "b: 1\n")
        assert os.stat(new).st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_find_meta_file_order(tmp_path) -> None:
    entry = tmp_path / "e"
    (entry / ".cm").mkdir(parents=True)
    assert find_meta_file(str(entry)) is None
    (entry / ".cm" / "meta.json").write_text("{}")
    assert find_meta_file(str(entry)).endswith(os.path.join(".cm", "meta.json"))
    (entry / "_cm.yaml").write_text("{}")
    assert find_meta_file(str(entry)).endswith("_cm.yaml")
    (entry / "meta.json").write_text("{}")
    assert find_meta_file(str(entry)).endswith("meta.json")
    (entry / "meta.yaml").write_text("{}")
    assert find_meta_file(str(entry)).endswith("meta.yaml")


def test_merge_is_deep_and_pure() -> None:
    base = {"a": {"b": 1, "c": 2}, "l": [1], "x": 1}
    out = merge(base, {"a": {"b": 9, "d": 4}, "l": [2], "y": 2})
    assert out == {"a": {"b": 9, "c": 2, "d": 4}, "l": [2], "x": 1, "y": 2}
    assert base == {"a": {"b": 1, "c": 2}, "l": [1], "x": 1}
