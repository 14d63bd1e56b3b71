"""show, compare, export and report on experiment entries with known samples."""

from __future__ import annotations

import csv
import json
import os
from typing import Any

import pytest

from tests.conftest import access, ok


def _add(name: str, times: list[float], size: float = 1000.0, **sections: Any) -> None:
    meta = {"kind": "benchmark",
            "component": {"automation": "program", "name": "demo", "uid": "0" * 16,
                          "repo": "local"},
            "inputs": {"opt": "-O2", "repetitions": len(times)},
            "platform": {"os": "Linux", "kernel": "6.1", "fingerprint": "f" * 16},
            "env": {"CK_A": "1"},
            "metrics": {"time": {"unit": "s", "samples": times},
                        "size": {"unit": "bytes", "samples": [size]}},
            "energy": "unavailable: test"}
    meta.update(sections)
    ok(action="add", automation="experiment", artifact=name, meta=meta)


A = [1.00, 1.02, 0.98, 1.01, 0.99]
B = [1.50, 1.52, 1.48, 1.51, 1.49]


def test_show_gives_the_table_with_every_statistic(home) -> None:
    _add("a", A)
    r = ok(action="show", automation="experiment", artifact="a")
    header, time_row, size_row = r["text"].splitlines()[-3:]
    assert header.split()[:6] == ["metric", "unit", "n", "mean", "median", "std"]
    assert "95% CI" in header and "CV" in header and "noisy" in header
    assert time_row.split()[:5] == ["time", "s", "5", "1", "1"]
    assert "[0.9804, 1.02]" in time_row and "1.6%" in time_row
    assert size_row.split()[:4] == ["size", "bytes", "1", "1000"]
    only = ok(action="show", automation="experiment", artifact="a", metric="size")
    assert list(only["meta"]["metrics"]) == ["size"]


def test_compare_says_what_is_significant_and_what_differs_around(home) -> None:
    _add("a", A)
    _add("b", B, env={"CK_A": "2"}, inputs={"opt": "-O3", "repetitions": 5})
    _add("c", [1.01, 0.99, 1.00, 1.02, 0.98])
    r = ok(action="compare", automation="experiment", artifact="a", target="b")
    assert r["metrics"]["time"]["significant"] is True
    assert r["metrics"]["time"]["rel_diff"] == pytest.approx(0.5)
    assert r["metrics"]["size"]["significant"] is False and r["metrics"]["size"]["t"] is None
    whats = {d["what"]: (d["recorded"], d["now"]) for d in r["environment"]}
    assert whats == {"inputs.opt": ("-O2", "-O3"), "env.CK_A": ("1", "2")}
    assert "inputs.opt: -O2 → -O3" in r["text"] and "yes" in r["text"]
    same = ok(action="compare", automation="experiment", artifact="a", target="c")
    assert same["metrics"]["time"]["significant"] is False and same["environment"] == []
    assert "agrees within noise" in same["text"]


def test_a_misspelled_metric_is_an_error_listing_the_valid_ones(home, ck) -> None:
    _add("a", A)
    _add("b", B)
    r = access(action="compare", automation="experiment", artifact="a", target="b",
               metric="tiem")
    assert r["return"] == 2
    assert "'tiem'" in r["error"] and "time, size" in r["error"]
    rc, out, err = ck("compare", "experiment:a", "experiment:b", "--metric=tiem")
    assert rc == 2 and "did you mean: time" in err and out == ""
    rc, out, err = ck("compare", "experiment:a", "experiment:b", "--metric=time", "--json")
    assert rc == 0 and list(json.loads(out)["metrics"]) == ["time"]


def test_export_writes_one_row_per_metric_and_repetition(home, tmp_path) -> None:
    _add("a", A)
    rows_expected = [("time", i + 1, v) for i, v in enumerate(A)] + [("size", 1, 1000.0)]
    r = ok(action="export", automation="experiment", artifact="a", format="csv",
           file=str(tmp_path / "a.csv"))
    assert r["rows"] == 6 and r["count"] == 1
    with open(tmp_path / "a.csv", newline="") as fh:
        got = list(csv.DictReader(fh))
    assert [(g["metric"], int(g["repetition"]), float(g["value"])) for g in got] == rows_expected
    assert {g["experiment"] for g in got} == {"a"} and got[0]["unit"] == "s"
    ok(action="export", automation="experiment", artifact="a", format="json",
       file=str(tmp_path / "a.json"))
    data = json.loads((tmp_path / "a.json").read_text())
    assert [(d["metric"], d["repetition"], d["value"]) for d in data] == rows_expected
    pq = pytest.importorskip("pyarrow.parquet")
    ok(action="export", automation="experiment", artifact="a", format="parquet",
       file=str(tmp_path / "a.parquet"))
    table = pq.read_table(str(tmp_path / "a.parquet")).to_pylist()
    assert [(d["metric"], d["repetition"], d["value"]) for d in table] == rows_expected
    bad = access(action="export", automation="experiment", artifact="a", format="xlsx",
                 file=str(tmp_path / "a.xlsx"))
    assert bad["return"] == 2 and "csv, json, parquet" in bad["error"]
    assert not (tmp_path / "a.xlsx").exists()


def test_export_without_format_is_still_the_archive(home, tmp_path) -> None:
    _add("a", A)
    r = ok(action="export", automation="experiment", artifact="a",
           file=str(tmp_path / "x.zip"))
    assert os.path.isfile(tmp_path / "x.zip") and [e["name"] for e in r["list"]] == ["a"]


def test_the_html_report_is_self_contained(home, tmp_path) -> None:
    pytest.importorskip("plotly")
    _add("a", [1.00, 1.02, 0.98, 1.01, 0.99, 1.6])
    r = ok(action="report", automation="experiment", artifact="a",
           file=str(tmp_path / "r.html"))
    assert r["file"] == str(tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert text.startswith("<!DOCTYPE html>") and "experiment a" in text
    assert "<td>time</td>" in text and "<td>6</td>" in text and "NOISY" in text
    assert "#6" in text                              # the outlier, by repetition
    assert "Plotly.newPlot" in text and text.count("metric-") >= 2
    assert '<script src="https://cdn.plot.ly' not in text  # the library is embedded: offline
    assert len(text) > 1_000_000


def test_report_of_a_tuning_run_is_its_interactive_plot(home, tmp_path) -> None:
    import os

    from tests.conftest import access, ok

    folder = os.path.join(str(home), "repos", "local", "experiment", "tune-x")
    os.makedirs(folder)
    with open(os.path.join(folder, "meta.json"), "w") as fh:
        fh.write('{"kind": "tuning", "tags": ["tuning"]}')
    r = access(action="report", automation="experiment", artifact="tune-x",
               file=str(tmp_path / "r.html"))
    assert r["return"] == 16 and "no pareto.html" in r["error"]
    with open(os.path.join(folder, "pareto.html"), "w") as fh:
        fh.write("<html>front</html>")
    r = ok(action="report", automation="experiment", artifact="tune-x",
           file=str(tmp_path / "r.html"))
    assert open(r["file"]).read() == "<html>front</html>"
