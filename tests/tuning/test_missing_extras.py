"""Autotuning without the ``tune`` extra: one input error naming what to install, before
anything runs or is written; the CLI says the same in one line."""

from __future__ import annotations

import sys

import pytest

from cknowledge.errors import InvalidInput
from cknowledge.tuning import require
from cknowledge.tuning.runner import run_tuning
from tests.conftest import run_ck
from tests.tuning.synthetic import METRICS, OBJECTIVES, SPACE, evaluate


@pytest.mark.parametrize("blocked,strategy", [("numpy", "random"), ("optuna", "tpe")])
def test_run_tuning_names_the_extra(monkeypatch, blocked, strategy) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # as if not installed
    calls = []
    with pytest.raises(InvalidInput) as exc:
        run_tuning(None, lambda c: calls.append(c) or evaluate(c), space=SPACE,
                   objectives=OBJECTIVES, metrics=METRICS, budget=4, strategy=strategy)
    assert "cknowledge[tune]" in exc.value.message and "\n" not in exc.value.message
    assert calls == []  # nothing was evaluated


def test_require_names_the_module_and_extra(monkeypatch) -> None:
    # as if not installed, even where an earlier test imported it already
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(InvalidInput, match=r"the HTML plot needs plotly, which is not "
                                           r"installed: pip install 'cknowledge\[tune\]'"):
        require("plotly.graph_objects", "the HTML plot")


@pytest.mark.builtin
def test_ck_autotune_without_numpy_is_one_line(home, tmp_path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['numpy'] = None\n")
    from tests.conftest import SRC

    rc, out, err = run_ck(home, "autotune", "program:cbench-crc32", "--budget=2",
                          "--strategy=random", env={"PYTHONPATH": f"{site}:{SRC}"})
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2 and len(lines) == 1, err
    assert lines[0].startswith("ck: error:") and "numpy" in lines[0] \
        and "cknowledge[tune]" in lines[0] and "internal error" not in lines[0]
