"""The command and workflow harnesses: one repetition of a solution run, and its metrics.

A ``command`` run is the manifest's ``run.command`` (a list: run as is; a string: run by
``bash -c``), its placeholders filled from the benchmark's inputs and ``{python}`` (the
venv's interpreter, or the host's), ``{entry}`` (the solution's entry folder) and
``{run_dir}`` (this repetition's folder; a string command gets every value shell-quoted).
It runs in the solution's managed venv (``where: venv``: the venv's ``bin`` first on
``PATH``, ``VIRTUAL_ENV`` set, no ``PYTHONPATH``) or on the host, with the environment of
every prepare step's exports plus:

``CK_RUN_DIR``        this repetition's folder (the working folder unless ``cwd: entry``)
``CK_SOLUTION_DIR``   the solution's entry folder
``CK_METRICS_FILE``   where a ``from: json`` metric is read (``run.metrics_file``)
``CK_ENV_OUT``        a file of ``NAME=value`` lines (as for workflow scripts): the
                      ``CK_METRIC_<NAME>`` lines are ``from: env`` metrics (lines printed on
                      the output count too)
``CK_INPUT_<NAME>``   every input's value

A ``workflow`` run is ``ck run script|program`` of ``run.workflow`` with its inputs filled
the same way; ``from: result`` reads a key of that step's result (a number or a list of
numbers: several samples), ``from: env`` its ``CK_METRIC_<NAME>`` exports.

``time`` (the harness's own) is each repetition's wall time. A declared metric that the run
did not produce is one :class:`~cknowledge.errors.CommandFailed` line naming the metric,
its source and the file or output it looked in.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import string
import sys
import time

from ..errors import CKError, CommandFailed, MetaError
from .manifest import Manifest, Metric

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel

METRIC_PREFIX = "CK_METRIC_"
ENV_OUT = "ck-env.out"
LOG = "output.log"
BUILTINS = ("python", "entry", "run_dir")


def placeholders(text: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise MetaError(f"{text!r}: {exc} (placeholders are {{NAME}}; write {{{{ for a "
                        "brace)") from None


def check_templates(manifest: Manifest, label: str) -> None:
    """Every placeholder of the run names an input or a built-in value."""
    spec = manifest.run
    texts: list[tuple[str, str]] = []
    if spec.command is not None:
        cmd = [spec.command] if isinstance(spec.command, str) else spec.command
        texts += [("run.command", t) for t in cmd]
    texts += [(f"run.env.{k}", v) for k, v in spec.env.items()]
    if spec.workflow is not None:
        if spec.workflow.artifact:
            texts.append(("run.workflow.artifact", spec.workflow.artifact))
        texts += [(f"run.workflow.inputs.{k}", v) for k, v in spec.workflow.inputs.items()
                  if isinstance(v, str)]
    known = [*manifest.inputs, *BUILTINS]
    for where, text in texts:
        for name in placeholders(text):
            if name not in known:
                raise MetaError(f"{label}: {where}: {{{name}}} is neither an input nor one of "
                                f"{', '.join('{' + b + '}' for b in BUILTINS)} (inputs: "
                                f"{', '.join(manifest.inputs) or 'none'})")


def fill(text: str, values: dict[str, Any], quote: bool = False) -> str:
    def show(v: Any) -> str:
        s = "" if v is None else str(v)
        return shlex.quote(s) if quote else s

    return text.format_map({k: show(v) for k, v in values.items()})


class Context:
    """What every repetition of one run shares: the values, the environment, the venv."""

    def __init__(self, manifest: Manifest, entry: dict[str, Any], inputs: dict[str, Any],
                 steps: dict[str, dict[str, Any]], label: str) -> None:
        self.manifest, self.entry, self.inputs, self.label = manifest, entry, inputs, label
        self.exports: dict[str, str] = {}
        for result in steps.values():
            self.exports.update({str(k): str(v) for k, v in (result.get("new_env") or {}).items()})
        spec = manifest.run
        self.python = sys.executable if spec.where == "host" else ""
        if spec.python is not None:
            self.python = self.exports.get(spec.python.var, "")
            if not self.python:
                raise CommandFailed(f"{label}: step {spec.python.step!r} exported no "
                                    f"{spec.python.var} (check the step, or clear its cache "
                                    "entry with `ck rm cache` and run ck init again)")
            if not os.path.isfile(self.python):
                raise CommandFailed(f"{label}: the venv interpreter {self.python} (step "
                                    f"{spec.python.step!r}) does not exist: rebuild it with "
                                    f"`ck rm cache --tags={manifest.step(spec.python.step).tags}`"
                                    f" and `ck init {label}`")

    def values(self, run_dir: str) -> dict[str, Any]:
        return {**self.inputs, "python": self.python, "entry": self.entry["path"],
                "run_dir": run_dir}

    def env(self, run_dir: str) -> dict[str, str]:
        spec = self.manifest.run
        env = dict(os.environ)
        env.update(self.exports)
        if spec.where == "venv":
            for key in ("PYTHONPATH", "PYTHONHOME"):
                env.pop(key, None)
            bindir = os.path.dirname(self.python)
            env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
            env["VIRTUAL_ENV"] = os.path.dirname(bindir)
        values = self.values(run_dir)
        for name, value in self.inputs.items():
            env[f"CK_INPUT_{name.upper()}"] = "" if value is None else str(value)
        env.update(CK_RUN_DIR=run_dir, CK_SOLUTION_DIR=self.entry["path"],
                   CK_METRICS_FILE=os.path.join(run_dir, spec.metrics_file),
                   CK_ENV_OUT=os.path.join(run_dir, ENV_OUT))
        env.update({k: fill(v, values) for k, v in spec.env.items()})
        return env


def run_command(ctx: Context, run_dir: str, on_line: Callable[[str], None] | None
                ) -> dict[str, Any]:
    """One repetition of a command run: its output, exports and wall time."""
    from .. import proc

    spec = ctx.manifest.run
    values = ctx.values(run_dir)
    assert spec.command is not None
    argv: str | list[str] = (fill(spec.command, values, quote=True)
                             if isinstance(spec.command, str)
                             else [fill(a, values) for a in spec.command])
    os.makedirs(run_dir, exist_ok=True)
    cwd = ctx.entry["path"] if spec.cwd == "entry" else run_dir
    started = time.perf_counter()
    try:
        output = proc.run(argv, cwd=cwd, env=ctx.env(run_dir), timeout=spec.timeout_s,
                          on_line=on_line, what=f"{ctx.label}'s command",
                          timeout_source="the manifest's run.timeout_s")
    except CKError as exc:
        _write(os.path.join(run_dir, LOG), "\n".join(exc.details.get("tail") or []))
        raise type(exc)(f"{ctx.label}: {exc.message} (logs: {run_dir})",
                        **exc.details) from None
    seconds = time.perf_counter() - started
    _write(os.path.join(run_dir, LOG), output)
    exports = _read_env_out(os.path.join(run_dir, ENV_OUT))
    for line in output.splitlines():
        if line.startswith(METRIC_PREFIX) and "=" in line:
            key, _, value = line.strip().partition("=")
            exports.setdefault(key, value)
    return {"time": seconds, "output": output, "exports": exports,
            "command": proc.command_text(argv), "result": None}


def run_workflow(kernel: Kernel, ctx: Context, run_dir: str) -> dict[str, Any]:
    """One repetition of a workflow run: the step's result, its exports and wall time."""
    spec = ctx.manifest.run
    wf = spec.workflow
    assert wf is not None
    values = ctx.values(run_dir)
    request: dict[str, Any] = {"action": "run", "automation": wf.kind, "quiet": True,
                               "timeout": spec.timeout_s}
    if wf.artifact:
        request["artifact"] = fill(wf.artifact, values)
    if wf.tags:
        request["tags"] = wf.tags
    for key, value in wf.inputs.items():
        if isinstance(value, str):
            value = fill(value, values)
            if value == "":
                continue  # an input left empty is not given
        request[key] = value
    os.makedirs(run_dir, exist_ok=True)
    started = time.perf_counter()
    try:
        result = kernel.call(request)
    except CKError as exc:
        raise type(exc)(f"{ctx.label}: the workflow step ({wf.kind}:"
                        f"{request.get('artifact') or wf.tags}) failed: {exc.message}",
                        **exc.details) from None
    seconds = time.perf_counter() - started
    _write(os.path.join(run_dir, "result.json"), json.dumps(result, indent=1, default=str))
    exports = {str(k): str(v) for k, v in (result.get("new_env") or {}).items()}
    what = f"{wf.kind}:{request.get('artifact') or wf.tags}"
    shown = " ".join(f"--{k}={v}" for k, v in request.items()
                     if k not in ("action", "automation", "artifact", "quiet"))
    return {"time": seconds, "output": "", "exports": exports, "result": result,
            "command": f"ck run {what} {shown}".strip()}


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _read_env_out(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep and key.strip():
                    out[key.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return out


# -- metrics ---------------------------------------------------------------------------------
def _numbers(value: Any) -> list[float] | None:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            return None
        try:
            number = float(item)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        out.append(number)
    return out or None


def _dotted(data: Any, key: str) -> Any:
    for part in key.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            raise KeyError(part)
    return data


def source_text(metric: Metric, manifest: Manifest) -> str:
    """Where a metric comes from, in the manifest's words."""
    source = metric.from_ or "harness"
    if source == "json":
        return f"from json key {metric.key or metric.name!r} of {manifest.run.metrics_file}"
    if source == "env":
        return f"from the export {metric.key or METRIC_PREFIX + metric.name.upper()}"
    if source == "regex":
        return f"from the pattern {metric.pattern!r} on the output"
    if source == "result":
        return f"from the workflow result's key {metric.key or metric.name!r}"
    return "measured by the harness"


def extract(manifest: Manifest, run: dict[str, Any], run_dir: str, label: str
            ) -> dict[str, list[float]]:
    """The samples of every declared metric from one repetition (or one line naming what is
    missing and where it was looked for)."""
    out: dict[str, list[float]] = {}
    json_data: Any = None
    for metric in manifest.metrics:
        source = metric.from_ or "harness"
        where = f"{label}: metric {metric.name!r} ({source_text(metric, manifest)})"
        raw: Any = None
        if source == "harness":
            raw = run["time"] if metric.name == "time" else None
        elif source == "json":
            path = os.path.join(run_dir, manifest.run.metrics_file)
            if json_data is None:
                try:
                    with open(path, encoding="utf-8") as fh:
                        json_data = json.load(fh)
                except FileNotFoundError:
                    raise CommandFailed(f"{where}: the run wrote no {path} (the command "
                                        "writes it at $CK_METRICS_FILE)") from None
                except (OSError, ValueError) as exc:
                    raise CommandFailed(f"{where}: {path} is not JSON: {exc}") from None
            try:
                raw = _dotted(json_data, metric.key or metric.name)
            except KeyError as exc:
                raise CommandFailed(f"{where}: {path} has no key {exc.args[0]!r}") from None
        elif source == "env":
            name = metric.key or METRIC_PREFIX + metric.name.upper()
            if name not in run["exports"]:
                got = sorted(k for k in run["exports"] if k.startswith(METRIC_PREFIX))
                raise CommandFailed(f"{where}: the run exported no {name} (its "
                                    f"{METRIC_PREFIX}* exports: {', '.join(got) or 'none'}; "
                                    f"logs: {run_dir})")
            raw = run["exports"][name]
        elif source == "regex":
            assert metric.pattern is not None
            found = list(re.finditer(metric.pattern, run["output"], re.MULTILINE))
            if not found:
                raise CommandFailed(f"{where}: no line of the output matches (output: "
                                    f"{os.path.join(run_dir, LOG)})")
            last = found[-1]
            raw = last.group("value") if "value" in last.re.groupindex else last.group(1)
        elif source == "result":
            try:
                raw = _dotted(run["result"] or {}, metric.key or metric.name)
            except KeyError as exc:
                keys = sorted((run["result"] or {}).keys())
                raise CommandFailed(f"{where}: the result has no key {exc.args[0]!r} (its "
                                    f"keys: {', '.join(keys)})") from None
        values = _numbers(raw)
        if values is None:
            raise CommandFailed(f"{where}: {raw!r} is not a number")
        out[metric.name] = values
    return out


def check_rules(manifest: Manifest, means: dict[str, float]) -> tuple[list[str], list[dict[str, Any]]]:
    """The problems of ``means`` against ``validate.rules`` and every rule's verdict."""
    refs = {r.label: r for r in manifest.reference}
    problems: list[str] = []
    verdicts: list[dict[str, Any]] = []
    for rule in manifest.validate_.rules:
        value = means.get(rule.metric)
        wrong = []
        if value is None:
            wrong.append("not measured")
        else:
            if rule.min is not None and value < rule.min:
                wrong.append(f"below the minimum {rule.min:g}")
            if rule.max is not None and value > rule.max:
                wrong.append(f"above the maximum {rule.max:g}")
            if rule.reference is not None and rule.within_pct is not None:
                ref = refs[rule.reference].metrics[rule.metric]
                band = abs(ref) * rule.within_pct / 100
                if abs(value - ref) > band:
                    wrong.append(f"outside {rule.within_pct:g}% of the reference "
                                 f"{rule.reference!r} ({ref:g}: {ref - band:.4g}..{ref + band:.4g})")
        verdicts.append({"rule": rule.describe(), "value": value, "ok": not wrong})
        if wrong:
            shown = "-" if value is None else f"{value:.6g}"
            problems.append(f"{rule.metric} = {shown} is {' and '.join(wrong)} "
                            f"(validate rule: {rule.describe()})")
    return problems, verdicts
