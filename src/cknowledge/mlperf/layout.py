"""The MLPerf results layout, a system description, and the check of both.

::

    ROOT/results/<system>/<model>/<scenario>/performance/run_1/
        mlperf_log_summary.txt  mlperf_log_detail.txt
    ROOT/results/<system>/<model>/<scenario>/accuracy/
        mlperf_log_accuracy.json  accuracy.txt  mlperf_log_summary.txt  mlperf_log_detail.txt
    ROOT/systems/<system>.json

:func:`write_results` copies a harness run's files into place, :func:`system_description`
builds the system JSON from :func:`cknowledge.detect.platform.platform_facts`, and
:func:`check` verifies a tree: required files present, performance runs VALID with no
errors in the detail log, accuracy.txt stating ``mAP=NN.NNN%``, system files complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any

from ..errors import CKError, InvalidInput, NotFound
from ..store.cid import check_name
from . import results

PERFORMANCE_FILES = (results.SUMMARY, results.DETAIL)
ACCURACY_FILES = (results.ACCURACY_LOG, "accuracy.txt", results.SUMMARY, results.DETAIL)
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
SYSTEM_FIELDS = ("division", "submitter", "status", "system_name", "system_type",
                 "number_of_nodes", "host_processor_model_name", "host_processors_per_node",
                 "host_processor_core_count", "host_memory_capacity", "framework",
                 "operating_system", "accelerators_per_node", "accelerator_model_name")
_MAP = re.compile(r"mAP=(\d+(?:\.\d+)?)%")


def system_description(system_name: str, framework: str = "", division: str = "open",
                       submitter: str = "cknowledge", status: str = "available",
                       extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """MLPerf's system description fields from this machine's platform facts."""
    from ..detect.platform import platform_facts

    facts = platform_facts()
    gpus = facts.get("gpus") or []
    desc: dict[str, Any] = {
        "division": division, "submitter": submitter, "status": status,
        "system_name": system_name, "system_type": "edge", "number_of_nodes": 1,
        **host_fields(facts),
        "host_storage_capacity": "", "host_storage_type": "", "framework": framework,
        "other_software_stack": f"Python {(facts.get('python') or {}).get('version')}",
        # the harness runs the model on the host CPU; GPUs present are listed, not used
        "accelerators_per_node": 0, "accelerator_model_name": "N/A",
        "host_gpus_present": [g.get("name") for g in gpus],
        "hw_notes": "", "sw_notes": "cknowledge MLPerf object-detection harness",
        "platform_fingerprint": facts.get("fingerprint"),
    }
    desc.update(extra or {})
    return desc


def host_fields(facts: dict[str, Any]) -> dict[str, Any]:
    """The host's processor, memory and OS fields of a system description."""
    cpu = facts.get("cpu") or {}
    gib = (facts.get("memory") or {}).get("total_gib")
    return {"host_processor_model_name": cpu.get("model") or "unknown",
            "host_processors_per_node": 1,
            "host_processor_core_count": cpu.get("physical_cores") or cpu.get("logical_cores"),
            "host_processor_vcpu_count": cpu.get("logical_cores"),
            "host_memory_capacity": f"{gib} GiB" if gib is not None else "unknown",
            "operating_system": f"{os_text(facts)} (kernel {facts.get('kernel')})"}


def os_text(facts: dict[str, Any]) -> str:
    """The operating system in words: the distribution's own name (``Debian GNU/Linux 12
    (bookworm)``), else its id and version, else the OS name."""
    distro = facts.get("distro") or {}
    if distro.get("pretty_name"):
        return str(distro["pretty_name"])
    named = " ".join(str(p) for p in (distro.get("id"), distro.get("version_id")) if p)
    return named or str(facts.get("os") or "unknown OS")


def _place(folder: str, names: tuple[str, ...], source: str, what: str) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    placed = []
    for name in names:
        src = os.path.join(source, name)
        if not os.path.isfile(src):
            raise NotFound(f"the {what} run in {source} has no {name}: rerun the harness "
                           f"in {what} mode into that folder")
        shutil.copyfile(src, os.path.join(folder, name))
        placed.append(os.path.join(folder, name))
    return placed


def write_results(root: str, system: str, model: str, scenario: str,
                  performance: str | None = None, accuracy: str | None = None,
                  system_desc: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy harness output folders into ROOT's layout; write systems/<system>.json.

    ``performance`` and ``accuracy`` are the runner's ``--output`` folders of the two modes
    (either may be None). Returns the paths written.
    """
    for label, name in (("system", system), ("model", model)):
        check_name(name, what=f"MLPerf {label} name")
    if scenario not in SCENARIOS:
        raise InvalidInput(f"unknown MLPerf scenario {scenario!r}: use one of "
                           f"{', '.join(SCENARIOS)}")
    base = os.path.join(root, "results", system, model, scenario)
    written: dict[str, Any] = {"root": root, "results": base}
    if performance is not None:
        written["performance"] = _place(os.path.join(base, "performance", "run_1"),
                                        PERFORMANCE_FILES, performance, "performance")
    if accuracy is not None:
        written["accuracy"] = _place(os.path.join(base, "accuracy"), ACCURACY_FILES,
                                     accuracy, "accuracy")
    desc = system_desc if system_desc is not None else system_description(system)
    desc.setdefault("system_name", system)
    systems = os.path.join(root, "systems")
    os.makedirs(systems, exist_ok=True)
    path = os.path.join(systems, system + ".json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(desc, fh, indent=2, sort_keys=True)
        fh.write("\n")
    written["system"] = path
    return written


def parse_accuracy_txt(path: str) -> float:
    """The mAP percentage stated in an accuracy.txt (``mAP=NN.NNN%``)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc}; rerun the harness in accuracy mode") \
            from None
    found = _MAP.search(text)
    if found is None:
        raise InvalidInput(f"{path} states no mAP=NN.NNN%: it is not the harness's accuracy "
                           "report; rerun the harness in accuracy mode")
    return float(found.group(1))


