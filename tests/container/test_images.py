"""Real images: a small script and the cbench program built from their locks and run in
podman (skipped without podman and the base image, required in CI)."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from cknowledge import api
from cknowledge.container.context import folder_digests_all


def access(**request):
    request.setdefault("quiet", True)
    return api.access({"automation": "docker", **request})


def test_script_runs_in_its_image_and_the_same_lock_reuses_it(engine, home, greet, ck):
    built = access(action="build", component="script:greet", who="ana", force=True)
    assert built["return"] == 0, built
    assert built["image"].startswith("localhost/ck/script-greet:") and not built["reused"]
    assert built["base"] == "localhost/ck-base:bookworm" and built["engine"] == "podman"
    before = folder_digests_all(built["context"])
    started = time.perf_counter()
    again = access(action="build", component="script:greet", who="ana")
    after = folder_digests_all(again["context"])
    assert again["reused"] and again["image"] == built["image"], \
        sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert time.perf_counter() - started < 10
    other = access(action="build", component="script:greet", who="bob")  # another lock
    assert other["return"] == 0 and other["image"] != built["image"]
    rc, out, err = ck("run", "script:greet", "--who=ana", "--docker", "--json", timeout=600)
    assert rc == 0, err
    result = json.loads(out)
    greeting = result["new_env"]["CK_GREETING"]
    assert greeting.startswith("ana@") and greeting != f"ana@{socket.gethostname()}"
    assert result["container"]["image"] == built["image"]
    rc, out, err = ck("docker", "run", "script:greet", "--who=ana", timeout=600)
    assert rc == 0, err
    assert "hello from 12." in err  # the script's output streams from the Debian image
    assert out.rstrip().endswith(f"(ran in {built['image']}, podman, base "
                                 "localhost/ck-base:bookworm)")


def test_a_named_image_must_match_the_lock(engine, home, greet):
    built = access(action="build", component="script:greet", who="ana")
    assert built["return"] == 0, built
    other = access(action="run", component="script:greet", who="bob", image=built["image"])
    assert other["return"] == 18
    assert other["error"].startswith(f"image {built['image']} does not match the lock of "
                                     "script:greet: it was built for lock ")
    assert other["error"].endswith("rebuild: ck docker build script:greet")
    same = access(action="run", component="script:greet", who="ana", image=built["image"])
    assert same["return"] == 0, same
    assert same["new_env"]["CK_GREETING"].startswith("ana@")


def test_a_failing_step_inside_comes_back_as_its_error(engine, home, entries):
    entries.add("script", "fails", {"tags": ["fails"]},
                {"run.sh": "echo 'about to fail'\nexit 7\n"})
    result = access(action="run", component="script:fails")
    assert result["return"] == 14
    assert result["error"].startswith("in the container (localhost/ck/script-fails:")
    assert "exit status 7" in result["error"] and "about to fail" in result["error"]


@pytest.mark.builtin
def test_cbench_program_offline_valid_and_recorded_on_the_host(engine, home, ck):
    rc, out, err = ck("benchmark", "program:cbench-crc32", "--docker", "--record",
                      "--repetitions=2", "--offline", "--json", timeout=900)
    assert rc == 0, err
    result = json.loads(out)
    exp = result["experiment"]
    found = api.access({"action": "load", "automation": "experiment",
                        "artifact": f"{exp['repo']}:{exp['name']}"}, home=str(home))
    assert found["return"] == 0, found
    env = found["meta"]["env"]
    image = result["container"]["image"]
    assert env["CK_CONTAINER_ENGINE"] == "podman" and env["CK_CONTAINER_IMAGE"] == image
    assert env["CK_CONTAINER_BASE"] == "localhost/ck-base:bookworm"
    assert env["CK_CONTAINER_IMAGE_ID"] == result["container"]["id"]
    rc, out, err = ck("docker", "run", "program:cbench-crc32", "--offline", "--json", timeout=600)
    assert rc == 0, err
    run = json.loads(out)
    assert run["valid"] is True and run["compile_cached"] is True  # compiled at build time


def test_export_builds_with_the_plain_engine_command(engine, home, greet, tmp_path):
    out = tmp_path / "export"
    result = access(action="export", component="script:greet", output=str(out),
                    base="localhost/ck-base:bookworm")
    assert result["return"] == 0, result
    readme = (out / "README.md").read_text()
    assert f"podman build -t {result['image']} ." in readme
    tag = "localhost/ck-test/exported:1"
    done = subprocess.run([engine.path, "build", *engine.common_flags(), "-t", tag, str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    ran = subprocess.run([engine.path, "run", "--rm", *engine.common_flags(), tag, "ck", "run",
                          "script:greet", "--who=zed", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["new_env"]["CK_GREETING"].startswith("zed@")
    again = access(action="export", component="script:greet", output=str(out))
    assert again["return"] == 8 and "is not an empty folder" in again["error"]


def test_shell_in_the_prepared_image(engine, home, greet):
    import os
    import sys

    from tests.conftest import SRC

    env = dict(os.environ, CK_HOME=str(home), PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "cknowledge.cli.main", "docker", "run",
                           "script:greet", "--who=ana", "--shell"],
                          input="echo inside:$CK_CONTAINER_ENGINE:$CK_HOME; ck find script\n",
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "inside:podman:/ck/home" in done.stdout
    assert "script:local:greet" in done.stdout
    assert "ended (exit status 0)" in done.stdout
