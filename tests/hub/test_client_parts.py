"""Parts of the hub client that need no server: version choice, declared deps, packing
and the checks on downloaded archives, the login file."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest

from cknowledge.client.config import read_config, settings, write_config
from cknowledge.client.ops import declared_deps
from cknowledge.client.pack import pack_entry, reroot
from cknowledge.client.resolve import resolve
from cknowledge.errors import ArchiveError, InvalidInput, MetaError, NotFound, Unsatisfiable


def hub(spec: dict[str, dict[str, dict[str, str]]]) -> Any:
    """A hub's component records from ``{ident: {version: {dep_ident: range}}}``."""

    def fetch(ident: str) -> dict[str, Any]:
        if ident not in spec:
            raise NotFound(f"{ident} is not on the hub")
        return {"versions": [{"version": v, "sha256": f"{ident}-{v}",
                              "deps": [{"component": c, "range": r} for c, r in deps.items()]}
                             for v, deps in spec[ident].items()]}

    return fetch


def chosen(plan: list[Any]) -> dict[str, str]:
    return {c.ident: c.version.text for c in plan}


def test_newest_compatible_versions_transitively() -> None:
    fetch = hub({"solution:a": {"1.0": {"model:m": ">=1"}, "1.1": {"model:m": ">=2"}},
                 "model:m": {"1.0": {"dataset:d": "<2"}, "2.0": {"dataset:d": ">=2"},
                             "2.1": {"dataset:d": ">=2,<3"}},
                 "dataset:d": {"1.0": {}, "1.9": {}, "2.0": {}, "2.5": {}, "3.0": {}}})
    plan = resolve(fetch, "solution:a")
    assert chosen(plan) == {"solution:a": "1.1", "model:m": "2.1", "dataset:d": "2.5"}
    assert [c.ident for c in plan] == ["solution:a", "model:m", "dataset:d"]
    assert chosen(resolve(fetch, "solution:a", "<1.1")) == \
        {"solution:a": "1.0", "model:m": "2.1", "dataset:d": "2.5"}


def test_backtracks_to_an_older_version_that_fits() -> None:
    # the newest app needs lib >=2, which needs data >=5 that conflicts with app's own pin
    fetch = hub({"solution:app": {"1.0": {"model:lib": ">=1", "dataset:data": "<5"}},
                 "model:lib": {"1.0": {"dataset:data": ">=1"}, "2.0": {"dataset:data": ">=5"}},
                 "dataset:data": {"1.0": {}, "4.0": {}, "5.0": {}}})
    assert chosen(resolve(fetch, "solution:app")) == \
        {"solution:app": "1.0", "model:lib": "1.0", "dataset:data": "4.0"}


def test_conflict_names_who_needs_what() -> None:
    fetch = hub({"solution:s": {"1.0": {"model:m": "", "dataset:d": ">=2"}},
                 "model:m": {"1.0": {"dataset:d": "<2"}},
                 "dataset:d": {"1.0": {}, "2.0": {}}})
    with pytest.raises(Unsatisfiable) as err:
        resolve(fetch, "solution:s")
    msg = err.value.message
    assert err.value.code == 18
    assert "dataset:d" in msg and "solution:s 1.0 needs >=2" in msg
    assert "model:m 1.0 needs <2" in msg and "1.0" in msg and "2.0" in msg


def test_missing_component_and_prereleases() -> None:
    fetch = hub({"model:m": {"1.0": {"dataset:gone": ""}},
                 "dataset:p": {"1.0": {}, "2.0rc1": {}}, "dataset:q": {"0.9b1": {}}})
    with pytest.raises(NotFound):
        resolve(fetch, "model:m")
    assert chosen(resolve(fetch, "dataset:p")) == {"dataset:p": "1.0"}
    assert chosen(resolve(fetch, "dataset:p", ">=2.0rc1")) == {"dataset:p": "2.0rc1"}
    assert chosen(resolve(fetch, "dataset:q")) == {"dataset:q": "0.9b1"}  # nothing else
    with pytest.raises(InvalidInput):
        resolve(fetch, "nocolon")


def test_declared_deps_from_hub_deps_and_deps() -> None:
    meta = {"hub_deps": [{"component": "dataset:a", "version": ">=1.0"}],
            "deps": [{"tags": "compiler,gcc", "version": ">=9"},
                     {"tags": "dataset,a", "component": "dataset:a", "version": "<2"},
                     {"tags": "model", "component": "model:b"}]}
    assert declared_deps(meta, "x") == [{"component": "dataset:a", "range": ">=1.0,<2"},
                                        {"component": "model:b", "range": ""}]
    with pytest.raises(MetaError):
        declared_deps({"hub_deps": [{"version": "1"}]}, "x")
    with pytest.raises(MetaError):
        declared_deps({"hub_deps": [{"component": "dataset:a", "version": ">>1"}]}, "x")
    with pytest.raises(MetaError):
        declared_deps({"hub_deps": [{"component": "../x"}]}, "x")