def _dirs(path: str) -> list[str]:
    return sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))


def check(root: str) -> dict[str, Any]:
    """Verify ROOT's results tree; return one row per system/model/scenario.

    Raises NotFound (a required file is missing) or InvalidInput (an INVALID run, errors
    in a detail log, an unparsable accuracy.txt or system file), naming every problem.
    """
    base = os.path.join(root, "results")
    if not os.path.isdir(base):
        raise NotFound(f"{root} has no results/ folder: write the harness results there "
                       "first")
    problems: list[CKError] = []
    rows: list[dict[str, Any]] = []
    for system in _dirs(base):
        sys_file = os.path.join(root, "systems", system + ".json")
        try:
            _check_system(sys_file)
        except CKError as exc:
            problems.append(exc)
        for model in _dirs(os.path.join(base, system)):
            for scenario in _dirs(os.path.join(base, system, model)):
                folder = os.path.join(base, system, model, scenario)
                row: dict[str, Any] = {"system": system, "model": model,
                                       "scenario": scenario}
                try:
                    _check_scenario(folder, scenario, row)
                except CKError as exc:
                    problems.append(exc)
                rows.append(row)
    if not rows and not problems:
        raise NotFound(f"{base} holds no <system>/<model>/<scenario> folders: write the "
                       "harness results there first")
    if problems:
        kind = NotFound if all(isinstance(p, NotFound) for p in problems) else InvalidInput
        raise kind(f"MLPerf results in {root} fail the check: "
                   + "; ".join(p.message for p in problems),
                   problems=[p.message for p in problems])
    return {"root": root, "ok": True, "results": rows}


def _require(folder: str, names: tuple[str, ...], what: str) -> None:
    missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        raise NotFound(f"{folder} lacks {', '.join(missing)}: rerun the harness in {what} "
                       "mode and write its results again")


def _check_scenario(folder: str, scenario: str, row: dict[str, Any]) -> None:
    if scenario not in SCENARIOS:
        raise InvalidInput(f"{folder}: {scenario!r} is not an MLPerf scenario (one of "
                           f"{', '.join(SCENARIOS)})")
    perf = os.path.join(folder, "performance", "run_1")
    acc = os.path.join(folder, "accuracy")
    _require(perf, PERFORMANCE_FILES, "performance")
    _require(acc, ACCURACY_FILES, "accuracy")
    run = results.parse_run(perf)
    summary = run["path"]
    if run.get("valid") is not True:
        failed = ", ".join(run["failed_checks"]) or "no 'Result is : VALID' line"
        raise InvalidInput(f"{summary}: the performance run is "
                           f"{run.get('result') or 'without a result'} ({failed}): rerun "
                           "with a longer --min-duration-ms / larger --min-query-count")
    if run.get("scenario") != scenario:
        raise InvalidInput(f"{summary} is a {run.get('scenario')} run filed under "
                           f"{scenario}: write it under its own scenario")
    if run.get("mode") != "PerformanceOnly":
        raise InvalidInput(f"{summary} is a {run.get('mode')} run, not PerformanceOnly: "
                           "put the performance-mode logs in performance/run_1")
    for path, errors in ((run["detail_path"], run["detail_errors"]),):
        if errors:
            raise InvalidInput(f"{path} records LoadGen errors ({'; '.join(errors[:3])}): "
                               "fix the harness run and rerun it")
    acc_run = results.parse_run(acc)
    if acc_run.get("mode") != "AccuracyOnly":
        raise InvalidInput(f"{acc_run['path']} is a {acc_run.get('mode')} run, not "
                           "AccuracyOnly: put the accuracy-mode logs in accuracy/")
    if acc_run["detail_errors"]:
        raise InvalidInput(f"{acc_run['detail_path']} records LoadGen errors "
                           f"({'; '.join(acc_run['detail_errors'][:3])}): rerun it")
    row["mAP_percent"] = parse_accuracy_txt(os.path.join(acc, "accuracy.txt"))
    row["result"] = run["result"]
    row["metric"] = run.get("metric")
    row["metric_value"] = run.get("metric_value")


def _check_system(path: str) -> None:
    try:
        with open(path, encoding="utf-8") as fh:
            desc = json.load(fh)
    except FileNotFoundError:
        raise NotFound(f"system description {path} does not exist: write it with the "
                       "results (layout.write_results)") from None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"system description {path} is not valid JSON ({exc}): "
                           "write it again") from None
    missing = [f for f in SYSTEM_FIELDS if not isinstance(desc, dict) or f not in desc]
    if missing:
        raise InvalidInput(f"system description {path} lacks {', '.join(missing)}: add "
                           "them or write it again")
