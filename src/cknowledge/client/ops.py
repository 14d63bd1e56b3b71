"""What the hub verbs do: login, publish, versions, download, search, submit.

Each function takes the home folder (and the store where entries are read or written)
and returns a JSON-able dict; failures are typed errors that name the hub. The ``hub``
automation (:mod:`cknowledge.automations.hub`) and :func:`cknowledge.client.submit_result`
are thin layers over these.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from urllib.parse import quote

from ..errors import AlreadyExists, AuthError, InvalidInput, MetaError, NotFound
from ..versions import VersionRange
from .config import (DEFAULT_URL, TOKEN_ENV, config_path, read_config, remove_config,
                     settings, write_config)
from .resolve import split_component

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..store.store import Store
    from .http import HubClient

def _client(home: str, hub: str | None) -> HubClient:
    from .http import HubClient

    return HubClient(settings(home, hub))


def _q(*parts: str) -> str:
    return "/".join(quote(str(p), safe="") for p in parts)


def _human(size: Any) -> str:
    try:
        n = float(size)
    except (TypeError, ValueError):
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{int(n)} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


# -- login ---------------------------------------------------------------------------------
def login(home: str, hub: str | None = None, token: str | None = None) -> dict[str, Any]:
    """Check ``token`` against the hub (``GET /whoami``) and store ``{url, token}``."""
    import sys

    from .config import HubSettings
    from .http import HubClient

    if token == "-":
        token = sys.stdin.readline().strip()
    token = token or os.environ.get(TOKEN_ENV) or None
    if not token:
        raise InvalidInput("give the token: cb login --hub=URL --token=TOKEN (or --token=- to "
                           f"read it from stdin, or set ${TOKEN_ENV}); the hub's admin creates "
                           "one with `ck hub user add NAME`")
    current = settings(home, hub)
    url = current.url
    with HubClient(HubSettings(url, token, current.source)) as client:
        who = client.get_json("/whoami", write=True)
    user = who.get("user")
    if not isinstance(user, str) or not user:
        raise AuthError(f"the hub at {url} did not say who the token belongs to")
    path = write_config(home, url, token)
    admin = bool(who.get("admin"))
    return {"hub": url, "user": user, "admin": admin, "config": path,
            "text": f"logged in to {url} as {user}{' (admin)' if admin else ''}; "
                    f"saved in {path}"}


def logout(home: str) -> dict[str, Any]:
    stored = read_config(home)
    removed = remove_config(home)
    url = stored.get("url") if removed else None
    return {"hub": url, "removed": removed,
            "text": f"logged out of {url}" if removed else "not logged in"}


def whoami(home: str, hub: str | None = None) -> dict[str, Any]:
    with _client(home, hub) as client:
        who = client.get_json("/whoami", write=True)
        url = client.url
    user, admin = who.get("user"), bool(who.get("admin"))
    return {"hub": url, "user": user, "admin": admin,
            "text": f"{user}{' (admin)' if admin else ''} at {url}"}


def status(home: str, hub: str | None = None) -> dict[str, Any]:
    """The hub and login in use, without contacting the hub."""
    s = settings(home, hub)
    return {"hub": s.url, "source": s.source, "token": bool(s.token),
            "config": config_path(home), "default": DEFAULT_URL}


# -- dependencies declared by an entry ----------------------------------------------------------
def declared_deps(meta: dict[str, Any], owner: str) -> list[dict[str, str]]:
    """The hub dependencies an entry declares: ``{"component", "range"}`` each.

    Two places are read: the ``hub_deps`` list (``{component: AUTOMATION:NAME, version:
    RANGE}``), and items of ``deps`` that carry a ``component`` key besides their tags
    (their ``version`` is the range). Ranges on the same component are joined."""
    found: dict[str, VersionRange] = {}
    for key in ("hub_deps", "deps"):
        raw = meta.get(key)
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise MetaError(f"{owner}: '{key}' must be a list")
        for item in raw:
            if key == "deps" and not (isinstance(item, dict) and "component" in item):
                continue  # a workflow dependency by tags only: not a hub component
            if not isinstance(item, dict) or not isinstance(item.get("component"), str):
                raise MetaError(f"{owner}: each item of '{key}' needs 'component: "
                                f"AUTOMATION:NAME' (and optionally 'version: RANGE'), "
                                f"not {item!r}")
            try:
                automation, name = split_component(item["component"])
            except InvalidInput as exc:
                raise MetaError(f"{owner}: {key}: {exc.message}") from None
            text = item.get("version", item.get("range"))
            try:
                rng = VersionRange("" if text is None else str(text))
            except InvalidInput as exc:
                raise MetaError(f"{owner}: {key}: {automation}:{name}: {exc.message}") from None
            ident = f"{automation}:{name}"
            found[ident] = found[ident].intersect(rng) if ident in found else rng
    return [{"component": c, "range": str(r)} for c, r in sorted(found.items())]


def check_pep440(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    text = str(version).strip()
    try:
        Version(text)
    except InvalidVersion:
        raise InvalidInput(f"{version!r} is not a PEP 440 version; publish with e.g. "
                           "--version=1.2.0") from None
    return text


# -- publish -------------------------------------------------------------------------------
def publish(home: str, store: Store, component: str, version: str, hub: str | None = None,
            dry_run: bool = False, private: bool = False) -> dict[str, Any]:
    """Pack the entry ``AUTOMATION:[REPO:]NAME`` and publish it as ``version`` (a new
    component ``private``: its owners and invited readers only see it)."""
    import json

    from ..store.cid import parse_artifact
    from .pack import pack_entry

    automation, _, rest = str(component).partition(":")
    if not automation or not rest:
        raise InvalidInput(f"name the entry to publish as AUTOMATION:NAME (e.g. "
                           f"dataset:mnist), not {component!r}")
    if not version:
        raise InvalidInput("give the version to publish: --version=1.2.0")
    version = check_pep440(version)
    try:
        entry = store.load(automation, parse_artifact(rest))
    except NotFound as exc:
        raise NotFound(f"nothing to publish: {exc.message}; `ck find {automation}` lists "
                       "the entries (name one as AUTOMATION:NAME or AUTOMATION:REPO:NAME)"
                       ) from None
    name = str(entry["name"])
    split_component(f"{automation}:{name}")
    ident = f"{automation}:{name}"
    meta = dict(entry.get("meta") or {})
    meta.pop("hub", None)  # where a downloaded copy came from is not part of it
    deps = declared_deps(meta, f"{automation}:{entry['repo']}:{name}")
    if any(d["component"] == ident for d in deps):
        raise MetaError(f"{ident} declares a dependency on itself")
    folder = os.path.join(home, "client")
    os.makedirs(folder, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-publish-", dir=folder)
    try:
        packed = pack_entry(str(entry["path"]), os.path.join(tmp, f"{name}.tar.gz"))
        out: dict[str, Any] = {"automation": automation, "name": name, "version": version,
                               "sha256": packed["sha256"], "size": packed["size"],
                               "files": packed["files"], "skipped": packed["skipped"],
                               "deps": deps, "source": str(entry["path"])}
        if dry_run:
            out["hub"] = settings(home, hub).url
            out["dry_run"] = True
            out["text"] = (f"would publish {ident} {version}: {packed['files']} files, "
                           f"{_human(packed['size'])}, sha256 {packed['sha256']}")
            return out
        with _client(home, hub) as client, open(packed["file"], "rb") as fh:
            answer = client.post_json(
                f"/components/{_q(automation, name)}/versions",
                data={"version": version, "meta": json.dumps(meta, default=str),
                      "deps": json.dumps(deps), "private": "true" if private else "false"},
                files={"archive": (f"{name}-{version}.tar.gz", fh, "application/gzip")})
            out["hub"] = client.url
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sha = str(answer.get("sha256") or "")
    if sha and sha != out["sha256"]:
        from ..errors import ChecksumError

        raise ChecksumError(f"the hub at {out['hub']} stored {ident} {version} with sha256 "
                            f"{sha}, but the archive sent has {out['sha256']}")
    out["size"] = answer.get("size", out["size"])
    deps_text = ", ".join(f"{d['component']}{d['range'] or ''}" for d in deps) or "none"
    skipped = f"; left out (links): {', '.join(packed['skipped'])}" if packed["skipped"] else ""
    out["text"] = (f"published {ident} {version} to {out['hub']}\n"
                   f"  sha256 {out['sha256']}\n  size   {out['size']} bytes "
                   f"({packed['files']} files)\n  deps   {deps_text}{skipped}")
    return out


def grant(home: str, component: str, user: str, hub: str | None = None) -> dict[str, Any]:
    """Make ``user`` an owner of ``AUTOMATION:NAME`` (owners only)."""
    automation, name = split_component(component)
    if not user:
        raise InvalidInput("name the user to make an owner: --user=NAME")
    with _client(home, hub) as client:
        answer = client.post_json(f"/components/{_q(automation, name)}/owners",
                                  json={"user": user})
        url = client.url
    out = dict(answer)
    out.update(hub=url, component=f"{automation}:{name}", user=user)
    out["text"] = f"{user} is now an owner of {automation}:{name} at {url}"
    return out


# -- versions and search --------------------------------------------------------------------
def fetch_component(client: HubClient, ident: str) -> dict[str, Any]:
    from ..errors import CKError

    automation, name = split_component(ident)
    try:
        info = client.get_json(f"/components/{_q(automation, name)}")
    except CKError as exc:
        if isinstance(exc, NotFound) and exc.details.get("status") == 404:
            raise NotFound(f"{automation}:{name} is not on the hub at {client.url}; "
                           "`cb search` lists what is there") from None
        raise
    versions = info.get("versions")
    if not isinstance(versions, list):
        raise InvalidInput(f"the hub at {client.url} sent a record of {ident} without versions")
    return info


def versions(home: str, component: str, hub: str | None = None) -> dict[str, Any]:
    """The published versions of ``AUTOMATION:NAME``, newest first (PEP 440 order)."""
    from .resolve import Version

    automation, name = split_component(component)
    with _client(home, hub) as client:
        info = fetch_component(client, f"{automation}:{name}")
        url = client.url
    items = sorted(info["versions"], key=lambda v: Version(str(v["version"])), reverse=True)
    rows = [[str(v["version"]), str(v.get("published_at") or "")[:19].replace("T", " "),
             str(v.get("publisher") or ""), _human(v.get("size")),
             str(v.get("sha256") or "")[:12],
             ", ".join(f"{d.get('component')}{d.get('range') or ''}"
                       for d in v.get("deps") or []) or "-"] for v in items]
    owners = ", ".join(info.get("owners") or []) or "-"
    text = (f"{automation}:{name} at {url} (owners: {owners})\n"
            + (table(["VERSION", "PUBLISHED", "PUBLISHER", "SIZE", "SHA256", "DEPS"], rows)
               if rows else "no versions published"))
    return {"automation": automation, "name": name, "hub": url,
            "owners": info.get("owners") or [], "tags": info.get("tags") or [],
            "description": info.get("description"), "versions": items, "text": text}


def search(home: str, q: str | None = None, automation: str | None = None,
           tag: str | None = None, limit: int = 50, offset: int = 0,
           hub: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    for key, value in (("q", q), ("automation", automation), ("tag", tag)):
        if value:
            params[key] = value
    with _client(home, hub) as client:
        answer = client.get_json("/components", params=params)
        url = client.url
    items = answer.get("items") or []
    rows = [[f"{i.get('automation')}:{i.get('name')}", str(i.get("latest") or "-"),
             str(i.get("owner") or "-"), str(i.get("description") or "")[:60]] for i in items]
    text = table(["COMPONENT", "LATEST", "OWNER", "DESCRIPTION"], rows) if rows \
        else f"nothing found at {url}"
    return {"hub": url, "items": items, "total": answer.get("total", len(items)), "text": text}


# -- download ------------------------------------------------------------------------------
def download(home: str, store: Store, component: str, version: str | None = None,
             repo: str | None = None, force: bool = False, hub: str | None = None,
             echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Install the newest version of ``component`` that ``version`` (a range) admits, and
    its dependencies at compatible versions, into ``repo`` (default ``local``)."""
    from ..store.archive import import_archive
    from ..store.cid import ArtifactRef
    from .pack import reroot
    from .resolve import resolve

    automation, name = split_component(component)
    root_ident = f"{automation}:{name}"
    target = store._writable(repo)
    with _client(home, hub) as client:
        plan = resolve(lambda ident: fetch_component(client, ident), root_ident, version)
        rows: list[dict[str, Any]] = []
        fetch: list[dict[str, Any]] = []
        for cand in plan:
            auto, nm = cand.ident.split(":", 1)
            row = {"automation": auto, "name": nm, "version": cand.version.text,
                   "sha256": cand.info.get("sha256"), "size": cand.info.get("size"),
                   "repo": target.name, "needed_by": None}
            present = store.find(auto, ArtifactRef(target.name, nm), with_meta=True)
            present = [e for e in present if e["name"] == nm]
            if present and not force:
                have = (present[0].get("meta") or {}).get("hub") or {}
                same = isinstance(have, dict) and have.get("sha256") == row["sha256"]
                if cand.ident != root_ident and same:
                    row.update(status="kept", path=present[0]["path"],
                               uid=present[0]["uid"])
                    rows.append(row)
                    continue
                where = f"{auto}:{target.name}:{nm}"
                what = "" if cand.ident == root_ident else \
                    f" (a dependency, needed at {cand.version.text})"
                raise AlreadyExists(f"{where} exists already{what}; pass --force to replace "
                                    "it with the hub's version, or --repo=OTHER")
            row["status"] = "downloaded"
            rows.append(row)
            fetch.append(row)
        folder = os.path.join(home, "client")
        os.makedirs(folder, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".tmp-download-", dir=folder)
        try:
            archives: list[tuple[str, str, str]] = []
            for row in fetch:
                ident = f"{row['automation']}:{row['name']}"
                if echo is not None:
                    echo(f"downloading {ident} {row['version']} ({_human(row['size'])})")
                file = os.path.join(tmp, f"{len(archives)}.tar.gz")
                got = client.download(
                    f"/components/{_q(row['automation'], row['name'])}/versions/"
                    f"{_q(row['version'])}/archive", file,
                    expected_sha256=str(row["sha256"] or "") or None,
                    expected_size=row["size"] if isinstance(row["size"], int)
                    and not isinstance(row["size"], bool) else None)
                row["sha256"], row["size"] = got["sha256"], got["size"]
                archives.append((file, row["automation"], row["name"]))
            url = client.url
            imported: list[dict[str, Any]] = []
            executables: dict[str, list[str]] = {}
            if archives:
                combined = os.path.join(tmp, "entries.tar")
                executables = reroot(archives, combined)
                imported = import_archive(store, combined, target.name, overwrite=force)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    by_ident = {f"{e['automation']}:{e['name']}": e for e in imported}
    for row in fetch:
        ident = f"{row['automation']}:{row['name']}"
        entry = by_ident[ident]
        for rel in executables.get(ident, []):
            path = os.path.join(entry["path"], *rel.split("/"))
            os.chmod(path, os.stat(path).st_mode | 0o111)
        store.update(row["automation"], ArtifactRef(target.name, row["name"]),
                     meta={"hub": {"url": url, "version": row["version"],
                                   "sha256": row["sha256"]}})
        row.update(path=entry["path"], uid=entry["uid"])
    for cand in plan[1:]:
        for dep in plan:
            if any(d.get("component") == cand.ident for d in dep.info.get("deps") or []):
                next(r for r in rows if f"{r['automation']}:{r['name']}" == cand.ident)[
                    "needed_by"] = dep.label
                break
    lines = [f"{r['status']} {r['automation']}:{r['repo']}:{r['name']} {r['version']} "
             f"(sha256 {str(r['sha256'])[:12]}, {_human(r['size'])})"
             + (f" for {r['needed_by']}" if r["needed_by"] else "") for r in rows]
    return {"component": root_ident, "version": plan[0].version.text, "hub": url,
            "repo": target.name, "list": rows, "text": "\n".join(lines)}


# -- results ------------------------------------------------------------------------------
def submit(home: str, scoreboard: str, submission: dict[str, Any], hub: str | None = None,
           retries: int = 3) -> dict[str, Any]:
    """Post one result to a scoreboard; connection failures (where nothing reached the
    hub) are retried ``retries`` times. The hub stores the same result once."""
    if not isinstance(submission, dict):
        raise InvalidInput("a submission must be a JSON object (solution, components, "
                           "config, metrics, platform, ...)")
    if not isinstance(scoreboard, str) or not scoreboard:
        raise InvalidInput("name the scoreboard to submit to")
    with _client(home, hub) as client:
        answer = client.post_json(f"/scoreboards/{_q(scoreboard)}/results", json=submission,
                                  retries=retries)
        url = client.url
    out = dict(answer)
    out.update(hub=url, scoreboard=scoreboard)
    if out.get("id") is not None:
        out["url"] = f"{url}/results/{out['id']}"
    out.setdefault("duplicate", False)
    out["text"] = (f"{'already on' if out['duplicate'] else 'submitted to'} scoreboard "
                   f"{scoreboard} at {url}: result {out.get('id')}"
                   + (f" ({out['url']})" if out.get("url") else ""))
    return out
