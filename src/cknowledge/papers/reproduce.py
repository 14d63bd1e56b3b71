"""``ck reproduce paper:NAME``: run each claim's workflow here, judge it, write the report.

Claims that share a workflow (the same request) share one run. A workflow that fails is
that claim's ``failed`` verdict with the error's line; the other claims go on. The
reproduction folder (``--output`` or ``$CK_HOME/papers/NAME/reproductions/STAMP/``) holds
``report.json`` (the submission the hub takes) and ``report.html``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from typing import Any

from ..errors import CKError, InvalidInput
from . import badges
from .schema import Claim, Paper
from .verdict import VERDICTS, hardware_class, judge, same_class

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..kernel.kernel import Kernel


def select_claims(paper: Paper, claims: list[str] | None) -> list[Claim]:
    if not claims:
        return list(paper.claims)
    known = {c.id: c for c in paper.claims}
    unknown = [c for c in claims if c not in known]
    if unknown:
        raise InvalidInput(f"the paper has no claim {unknown[0]!r} (claims: "
                           f"{', '.join(known)})")
    return [known[c] for c in dict.fromkeys(claims)]


def _placed(request: dict[str, Any], folder: str) -> dict[str, Any]:
    """The request with ``{paper_dir}`` in its text inputs replaced by the paper entry's
    folder (a search space or data file shipped beside the paper)."""
    return {k: v.replace("{paper_dir}", folder) if isinstance(v, str) else v
            for k, v in request.items()}


def _key(claim: Claim) -> str:
    return json.dumps(claim.workflow.request(), sort_keys=True, default=str)


def _drift(kernel: Kernel, paper: Paper, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The environment differences between the paper's recorded environment and the
    experiment the workflow recorded (only the sections the paper recorded)."""
    from ..experiments.drift import diff

    exp = result.get("experiment") if isinstance(result, dict) else None
    if not paper.environment or not isinstance(exp, dict) or not exp.get("name"):
        return []
    try:
        entry = kernel.store.load("experiment", _ref(str(exp.get("repo") or "local"),
                                                     str(exp["name"])))
    except CKError:
        return []
    now = entry.get("meta") or {}
    keys = list(paper.environment)
    return diff({k: paper.environment[k] for k in keys}, {k: now.get(k) for k in keys})


def _ref(repo: str, name: str) -> Any:
    from ..store.cid import parse_artifact

    return parse_artifact(f"{repo}:{name}")


