"""The build context of an image: a Containerfile and what it copies, from a resolved lock.

    ctx = write_context(kernel, folder, target, lock, inputs, base)

The Containerfile is ordered from what changes least to what changes most, so that an
unchanged lock reuses every layer and a changed one rebuilds only the layers after the
change: the host's apt sources and Python (stable), cknowledge's pinned dependencies, the
lock's system packages, cknowledge itself (a wheel of the installed source), the user's
repos, then the lock and the step that checks the image against it and prepares the
component (compiles a program, installs a solution's steps) so that it runs offline.

Every file is written with content that depends only on its inputs: the same lock, tool
and repos give the same context, byte for byte (the golden-file tests rely on it), and
``digest`` is the sha256 of all of it — the image is rebuilt when it changes.
"""

from __future__ import annotations

import json
import os
import shutil

from ..cache.keys import digest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..kernel.kernel import Kernel
    from .plan import Target

IMAGE_HOME = "/ck/home"
VENV = "/opt/ck/venv"
_SKIP_IN_REPOS = {".git", ".hg", ".svn", "__pycache__", "experiment", ".mypy_cache"}
APT_INSTALL = ("apt-get update && apt-get install -y --no-install-recommends {} "
               "&& rm -rf /var/lib/apt/lists/*")


def lock_digest(lock: dict[str, Any], base: str) -> str:
    """The image tag: sha256 of the lock's nodes (kind, entry, version, key), the base and
    the cknowledge version — the same lock gives the same tag."""
    from .. import __version__

    nodes = [{k: n.get(k) for k in ("ident", "kind", "name", "uid", "version", "key")}
             for n in lock["nodes"]]
    return digest({"nodes": nodes, "base": base, "cknowledge": __version__})


def containerfile(target: Target, lock_tag: str, base: str, needs: dict[str, list[str]],
                  has_apt: bool) -> str:
    from .. import __version__

    lines = [f"# {target.label}: image built from its resolved lock by cknowledge {__version__}",
             "# (ck docker build); context and layer order: docs/containers.md",
             f"FROM {base}",
             "ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1"]
    if has_apt:
        lines += ["# the host's apt sources and keyrings (its mirrors)", "COPY apt/ /"]
    lines += ["RUN " + APT_INSTALL.format("python3 python3-venv ca-certificates"),
              f"RUN python3 -m venv {VENV}",
              "# pip uses the host's package indexes",
              "COPY pip.conf /etc/pip.conf",
              "COPY pip-ca.pem /etc/ck/pip-ca.pem",
              "# cknowledge's dependencies, pinned to the versions installed on the host",
              f"COPY requirements.txt {VENV}/requirements.txt",
              f"RUN {VENV}/bin/pip install -r {VENV}/requirements.txt"]
    if needs["apt"]:
        lines += ["# system software the lock detected", "RUN " + APT_INSTALL.format(
            " ".join(needs["apt"]))]
    if needs["pip"]:
        lines += ["# Python packages the lock detected",
                  f"RUN {VENV}/bin/pip install " + " ".join(needs["pip"])]
    lines += ["# cknowledge itself: the version installed on the host",
              "COPY wheels/ /opt/ck/wheels/",
              f"RUN {VENV}/bin/pip install --no-deps /opt/ck/wheels/*.whl",
              f"ENV PATH={VENV}/bin:$PATH CK_HOME={IMAGE_HOME}",
              "# the user's repos with the entries the lock needs",
              f"COPY home/ {IMAGE_HOME}/",
              "# the lock; check the image against it and prepare the component",
              "COPY lock.yaml request.json /ck/build/",
              "RUN ck prepare docker --lock=/ck/build/lock.yaml --request=/ck/build/request.json",
              f'LABEL org.cknowledge.lock="{lock_tag}" org.cknowledge.component="{target.label}" '
              f'org.cknowledge.base="{base}" org.cknowledge.version="{__version__}"',
              "WORKDIR /ck/work",
              'CMD ["bash"]']
    return "\n".join(lines) + "\n"


