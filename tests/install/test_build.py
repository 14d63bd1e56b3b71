"""Build commands, the env/paths result, and spec validation."""

from __future__ import annotations

import os

import pytest

from cknowledge.errors import CommandFailed, InvalidInput, NotFound
from cknowledge.install import existing_paths, install
from tests.install.conftest import file_url, make_tar, sha


def test_build_commands_env_and_paths(tmp_path) -> None:
    lines: list[tuple] = []
    res = install({"method": "build", "version": "2.0",
                   "commands": ["mkdir -p lib && echo built > lib/libfoo.a",
                                'echo "$CK_INSTALL_DIR|$CALLER_VAR|$CK_FOO_LIB|$PWD"'],
                   "env": {"CK_FOO_LIB": "{install_dir}/lib", "CK_FOO_VERSION": "{version}",
                           "CK_FOO_MISSING": "{install_dir}/nothing",
                           "CK_FOO_SEARCH": "{install_dir}/lib" + os.pathsep + "/no/such",
                           "CK_FOO_LITERAL": "${HOME}/x"}},
                  str(tmp_path), env={"CALLER_VAR": "from-engine"},
                  entry_path="/some/entry", progress=lambda *a: lines.append(a))
    lib = str(tmp_path / "lib")
    assert res["version"] == "2.0"
    assert res["env"] == {"CK_FOO_LIB": lib, "CK_FOO_VERSION": "2.0",
                          "CK_FOO_MISSING": str(tmp_path / "nothing"),
                          "CK_FOO_SEARCH": lib + os.pathsep + "/no/such",
                          "CK_FOO_LITERAL": "${HOME}/x"}
    assert res["paths"] == [lib]  # only paths that exist
    assert (tmp_path / "lib" / "libfoo.a").read_text() == "built\n"
    assert (f"{tmp_path}|from-engine|{lib}|{tmp_path}", 0, None) in lines


def test_a_failing_build_names_command_status_and_last_line(tmp_path) -> None:
    failing = "echo compiling; echo 'error: foo.c:3: missing ;' >&2; exit 3"
    with pytest.raises(CommandFailed) as exc:
        install({"method": "build", "commands": ["touch half-done", failing]}, str(tmp_path))
    msg = exc.value.message
    assert failing in msg and "exit status 3" in msg and "error: foo.c:3: missing ;" in msg
    assert "build step 2/2" in msg and exc.value.code == 14
    assert os.listdir(tmp_path) == []  # what the failed build wrote is gone


def test_build_after_a_download_runs_in_the_sources(tmp_path) -> None:
    data = make_tar(tmp_path / "src.tar.gz", [("foo-1/configure.sh", b"echo configured\n"),
                                               ("foo-1/README", b"r")])
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "foo-1.tar.gz").write_bytes(data)
    target = tmp_path / "t"
    target.mkdir()
    res = install({"method": "download", "url": file_url(tmp_path / "srv" / "foo-1.tar.gz"),
                   "sha256": sha(data), "strip_components": 1, "subdir": "src",
                   "build": ["./configure.sh > ../configured.txt",
                             'test "$CK_SRC_DIR" = "$PWD"']},
                  str(target))
    assert (target / "configured.txt").read_text() == "configured\n"
    assert sorted(os.listdir(target)) == ["configured.txt", "src"]
    assert res["env"] == {} and res["paths"] == [] and res["version"] is None


def test_failed_build_after_download_removes_the_unpacked_sources(tmp_path) -> None:
    data = make_tar(tmp_path / "a.tar.gz", [("a/x", b"x")])
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(CommandFailed, match="false"):
        install({"method": "download", "url": file_url(tmp_path / "a.tar.gz"),
                 "sha256": sha(data), "build": ["false"]}, str(target))
    assert os.listdir(target) == []


@pytest.mark.parametrize("spec, match", [
    ({"method": "downlod"}, "did you mean: download"),
    ({}, "unknown install method None"),
    ({"method": "build"}, "needs `commands`"),
    ({"method": "build", "commands": "true", "build": [1]}, "`build` must be"),
    ({"method": "build", "commands": ["true"], "env": {"X": "{instal_dir}"}},
     "did you mean: install_dir"),
    ({"method": "build", "commands": ["true"], "env": {"X": "{version}"}}, "no `version`"),
    ({"method": "build", "commands": ["true"], "env": {"X": "{venv_python}"}},
     "unknown placeholder"),
    ({"method": "build", "commands": ["true"], "env": {"1X": "a"}}, "not a valid"),
    ({"method": "build", "commands": ["true"], "env": ["X"]}, "must be a mapping"),
    ({"method": "download", "url": "https://h/", "sha256": "a" * 64}, "filename"),
    ({"method": "download", "url": "https://h/x.zip", "sha256": "a" * 64,
      "filename": "../x.zip"}, "filename"),
])
def test_invalid_specs(tmp_path, spec, match) -> None:
    with pytest.raises(InvalidInput, match=match):
        install(spec, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_target_must_exist_and_spec_must_be_a_mapping(tmp_path) -> None:
    with pytest.raises(NotFound):
        install({"method": "build", "commands": ["true"]}, str(tmp_path / "nope"))
    with pytest.raises(InvalidInput, match="mapping"):
        install(["method", "build"], str(tmp_path))  # type: ignore[arg-type]


def test_existing_paths_dedupes_and_skips_relative(tmp_path) -> None:
    assert existing_paths({"A": str(tmp_path), "B": str(tmp_path) + "/", "C": "rel",
                           "D": os.pathsep.join(["/no/such", str(tmp_path)])}) == [str(tmp_path)]
