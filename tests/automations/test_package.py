"""`ck install package` through the workflow engine, from a local file:// mirror."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import yaml

from tests.conftest import access, ok


def _tarball(path: str) -> str:
    data = b"#!/bin/sh\necho tool 2.1.0\n"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("tool-2.1.0/bin/tool")
        info.size, info.mode = len(data), 0o755
        tf.addfile(info, io.BytesIO(data))
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _package(home, name: str, url: str, sha256: str, version: str = "2.1.0") -> str:
    folder = os.path.join(str(home), "repos", "local", "package", name)
    os.makedirs(folder)
    meta = {"alias": name, "uid": hashlib.sha256(name.encode()).hexdigest()[:16],
            "automation": "package", "tags": ["tool", "demo-tool"], "version": version,
            "install": {"method": "download", "url": url, "sha256": sha256,
                        "strip_components": 1,
                        "env": {"CK_TOOL_BIN": "{install_dir}/bin/tool"}}}
    with open(os.path.join(folder, "meta.yaml"), "w") as fh:
        yaml.safe_dump(meta, fh)
    return folder


def test_install_is_cached_and_used_as_a_dependency(home, tmp_path) -> None:
    archive = str(tmp_path / "tool-2.1.0.tar.gz")
    _package(home, "demo-tool", "file://" + archive, _tarball(archive))
    first = ok(action="install", automation="package", tags="demo-tool")
    binary = first["new_env"]["CK_TOOL_BIN"]
    assert os.path.isfile(binary) and first["cached"] is False and first["version"] == "2.1.0"
    again = ok(action="install", automation="package", tags="demo-tool")
    assert again["cached"] is True and again["key"] == first["key"]
    # a script that depends on it gets its env
    script = os.path.join(str(home), "repos", "local", "script", "use-tool")
    os.makedirs(script)
    with open(os.path.join(script, "meta.yaml"), "w") as fh:
        yaml.safe_dump({"alias": "use-tool", "uid": "5c5c5c5c5c5c5c5c", "tags": ["use-tool"],
                        "deps": [{"tags": "demo-tool", "version": ">=2"}]}, fh)
    with open(os.path.join(script, "run.sh"), "w") as fh:
        fh.write('echo "OUT=$($CK_TOOL_BIN)" >> "$CK_ENV_OUT"\n')
    r = ok(action="run", automation="script", tags="use-tool")
    assert r["new_env"]["OUT"] == "tool 2.1.0"
    assert r["deps"]["demo-tool"]["kind"] == "package" and r["deps"]["demo-tool"]["cached"]
    # recorded paths gone: the cached install is invalid and is installed again
    os.unlink(binary)
    third = ok(action="install", automation="package", tags="demo-tool")
    assert third["cached"] is False and os.path.isfile(third["new_env"]["CK_TOOL_BIN"])


def test_wrong_checksum_leaves_no_cache_entry(home, tmp_path) -> None:
    archive = str(tmp_path / "tool-2.1.0.tar.gz")
    _tarball(archive)
    _package(home, "demo-tool", "file://" + archive, "0" * 64)
    r = access(action="install", automation="package", tags="demo-tool")
    assert r["return"] == 17 and "0" * 16 in r["error"]
    assert ok(action="show", automation="cache")["list"] == []


def test_unsatisfiable_range_names_what_was_found(home, tmp_path) -> None:
    archive = str(tmp_path / "tool-2.1.0.tar.gz")
    _package(home, "demo-tool", "file://" + archive, _tarball(archive))
    r = access(action="install", automation="package", tags="demo-tool", version=">=3")
    assert r["return"] == 18
    assert "needs >=3" in r["error"] and "demo-tool 2.1.0" in r["error"]


def test_missing_file_is_a_download_error_naming_the_url(home, tmp_path) -> None:
    _package(home, "demo-tool", "file://" + str(tmp_path / "nowhere.tar.gz"), "1" * 64)
    r = access(action="install", automation="package", tags="demo-tool")
    assert r["return"] in (15, 16) and "nowhere.tar.gz" in r["error"]
