"""What surrounds a measurement, and how two of them differ.

:func:`capture` records the environment of a benchmark:

``platform``   every fact of :func:`cknowledge.detect.platform.platform_facts`, with the
               fingerprint;
``env``        the relevant process environment: every ``CK_*`` variable, the names in
               :data:`ENV_NAMES` (search paths, compiler flags, thread counts, locale) and
               the step's declared ``env_keys``; names that look like secrets (token,
               password, ...) are never recorded;
``step_env``   the environment the step itself declares (``default_env`` < ``env`` <
               variations < inputs), e.g. ``CK_OPT``;
``git``        per repo involved (the component's and every locked node's): its folder,
               the commit of the git checkout it lies in and whether that folder has
               changes (``git status --porcelain``); ``commit`` and ``dirty`` are ``null``
               outside a git checkout;
``software``   the version of cknowledge.

:func:`diff` compares two experiments' sections (inputs, platform, env, step_env, the lock
file's nodes, git, software) and returns one ``{what, recorded, now}`` per difference.
"""

from __future__ import annotations

import os
import re
import subprocess

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from ..kernel.kernel import Kernel

ENV_NAMES = ("PATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "LIBRARY_PATH", "CPATH", "PYTHONPATH",
             "PYTHONHASHSEED", "VIRTUAL_ENV", "CONDA_PREFIX", "CC", "CXX", "CFLAGS",
             "CXXFLAGS", "LDFLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "OPENBLAS_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "LANG", "LC_ALL", "TZ")
_SECRET = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|API_?KEY|PRIVATE", re.IGNORECASE)
# sections compared by diff(), in report order
SECTIONS = ("inputs", "platform", "env", "step_env", "lock", "git", "software")
_LOCK_FIELDS = ("name", "version", "path", "repo_commit", "variations")
_LOCK_PARTS = ("entry", "files", "env", "platform")  # 'deps' only repeats what changed below


def relevant_env(extra: Iterable[str] = (), environ: dict[str, str] | None = None
                 ) -> dict[str, str]:
    source = dict(os.environ if environ is None else environ)
    wanted = set(ENV_NAMES) | {str(n) for n in extra}
    return {k: v for k, v in sorted(source.items())
            if (k.startswith("CK_") or k in wanted) and not _SECRET.search(k)}


def git_state(path: str) -> dict[str, Any]:
    """The folder, the commit of the checkout it is in, and whether it has changes."""
    out: dict[str, Any] = {"path": path, "commit": None, "dirty": None}

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout if proc.returncode == 0 else None

    if not os.path.isdir(path):
        return out
    commit = git("rev-parse", "HEAD")
    if commit and commit.strip():
        out["commit"] = commit.strip()
        status = git("status", "--porcelain", "--", ".")
        out["dirty"] = None if status is None else bool(status.strip())
    return out


def capture(kernel: Kernel, lock_nodes: list[dict[str, Any]], component_repo: str | None,
            step_env: dict[str, str], env_keys: Iterable[str] = ()) -> dict[str, Any]:
    from .. import __version__
    from ..detect.platform import platform_facts

    names = [component_repo] if component_repo else []
    names += [str(n["repo"]) for n in lock_nodes if n.get("repo")]
    git: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        try:
            repo = kernel.store.repos.get(name)
        except Exception:  # a repo unregistered since: say so rather than fail the run
            git[name] = {"path": None, "commit": None, "dirty": None}
            continue
        git[name] = git_state(repo.path)
    return {"platform": platform_facts(), "env": relevant_env(env_keys),
            "step_env": dict(step_env), "git": git, "software": {"cknowledge": __version__}}


# -- differences ------------------------------------------------------------------------------
def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}.{i}", out)
    else:
        out[prefix] = value


def _lock_nodes(lock: Any) -> list[dict[str, Any]]:
    nodes = lock.get("nodes") if isinstance(lock, dict) else None
    return [n for n in nodes or [] if isinstance(n, dict)]


def _lock_view(lock: Any, labels: dict[str, str]) -> dict[str, Any]:
    """Nodes matched by identifier, labelled ``lock.KIND:NAME`` (the recorded name)."""
    view: dict[str, Any] = {}
    for node in _lock_nodes(lock):
        ident = str(node.get("ident"))
        label = f"lock.{node.get('kind')}:{labels.get(ident, node.get('name'))}"
        for field in _LOCK_FIELDS:
            view[f"{label}.{field}"] = node.get(field)
        parts = node.get("parts") or {}
        for part in _LOCK_PARTS:
            if part in parts:
                view[f"{label}.parts.{part}"] = str(parts[part])[:12]
    return view


def _section(name: str, value: Any, labels: dict[str, str]) -> dict[str, Any]:
    if name == "lock":
        return _lock_view(value, labels)
    out: dict[str, Any] = {}
    if name == "platform" and isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "fingerprint_parts"}
    _flatten(value if value is not None else {}, name, out)
    return out


def diff(recorded: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """Every difference between two experiments' environments, section by section."""
    out: list[dict[str, Any]] = []
    labels = {str(n.get("ident")): str(n.get("name"))
              for n in _lock_nodes(now.get("lock")) + _lock_nodes(recorded.get("lock"))}
    for name in SECTIONS:
        old = _section(name, recorded.get(name), labels)
        new = _section(name, now.get(name), labels)
        for what in list(old) + [k for k in new if k not in old]:
            a, b = old.get(what), new.get(what)
            if a == b:
                continue
            if isinstance(a, list) and isinstance(b, list) and len(a) + len(b) > 8:
                # long lists (CPU flags): only what is on one side
                gone = [x for x in a if x not in b]
                added = [x for x in b if x not in a]
                out.append({"what": what, "recorded": gone, "now": added,
                            "note": "items only on one side"})
                continue
            out.append({"what": what, "recorded": a, "now": b})
    return out


def render(drift: list[dict[str, Any]], left: str = "recorded", right: str = "now") -> str:
    if not drift:
        return "environment: no difference"
    lines = [f"environment differences ({left} → {right}):"]
    for item in drift:
        a = "(unset)" if item["recorded"] is None else item["recorded"]
        b = "(unset)" if item["now"] is None else item["now"]
        if item.get("note"):
            a, b = f"only {left}: {', '.join(map(str, a)) or '-'}", \
                f"only {right}: {', '.join(map(str, b)) or '-'}"
        lines.append(f"  {item['what']}: {a} → {b}")
    return "\n".join(lines)
