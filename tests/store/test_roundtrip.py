"""``update`` rewrites only what changed: YAML keeps its comments and layout, JSON its key
order and indentation; legacy CK/CM layouts included."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import ok

YAML_META = """\
# A dataset kept by hand: this comment stays.
alias: hand
uid: 0123456789abcdef
automation: dataset
tags: [image, small]   # flow style stays too
env:
  # the order below is deliberate
  ZED: "1"
  ALPHA: 'quoted'
  flag: yes
description: >
  folded text
  over two lines
"""


def _entry(home, name: str, files: dict[str, str], automation: str = "dataset") -> str:
    folder = os.path.join(str(home), "repos", "local", automation, name)
    for rel, text in files.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
    return folder


@pytest.mark.parametrize("meta_file", ["meta.yaml", "_cm.yaml"])
def test_yaml_update_keeps_comments_and_layout(home, meta_file) -> None:
    folder = _entry(home, "hand", {meta_file: YAML_META})
    ok(action="update", automation="dataset", artifact="hand",
       meta={"env": {"NEW": "2"}, "size": 10})
    with open(os.path.join(folder, meta_file)) as fh:
        text = fh.read()
    assert text.startswith(YAML_META.rstrip("\n").rsplit("description", 1)[0])
    assert "# the order below is deliberate" in text and "# flow style stays too" in text
    assert "ALPHA: 'quoted'" in text and "flag: yes" in text
    assert "  NEW: '2'\n" in text
    assert text.index("ZED") < text.index("ALPHA") < text.index("NEW")
    assert "size: 10" in text
    meta = ok(action="load", automation="dataset", artifact="hand")["meta"]
    assert meta["env"] == {"ZED": "1", "ALPHA": "quoted", "flag": True, "NEW": "2"}
    assert meta["description"] == "folded text over two lines\n"


def test_yaml_update_that_changes_nothing_leaves_the_file_alone(home) -> None:
    folder = _entry(home, "hand", {"meta.yaml": YAML_META})
    ok(action="update", automation="dataset", artifact="hand", meta={"env": {"ZED": "1"}})
    ok(action="update", automation="dataset", artifact="hand", tags=["image", "small"])
    with open(os.path.join(folder, "meta.yaml")) as fh:
        assert fh.read() == YAML_META


def test_yaml_key_removed_by_replace(home) -> None:
    folder = _entry(home, "hand", {"meta.yaml": YAML_META})
    ok(action="update", automation="dataset", artifact="hand", replace=True,
       meta={"tags": ["image", "small"], "env": {"ZED": "1"}})
    with open(os.path.join(folder, "meta.yaml")) as fh:
        text = fh.read()
    assert "description" not in text and "ALPHA" not in text
    assert text.startswith("# A dataset kept by hand")
    assert "uid: 0123456789abcdef" in text


JSON_META = """{
    "zeta": 1,
    "alias": "j",
    "nested": {
        "b": [1, 2],
        "a": "x"
    },
    "tags": "one,two",
    "alpha": "ü"
}
"""


@pytest.mark.parametrize("meta_file", ["meta.json", "_cm.json", ".cm/meta.json"])
def test_json_update_keeps_order_indentation_and_untouched_text(home, meta_file) -> None:
    folder = _entry(home, "j", {meta_file: JSON_META})
    ok(action="update", automation="dataset", artifact="j", meta={"alpha": "β", "new": [1]})
    with open(os.path.join(folder, meta_file)) as fh:
        text = fh.read()
    keys = list(json.loads(text))
    assert keys == ["zeta", "alias", "nested", "tags", "alpha", "new"]
    # untouched members keep their exact text (the compact list, the tags string)
    assert '    "nested": {\n        "b": [1, 2],\n        "a": "x"\n    },' in text
    assert '    "tags": "one,two",' in text
    assert '    "alpha": "β"' in text


def test_json_one_key_per_line_style_is_kept(home) -> None:
    e = ok(action="add", automation="dataset", artifact="ours", meta={"a": {"x": 1}, "b": 2})
    path = os.path.join(e["path"], "meta.json")
    with open(path) as fh:
        before = fh.read()
    ok(action="update", automation="dataset", artifact="ours", meta={"b": 3})
    with open(path) as fh:
        after = fh.read()
    assert after == before.replace('"b": 2', '"b": 3')


def test_ck_legacy_entry_keeps_its_uid_file_untouched(home) -> None:
    folder = _entry(home, "old", {".cm/meta.json": '{"tags": ["x"], "k": 1}',
                                  ".cm/info.json": '{"backup_data_uid": "00000000000000aa"}'})
    ok(action="update", automation="dataset", artifact="old", meta={"k": 2})
    with open(os.path.join(folder, ".cm", "meta.json")) as fh:
        assert json.loads(fh.read()) == {"tags": ["x"], "k": 2}
    assert ok(action="load", automation="dataset", artifact="old")["uid"] == "00000000000000aa"