def _entry(tmp_path: Path) -> Path:
    entry = tmp_path / "e"
    (entry / "files").mkdir(parents=True)
    (entry / "meta.json").write_text('{"tags": ["t"]}')
    (entry / "files" / "a.txt").write_text("a")
    (entry / ".git").mkdir()
    (entry / ".git" / "config").write_text("x")
    (entry / "mod.pyc").write_text("x")
    (entry / ".tmp-123").write_text("x")
    return entry


def test_pack_is_reproducible_and_leaves_out_vcs(tmp_path: Path) -> None:
    entry = _entry(tmp_path)
    one = pack_entry(str(entry), str(tmp_path / "1.tar.gz"))
    os.utime(entry / "files" / "a.txt", (1, 1))
    two = pack_entry(str(entry), str(tmp_path / "2.tar.gz"))
    assert one["sha256"] == two["sha256"] and one["files"] == 2
    with tarfile.open(tmp_path / "1.tar.gz") as tf:
        assert tf.getnames() == ["files", "files/a.txt", "meta.json"]
    (entry / "files" / "a.txt").write_text("b")
    assert pack_entry(str(entry), str(tmp_path / "3.tar.gz"))["sha256"] != one["sha256"]
    (entry / "meta.json").unlink()
    with pytest.raises(ArchiveError):
        pack_entry(str(entry), str(tmp_path / "4.tar.gz"))


def _tar(path: Path, members: list[tarfile.TarInfo]) -> str:
    with tarfile.open(path, "w:gz") as tf:
        meta = tarfile.TarInfo("meta.json")
        meta.size = 2
        tf.addfile(meta, io.BytesIO(b"{}"))
        for m in members:
            tf.addfile(m, io.BytesIO(b"x" * m.size) if m.isfile() else None)
    return str(path)


@pytest.mark.parametrize("make", [
    lambda: tarfile.TarInfo("/etc/passwd"),
    lambda: tarfile.TarInfo("../../evil"),
    lambda: tarfile.TarInfo("files/../../evil"),
])
def test_reroot_refuses_escaping_members(tmp_path: Path, make: Any) -> None:
    member = make()
    member.size = 1
    src = _tar(tmp_path / "bad.tar.gz", [member])
    with pytest.raises(ArchiveError):
        reroot([(src, "dataset", "d")], str(tmp_path / "out.tar"))


def test_reroot_refuses_links_and_archives_without_meta(tmp_path: Path) -> None:
    link = tarfile.TarInfo("files/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    src = _tar(tmp_path / "link.tar.gz", [link])
    with pytest.raises(ArchiveError, match="link"):
        reroot([(src, "dataset", "d")], str(tmp_path / "out.tar"))
    hard = tarfile.TarInfo("files/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "meta.json"
    src = _tar(tmp_path / "hard.tar.gz", [hard])
    with pytest.raises(ArchiveError):
        reroot([(src, "dataset", "d")], str(tmp_path / "out.tar"))
    nometa = tmp_path / "nometa.tar.gz"
    with tarfile.open(nometa, "w:gz") as tf:
        info = tarfile.TarInfo("sub/meta.json")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(ArchiveError, match="meta"):
        reroot([(str(nometa), "dataset", "d")], str(tmp_path / "out.tar"))
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive")
    with pytest.raises(ArchiveError):
        reroot([(str(garbage), "dataset", "d")], str(tmp_path / "out.tar"))


def test_reroot_places_members_under_the_entry(tmp_path: Path) -> None:
    entry = _entry(tmp_path)
    (entry / "run.sh").write_text("echo")
    os.chmod(entry / "run.sh", 0o755)
    packed = pack_entry(str(entry), str(tmp_path / "p.tar.gz"))
    execs = reroot([(packed["file"], "dataset", "d")], str(tmp_path / "out.tar"))
    assert execs == {"dataset:d": ["run.sh"]}
    with tarfile.open(tmp_path / "out.tar") as tf:
        assert sorted(n for n in tf.getnames()) == [
            "dataset/d", "dataset/d/files", "dataset/d/files/a.txt", "dataset/d/meta.json",
            "dataset/d/run.sh"]


def test_login_file_and_settings_order(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert settings(home, env={}).url == "http://127.0.0.1:8787"
    path = write_config(home, "http://hub.example:1", "secret")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_config(home) == {"url": "http://hub.example:1", "token": "secret"}
    s = settings(home, env={})
    assert (s.url, s.token, s.source) == ("http://hub.example:1", "secret", "login")
    s = settings(home, "hub.example:1/", env={})
    assert (s.url, s.token) == ("http://hub.example:1", "secret")
    s = settings(home, "http://other:2", env={})
    assert (s.url, s.token) == ("http://other:2", None)
    s = settings(home, env={"CK_HUB_URL": "http://other:2", "CK_HUB_TOKEN": "t2"})
    assert (s.url, s.token, s.source) == ("http://other:2", "t2", "$CK_HUB_URL")
    with pytest.raises(InvalidInput):
        settings(home, "ftp://x", env={})
    Path(path).write_text("{broken")
    with pytest.raises(InvalidInput, match="cb login"):
        settings(home, env={})
    Path(path).write_text(json.dumps(["x"]))
    with pytest.raises(InvalidInput):
        read_config(home)
