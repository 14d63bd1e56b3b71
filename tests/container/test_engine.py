"""Engine detection and its one-line failures (no engine, no daemon, a failing build step,
an image that does not match the lock)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from cknowledge.container.engine import Engine, detect
from cknowledge.errors import CommandFailed, InvalidInput, NotFound


def test_no_engine_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CK_CONTAINER_ENGINE", raising=False)
    with pytest.raises(NotFound, match=r"no container engine found \(podman or docker on "
                                       r"PATH\); install one: sudo apt-get install podman runc"):
        detect()
    with pytest.raises(NotFound, match="no docker on PATH; install it: sudo apt-get install docker.io"):
        detect("docker")


def test_unknown_engine(monkeypatch):
    with pytest.raises(InvalidInput, match="--engine=lxc: not a container engine"):
        detect("lxc")
    monkeypatch.setenv("CK_CONTAINER_ENGINE", "rkt")
    with pytest.raises(InvalidInput, match="--engine=rkt"):
        detect()


def test_cli_line_without_an_engine(ck, tmp_path):
    rc, out, err = ck("docker", "build", "script:x", env={"PATH": str(tmp_path),
                                                          "CK_CONTAINER_ENGINE": ""})
    assert rc == 16 and out == ""
    assert err.startswith("ck: error: no container engine found") and err.count("\n") == 1


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client on this machine")
def test_docker_without_its_daemon(monkeypatch):
    done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if done.returncode == 0:
        pytest.skip("a docker daemon runs here")
    with pytest.raises(CommandFailed, match=r"docker is installed but its daemon is not running "
                                            r"\(.*\); start it .* or use --engine=podman"):
        detect("docker")


def test_podman_flags_stay_within_this_process_limits(monkeypatch):
    import resource

    monkeypatch.setenv("CK_CONTAINER_RUNTIME", "runc")
    flags = Engine("podman", "/usr/bin/podman").common_flags()
    assert flags[0] == "--runtime=runc"
    nofile = int(flags[1].split("=")[2].split(":")[0])
    assert nofile <= resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert Engine("docker", "/usr/bin/docker").common_flags() == []
    monkeypatch.setenv("CK_CONTAINER_RUNTIME", "")
    assert not any(f.startswith("--runtime") for f in Engine("podman", "x").common_flags())


def test_gpu_flags(monkeypatch):
    from cknowledge.container.run import gpu_flags

    podman, docker = Engine("podman", "p"), Engine("docker", "d")
    assert gpu_flags(podman, None) == [] and gpu_flags(podman, "none") == []
    with pytest.raises(InvalidInput, match="--gpus=two: write all, none or a number"):
        gpu_flags(podman, "two")
    monkeypatch.setattr(os.path, "exists", lambda p: p == "/dev/nvidia0")
    assert gpu_flags(podman, "all") == ["--device=nvidia.com/gpu=all"]
    assert gpu_flags(podman, "2") == ["--device=nvidia.com/gpu=0", "--device=nvidia.com/gpu=1"]
    assert gpu_flags(docker, "all") == ["--gpus=all"]
    monkeypatch.setattr(os.path, "exists", lambda p: False)
    with pytest.raises(InvalidInput, match="this host has no NVIDIA GPU"):
        gpu_flags(docker, "all")


def test_a_failing_build_step_is_one_line(engine, tmp_path):
    (tmp_path / "Containerfile").write_text(
        "FROM localhost/ck-base:bookworm\nRUN echo preparing\n"
        "RUN echo 'first line' && echo 'the reason it broke' && exit 3\n")
    with pytest.raises(CommandFailed) as caught:
        engine.build(str(tmp_path), "localhost/ck-test/failing:1")
    message = caught.value.message
    assert "\n" not in message
    assert message.startswith("building image localhost/ck-test/failing:1 failed at step 3/3 "
                              "(RUN echo 'first line' && echo 'the reason it broke' && exit 3):")
    assert "the reason it broke" in message


def test_a_missing_base_says_how_to_make_one(engine, home, greet):
    from cknowledge import api

    result = api.access({"action": "build", "automation": "docker", "component": "script:greet",
                         "base": "localhost/ck-test/no-such-base:1", "quiet": True})
    assert result["return"] == 14
    assert "failed at step 1/" in result["error"]
    assert result["error"].endswith("(no base image localhost/ck-test/no-such-base:1: make one "
                                    "from the Debian mirror with 'ck docker base', or pass "
                                    "--base=IMAGE)")


def test_result_paths_in_mounted_folders_are_the_hosts():
    from cknowledge.container.run import host_paths

    mounts = [("/home/u/.ck/solutions/s/runs", "/ck/home/solutions/s/runs")]
    got = host_paths({"run": "/ck/home/solutions/s/runs/1/result.json",
                      "text": "layout: /ck/home/solutions/s/runs/1/results\nx /ck/home/solutions/s/runsY",
                      "list": ["/ck/home/solutions/s/runs", "/ck/home/solutions/s/runsX"],
                      "n": 3}, mounts)
    assert got == {"run": "/home/u/.ck/solutions/s/runs/1/result.json",
                   "text": "layout: /home/u/.ck/solutions/s/runs/1/results\nx /ck/home/solutions/s/runsY",
                   "list": ["/home/u/.ck/solutions/s/runs", "/ck/home/solutions/s/runsX"],
                   "n": 3}


def test_run_command_line(monkeypatch):
    from cknowledge.container.plan import Target
    from cknowledge.container.run import run_argv

    monkeypatch.setenv("CK_CONTAINER_RUNTIME", "")
    built = {"image": "localhost/ck/program-p:0123456789abcdef", "id": "sha", "base": "b",
             "lock_digest": "0123456789abcdef" * 4}
    target = Target.parse("program:p")
    argv = run_argv(Engine("podman", "/usr/bin/podman"), built, target,
                    [("/h/exp", "/ck/home/repos/local/experiment")], "/h/io", offline=True,
                    verb="benchmark")
    assert argv[:3] == ["/usr/bin/podman", "run", "--rm"]
    assert "--network=none" in argv
    assert "--env=CK_CONTAINER_IMAGE=localhost/ck/program-p:0123456789abcdef" in argv
    assert "--env=CK_CONTAINER_LOCK=0123456789abcdef" in argv
    assert "--volume=/h/exp:/ck/home/repos/local/experiment" in argv
    assert "--volume=/h/io:/ck/io" in argv
    assert argv[-4:] == [built["image"], "bash", "-c", "ck benchmark program:p --json "
                         "@/ck/io/request.json > /ck/io/result.json"]
    shell = run_argv(Engine("docker", "docker"), built, Target.parse("script", "a,b"), [],
                     "/h/io", interactive=True, tty=True)
    assert "-it" in shell and shell[-2:] == [built["image"], "bash"]
    assert not any(a.startswith("--ulimit") for a in shell)
