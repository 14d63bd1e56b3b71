"""Reading LoadGen's logs: ``mlperf_log_summary.txt`` and ``mlperf_log_detail.txt``.

:func:`parse_summary` turns the summary's ``key : value`` lines into typed fields
(scenario, mode, result VALID/INVALID and the checks behind it, the scenario's metric,
latency percentiles in ns, the test parameters used). :func:`parse_detail` reads the
detail log's ``:::MLLOG {json}`` lines: every key's last value, and the messages LoadGen
flagged as errors or warnings. :func:`parse_run` combines both for one output folder.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ..errors import InvalidInput, NotFound

SUMMARY = "mlperf_log_summary.txt"
DETAIL = "mlperf_log_detail.txt"
ACCURACY_LOG = "mlperf_log_accuracy.json"

_PERCENTILE = re.compile(r"^(\d+(?:\.\d+)?) percentile latency \(ns\)$")
_SCENARIO_PERCENTILE = re.compile(r"^(\d+(?:\.\d+)?)th percentile latency \(ns\)$")
_ENCOUNTERED = re.compile(r"^(\d+) (warning|error)s? encountered")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")
_FIELDS = {
    "SUT name": "sut_name", "Scenario": "scenario", "Mode": "mode",
    "Samples per second": "samples_per_second",
    "Completed samples per second": "completed_samples_per_second",
    "Result is": "result",
    "Min duration satisfied": "min_duration_satisfied",
    "Min queries satisfied": "min_queries_satisfied",
    "Early stopping satisfied": "early_stopping_satisfied",
    "QPS w/ loadgen overhead": "qps_with_loadgen_overhead",
    "QPS w/o loadgen overhead": "qps_without_loadgen_overhead",
    "Min latency (ns)": "min", "Max latency (ns)": "max", "Mean latency (ns)": "mean",
}
_LATENCY = {"min", "max", "mean"}
_CHECKS = ("min_duration_satisfied", "min_queries_satisfied", "early_stopping_satisfied")


def _value(text: str) -> Any:
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text and "e" not in \
            text.lower() else number
    if text in ("Yes", "NO", "No"):
        return text == "Yes"
    return text


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except FileNotFoundError:
        raise NotFound(f"{what} {path} does not exist: run the MLPerf harness into that "
                       "folder first") from None
    except OSError as exc:
        raise NotFound(f"cannot read {what} {path}: {exc}") from None


def parse_summary_text(text: str) -> dict[str, Any]:
    """The fields of a summary's text; ``valid`` is None when it states no result
    (accuracy runs); ``warnings`` / ``errors`` are False or the count the summary states."""
    out: dict[str, Any] = {"latency_ns": {}, "parameters": {}, "recommendations": []}
    section = "summary"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("====="):
            continue
        if line in ("Additional Stats", "Test Parameters Used"):
            section = "parameters" if line == "Test Parameters Used" else "stats"
            continue
        if line.startswith("No warnings encountered"):
            out["warnings"] = False
            continue
        if line.startswith("No errors encountered"):
            out["errors"] = False
            continue
        counted = _ENCOUNTERED.match(line)
        if counted:
            out[counted.group(2) + "s"] = int(counted.group(1))
            continue
        if line.startswith("* ") or line.startswith("Recommendations:") \
                or line.startswith("Early Stopping Result:"):
            if line.startswith("* "):
                out["recommendations"].append(line[2:])
            continue
        key, sep, value = raw.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if section == "parameters":
            out["parameters"][key.replace(" (ms)", "_ms").replace(" (ns)", "_ns")
                              .replace(" ", "_")] = _value(value)
            continue
        pct = _PERCENTILE.match(key)
        spct = _SCENARIO_PERCENTILE.match(key)
        if pct:
            out["latency_ns"]["p" + pct.group(1).rstrip("0").rstrip(".")] = _value(value)
        elif spct:
            out["target_percentile"] = float(spct.group(1))
            out["percentile_latency_ns"] = _value(value)
        elif key in _FIELDS:
            name = _FIELDS[key]
            if name in _LATENCY:
                out["latency_ns"][name] = _value(value)
            else:
                out[name] = _value(value)
    result = out.get("result")
    out["valid"] = None if result is None else result == "VALID"
    out["failed_checks"] = [c for c in _CHECKS if out.get(c) is False]
    metric = _metric(out)
    if metric is not None:
        out["metric"], out["metric_value"] = metric
    return out


def _metric(s: dict[str, Any]) -> tuple[str, float] | None:
    """The scenario's MLPerf metric: Offline samples/s, SingleStream percentile latency."""
    if s.get("scenario") == "Offline" and "samples_per_second" in s:
        return "samples_per_second", float(s["samples_per_second"])
    if s.get("scenario") == "SingleStream" and "percentile_latency_ns" in s:
        return f"p{s.get('target_percentile', 90.0):g}_latency_ns", \
            float(s["percentile_latency_ns"])
    return None


def parse_summary(path: str) -> dict[str, Any]:
    """:func:`parse_summary_text` of the file at ``path`` (a folder means its summary)."""
    if os.path.isdir(path):
        path = os.path.join(path, SUMMARY)
    parsed = parse_summary_text(_read(path, "LoadGen summary"))
    parsed["path"] = path
    return parsed


def parse_detail(path: str) -> dict[str, Any]:
    """``{"values": {key: last value}, "errors": [...], "warnings": [...]}`` of a detail log."""
    if os.path.isdir(path):
        path = os.path.join(path, DETAIL)
    values: dict[str, Any] = {}
    errors: list[str] = []
    warnings: list[str] = []
    records = 0
    for line in _read(path, "LoadGen detail log").splitlines():
        start = line.find(":::MLLOG ")
        if start < 0:
            continue
        try:
            record = json.loads(line[start + len(":::MLLOG "):])
        except ValueError:
            continue
        if not isinstance(record, dict) or "key" not in record:
            continue
        records += 1
        key = str(record["key"])
        values[key] = record.get("value")
        meta = record.get("metadata") or {}
        message = f"{key}: {record.get('value')}"
        if meta.get("is_error"):
            errors.append(message)
        elif meta.get("is_warning"):
            warnings.append(message)
    if records == 0:
        raise InvalidInput(f"{path} holds no :::MLLOG records: it is not a LoadGen detail "
                           "log; rerun the harness")
    return {"path": path, "values": values, "errors": errors, "warnings": warnings}


def effective_settings(path: str) -> dict[str, Any]:
    """The settings LoadGen ran with (its ``effective_*`` records, prefix dropped): what
    mlperf.conf and user.conf made of the request."""
    values = parse_detail(path)["values"]
    return {k[len("effective_"):]: v for k, v in sorted(values.items())
            if k.startswith("effective_")}


def parse_run(folder: str) -> dict[str, Any]:
    """Summary and detail of one LoadGen output folder, with scenario and mode filled from
    the detail log where the summary has none (accuracy runs)."""
    summary = parse_summary(folder)
    detail = parse_detail(folder)
    values = detail["values"]
    summary.setdefault("scenario", values.get("effective_scenario") or
                       values.get("requested_scenario"))
    summary.setdefault("mode", values.get("effective_test_mode") or
                       values.get("requested_test_mode"))
    summary["detail_errors"] = detail["errors"]
    summary["detail_warnings"] = detail["warnings"]
    summary["detail_path"] = detail["path"]
    return summary