def _folder(home: str, name: str, output: str | None) -> str:
    if output:
        path = os.path.abspath(output)
        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise InvalidInput(f"--output={output}: give a new or empty folder")
        os.makedirs(path, exist_ok=True)
        return path
    base = os.path.join(home, "papers", name, "reproductions")
    os.makedirs(base, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = os.path.join(base, stamp if n == 0 else f"{stamp}-{n}")
        try:
            os.mkdir(path)   # claimed atomically: two reproductions never share one
            return path
        except FileExistsError:
            continue
    raise InvalidInput(f"cannot claim a reproduction folder under {base}")


def reproduce(kernel: Kernel, entry: dict[str, Any], paper: Paper, claims: list[str] | None,
              output: str | None = None,
              on_line: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the selected claims' workflows, judge them, write report.json and report.html."""
    from .. import __version__
    from ..detect.platform import fingerprint, platform_facts

    chosen = select_claims(paper, claims)
    folder = _folder(kernel.home, entry["name"], output)
    facts = platform_facts()
    here = hardware_class(facts)
    in_class, class_diff = same_class(paper.hardware, here)
    say = on_line or (lambda _line: None)
    started = time.monotonic()
    verdicts = _judge_all(kernel, entry, paper, chosen, in_class, say)
    counts = {v: sum(1 for x in verdicts.values() if x["verdict"] == v) for v in VERDICTS}
    whole = len(chosen) == len(paper.claims)
    local_badges = [badges.functional([c.id for c in paper.claims],
                                      {k: v["verdict"] for k, v in verdicts.items()})]
    if not whole:
        local_badges[0]["evidence"] += " (run without --claims to earn it)"
    report = {
        "paper": {"name": entry["name"], "uid": entry.get("uid"), "title": paper.title,
                  "version": paper.version or "", "hub": paper.hub},
        "claims": verdicts, "counts": counts, "complete": whole,
        "platform": {"fingerprint": fingerprint(facts), "facts": _facts(facts)},
        "hardware_class": here, "in_paper_class": in_class, "class_differences": class_diff,
        "badges": local_badges, "cknowledge": __version__,
        "reproduced_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 3),
    }
    from .report import write_reports

    paths = write_reports(folder, paper, report)
    return {**report, "folder": folder, **paths, "text": render(report, paths)}


def _run(kernel: Kernel, paper: Paper, request: dict[str, Any]) -> dict[str, Any]:
    """One workflow: its result and drift, or its error (code and line)."""
    t0 = time.monotonic()
    try:
        result = kernel.call({**request, "quiet": True} if request["action"] in
                             ("benchmark", "autotune", "init") else request)
        return {"ok": True, "result": result, "seconds": time.monotonic() - t0,
                "drift": _drift(kernel, paper, result)}
    except CKError as exc:
        return {"ok": False, "error": exc.message, "code": exc.code,
                "seconds": time.monotonic() - t0, "drift": []}


def _judge_all(kernel: Kernel, entry: dict[str, Any], paper: Paper, chosen: list[Claim],
               in_class: bool, say: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Each claim's verdict; claims with the same request share one run of it."""
    runs: dict[str, dict[str, Any]] = {}
    verdicts: dict[str, dict[str, Any]] = {}
    for i, claim in enumerate(chosen, 1):
        key = _key(claim)
        if key not in runs:
            req = _placed(claim.workflow.request(), str(entry["path"]))
            say(f"[{i}/{len(chosen)}] {claim.id}: ck {req['action']} "
                f"{req['automation']}:{req['artifact']} "
                + " ".join(f"--{k}={v}" for k, v in claim.workflow.inputs.items()))
            runs[key] = _run(kernel, paper, req)
        run = runs[key]
        if run["ok"]:
            verdict = judge(claim, run["result"], claim.hardware == "any" or in_class)
        else:
            verdict = {"verdict": "failed",
                       "reason": f"the workflow failed (code {run['code']}): {run['error']}"}
        verdict.update(_claim_facts(claim), seconds=round(run["seconds"], 3),
                       drift=run["drift"])
        verdicts[claim.id] = verdict
        say(f"    {claim.id}: {verdict['verdict'].replace('_', ' ')}"
            + (f" ({verdict['reason']})" if verdict.get("reason") else ""))
    return verdicts


def _claim_facts(claim: Claim) -> dict[str, Any]:
    return {"figure": claim.figure, "title": claim.title, "unit": claim.unit,
            "hardware": claim.hardware, "value": claim.value,
            "tolerance": claim.tolerance.model_dump(exclude_none=True)}


def _facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The platform facts a report keeps (no CPU flag list, no interpreter path)."""
    cpu = dict(facts.get("cpu") or {})
    cpu.pop("flags", None)
    python = dict(facts.get("python") or {})
    python.pop("executable", None)
    distro = facts.get("distro") or {}
    return {"os": facts.get("os"), "arch": facts.get("arch"), "cpu": cpu.get("model"),
            "logical_cores": cpu.get("logical_cores"),
            "memory_gib": (facts.get("memory") or {}).get("total_gib"),
            "distro": distro.get("pretty_name") if isinstance(distro, dict) else None,
            "python": python.get("version"),
            "gpus": [g.get("name") if isinstance(g, dict) else g
                     for g in facts.get("gpus") or []]}


def _value_text(v: dict[str, Any]) -> str:
    if v.get("points"):
        ok = sum(1 for p in v["points"].values() if p.get("within"))
        return f"{ok}/{len(v['points'])} points within tolerance"
    m = v.get("measured")
    if not isinstance(m, dict):
        return ""
    unit = f" {v.get('unit')}" if v.get("unit") else ""
    return f"{m['mean']:.4g}{unit} (claimed {v['claimed']:.4g}, allowed ±{v['allowed']:.3g})"


def render(report: dict[str, Any], paths: dict[str, str]) -> str:
    lines = [f"paper:{report['paper']['name']}: {report['paper']['title']}"]
    if not report["in_paper_class"]:
        lines.append("this machine is outside the paper's hardware class ("
                     + "; ".join(report["class_differences"]) + ")")
    for cid, v in report["claims"].items():
        lines.append(f"  {cid:<24} {v['figure']:<10} {v['verdict'].replace('_', ' '):<15}"
                     f" {_value_text(v)}")
    counts = report["counts"]
    lines.append(", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n))
    for b in report["badges"]:
        lines.append(f"badge {b['badge']}: {'earned' if b['earned'] else 'not earned'} "
                     f"({b['evidence']})")
    lines.append(f"report: {paths['html']}")
    return "\n".join(lines)