def write_context(kernel: Kernel, folder: str, target: Target, lock: dict[str, Any],
                  inputs: dict[str, Any], base: str) -> dict[str, Any]:
    """Write the context into ``folder`` (emptied first); return tag digest and files."""
    from . import hostcfg, plan, wheel

    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    needs = plan.system_needs(kernel, lock)
    tag = lock_digest(lock, base)
    apt = hostcfg.apt_sources()
    for path, data in apt.items():
        _write(os.path.join(folder, "apt", path.lstrip("/")), data)
    indexes = hostcfg.pip_indexes()
    _write(os.path.join(folder, "pip.conf"), hostcfg.pip_conf_text(indexes).encode())
    cert = b""  # empty unless pip trusts a bundle of its own on the host
    if indexes.get("cert"):
        with open(indexes["cert"], "rb") as fh:
            cert = fh.read()
    _write(os.path.join(folder, "pip-ca.pem"), cert)
    _write(os.path.join(folder, "requirements.txt"),
           ("\n".join(wheel.pinned_requirements()) + "\n").encode())
    os.makedirs(os.path.join(folder, "wheels"))
    wheel.write_wheel(os.path.join(folder, "wheels"))
    copied = copy_repos(kernel, lock, os.path.join(folder, "home"))
    lock_text = canonical_yaml({k: v for k, v in lock.items() if k != "by_ident"})
    _write(os.path.join(folder, "lock.yaml"), lock_text.encode())
    request = {"component": {"kind": target.kind, "name": target.name, "tags": target.tags},
               "inputs": plan.image_inputs(target, inputs),
               "plan_inputs": plan.plan_inputs(target, inputs)}
    _write(os.path.join(folder, "request.json"),
           (json.dumps(request, indent=2, sort_keys=True) + "\n").encode())
    _write(os.path.join(folder, "Containerfile"),
           containerfile(target, tag[:16], base, needs, bool(apt)).encode())
    return {"folder": folder, "lock_digest": tag, "context_digest": context_digest(folder),
            "needs": needs, "repos": copied, "pip_skipped": indexes["skipped"]}


def canonical_yaml(data: Any) -> str:
    import yaml

    return str(yaml.safe_dump(data, sort_keys=True, default_flow_style=False))


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def context_digest(folder: str) -> str:
    return digest(folder_digests_all(folder))


def folder_digests_all(folder: str) -> dict[str, str]:
    """relative path → sha256 of every file (dot-files too) and each file's mode."""
    from ..cache.keys import file_digest

    out: dict[str, str] = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                rel = os.path.relpath(path, folder).replace(os.sep, "/")
                out[rel] = file_digest(path) + f":{os.stat(path).st_mode & 0o777:o}"
    return out


def copy_repos(kernel: Kernel, lock: dict[str, Any], home: str) -> list[dict[str, str]]:
    """Copy the non-builtin repos the lock uses into ``home/repos/NAME`` and write the
    image's ``repos.json``. ``local`` gets only the entries the lock names (it also holds
    the user's experiments); other repos come whole, without VCS folders and experiments."""
    from ..store.cid import ArtifactRef

    used = sorted({str(n["repo"]) for n in lock["nodes"] if n.get("repo")} - {"builtin"})
    os.makedirs(home, exist_ok=True)
    registry: list[dict[str, Any]] = []
    copied = []
    for name in used:
        repo = kernel.store.repos.get(name)
        dest = os.path.join(home, "repos", name)
        if name == "local":
            for node in lock["nodes"]:
                if node.get("repo") == "local":
                    entry = kernel.store.load(node["kind"], ArtifactRef("local", node["uid"]))
                    rel = os.path.relpath(entry["path"], repo.path)
                    _copy_tree(entry["path"], os.path.join(dest, rel))
        else:
            _copy_tree(repo.root, dest)
            inner = os.path.relpath(repo.path, repo.root)
            item: dict[str, Any] = {"name": name, "uid": repo.uid, "url": repo.url,
                                    "managed": False, "readonly": False,
                                    "path": os.path.normpath(f"{IMAGE_HOME}/repos/{name}/{inner}")}
            if inner != ".":
                item["root"] = f"{IMAGE_HOME}/repos/{name}"
            registry.append(item)
        copied.append({"repo": name, "from": repo.root, "to": f"{IMAGE_HOME}/repos/{name}"})
    # always written: podman's layer cache never reuses the COPY of an empty folder
    _write(os.path.join(home, "repos.json"),
           (json.dumps({"repos": registry}, indent=2, sort_keys=True) + "\n").encode())
    return copied


def _copy_tree(src: str, dest: str) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in _SKIP_IN_REPOS or n.endswith(".pyc")}

    shutil.copytree(src, dest, ignore=ignore, symlinks=True, dirs_exist_ok=True)
