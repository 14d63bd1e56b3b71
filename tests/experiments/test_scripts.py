"""Benchmarking script steps (no compiler needed), energy counters from a fake RAPL tree,
and replay drift with a changed environment variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cknowledge.experiments.energy import EnergyMeter
from tests.conftest import access, backdate_tree, ok

RUN_SH = """\
echo run >> "$COUNT_FILE"
n=$(wc -l < "$COUNT_FILE")
echo "CK_METRIC_ACCURACY=0.9$n" >> "$CK_ENV_OUT"
echo "CK_METRIC_LABEL=high" >> "$CK_ENV_OUT"
if [ -f "$CK_RAPL_DIR/intel-rapl:0/energy_uj" ]; then  # the step "uses" 1.5 J
  f="$CK_RAPL_DIR/intel-rapl:0/energy_uj"; echo $(( $(cat "$f") + 1500000 )) > "$f"
fi
"""


def _script(home: Path, name: str = "acc", cache: bool = True) -> Path:
    folder = home / "repos" / "local" / "script" / name
    folder.mkdir(parents=True)
    meta = {"alias": name, "uid": "00000000000000a1", "tags": ["acc", "demo"], "cache": cache,
            "input_mapping": {"level": "CK_LEVEL"}, "default_env": {"CK_LEVEL": "1"},
            "env_keys": ["COUNT_FILE"]}
    (folder / "meta.yaml").write_text(yaml.safe_dump(meta))
    (folder / "run.sh").write_text(RUN_SH)
    backdate_tree(home / "repos" / "local")
    return folder


def _rapl(root: Path, uj: int = 1000, wrap: int = 10_000_000) -> Path:
    for name, label in (("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core"),
                        ("intel-rapl:1", "psys")):
        (root / name).mkdir(parents=True)
        (root / name / "name").write_text(label + "\n")
        (root / name / "energy_uj").write_text(f"{uj}\n")
        (root / name / "max_energy_range_uj").write_text(f"{wrap}\n")
    return root


def test_the_energy_meter_reads_package_domains_and_handles_wrap(tmp_path) -> None:
    meter = EnergyMeter(str(_rapl(tmp_path / "rapl")))
    assert meter.available and [d["domain"] for d in meter.domains] == ["intel-rapl:0"]
    assert meter.read() == [1000]
    assert meter.joules([1000], [2_501_000]) == pytest.approx(2.5)
    assert meter.joules([9_000_000], [1_000_000]) == pytest.approx(2.0)  # wrapped at 10 J
    assert meter.describe() == {"source": "rapl", "root": str(tmp_path / "rapl"),
                                "domains": ["intel-rapl:0 (package-0)"]}


def test_unreadable_or_missing_counters_say_why(tmp_path, monkeypatch) -> None:
    missing = EnergyMeter(str(tmp_path / "none"))
    assert not missing.available and "no RAPL counters" in str(missing.describe())
    root = _rapl(tmp_path / "rapl")
    (root / "intel-rapl:0" / "energy_uj").unlink()
    (root / "intel-rapl:0" / "energy_uj").mkdir()     # unreadable as a number
    meter = EnergyMeter(str(root))
    assert not meter.available
    assert str(meter.describe()).startswith("unavailable: cannot read")
    monkeypatch.setenv("CK_RAPL_DIR", str(tmp_path / "elsewhere"))
    assert "elsewhere" in str(EnergyMeter().describe())


def test_a_cached_step_runs_every_repetition_and_its_metrics_are_kept(home, tmp_path,
                                                                     monkeypatch) -> None:
    _script(home)
    count = tmp_path / "count"
    monkeypatch.setenv("COUNT_FILE", str(count))
    monkeypatch.setenv("CK_RAPL_DIR", str(_rapl(tmp_path / "rapl")))
    r = ok(action="benchmark", automation="script", artifact="acc", repetitions=3, warmup=1,
           level="3", quiet=True)
    assert count.read_text().count("run") == 4         # 1 warm-up + 3, none from the cache
    assert r["metrics"]["accuracy"]["samples"] == [0.92, 0.93, 0.94]   # warm-up left out
    assert r["metrics"]["time"]["stats"]["n"] == 3 and "label" not in r["metrics"]
    assert r["metrics"]["energy_j"]["samples"] == pytest.approx([1.5, 1.5, 1.5])
    assert any("CK_METRIC_LABEL" in w for w in r["warnings"])
    assert r["experiment"] is None and r["inputs"]["inputs"] == {"level": "3"}
    assert ok(action="find", automation="experiment")["list"] == []
    assert ok(action="show", automation="cache")["list"] == []


def test_recorded_script_benchmark_and_replay_drift_with_a_changed_env_var(
        home, tmp_path, monkeypatch) -> None:
    _script(home)
    monkeypatch.setenv("COUNT_FILE", str(tmp_path / "count"))
    monkeypatch.setenv("CK_EXPERIMENT_MARK", "before")
    monkeypatch.setenv("CK_RAPL_DIR", str(tmp_path / "no-rapl"))
    r = ok(action="benchmark", automation="script", artifact="acc", repetitions=3, warmup=0,
           record=True, name="s1", quiet=True)
    assert r["experiment"]["name"] == "s1"
    meta = ok(action="load", automation="experiment", artifact="s1")["meta"]
    assert meta["env"]["CK_EXPERIMENT_MARK"] == "before"
    assert meta["env"]["COUNT_FILE"] == str(tmp_path / "count")    # a declared env_key
    assert meta["step_env"] == {"CK_LEVEL": "1", "COUNT_FILE": str(tmp_path / "count")}
    assert meta["energy"].startswith("unavailable:")
    monkeypatch.delenv("CK_EXPERIMENT_MARK")
    again = ok(action="replay", automation="experiment", artifact="s1")
    assert again["lock"] == "reproduced"
    drift = {d["what"]: (d["recorded"], d["now"]) for d in again["drift"]}
    assert drift == {"env.CK_EXPERIMENT_MARK": ("before", None)}
    # accuracy is 0.91, 0.92, 0.93 recorded and 0.94 .. 0.96 now: a real change (t = 3.7)
    assert again["metrics"]["accuracy"]["significant"] is True and again["agree"] is False
    assert "env.CK_EXPERIMENT_MARK: before → (unset)" in again["text"]


def test_a_replay_whose_script_changed_reports_it(home, tmp_path, monkeypatch) -> None:
    folder = _script(home)
    monkeypatch.setenv("COUNT_FILE", str(tmp_path / "count"))
    ok(action="benchmark", automation="script", artifact="acc", repetitions=2, record=True,
       name="s1", quiet=True)
    (folder / "run.sh").write_text(RUN_SH + "\n# changed\n")
    backdate_tree(folder)
    again = ok(action="replay", automation="experiment", artifact="s1")
    assert again["lock"].startswith("not reproducible") and "files changed" in again["lock"]
    assert [d["what"] for d in again["drift"]] == ["lock.script:acc.parts.files"]


def test_script_benchmark_inputs_are_checked(home) -> None:
    _script(home)
    r = access(action="benchmark", automation="script", artifact="acc", repetitions=0)
    assert r["return"] == 2 and "--repetitions" in r["error"]
    r = access(action="benchmark", automation="script", artifact="acc", levle="3")
    assert r["return"] == 2 and "no input 'levle'" in r["error"]
    assert not os.path.exists(home / "repos" / "local" / "experiment")
