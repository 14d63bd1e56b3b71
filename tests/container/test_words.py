"""The command-line words: ck docker VERB KIND:NAME, ck run KIND:NAME --docker."""

from __future__ import annotations

import pytest

from cknowledge.cli.args import parse_argv
from cknowledge.container.words import docker_request, is_docker_request


def rewrite(*argv: str) -> dict:
    request, _ = parse_argv(list(argv))
    assert is_docker_request(request)
    return docker_request(request)


def test_docker_verbs_name_the_component():
    assert rewrite("docker", "build", "program:cbench-crc32", "--opt=-O3") == {
        "action": "build", "automation": "docker", "component": "program:cbench-crc32",
        "opt": "-O3"}
    assert rewrite("docker", "run", "script", "--tags=a,b", "--shell")["tags"] == "a,b"
    assert rewrite("docker", "base", "--suite=trixie") == {
        "action": "base", "automation": "docker", "suite": "trixie"}
    assert rewrite("docker") == {"action": "help", "automation": "docker", "topic": "docker"}


def test_run_with_docker_flag_runs_in_the_image():
    assert rewrite("run", "script:greet", "--who=me", "--docker") == {
        "action": "run", "automation": "docker", "component": "script:greet", "verb": "run",
        "who": "me"}
    out = rewrite("benchmark", "program:cbench-crc32", "--docker", "--record")
    assert (out["verb"], out["component"], out["record"]) == ("benchmark",
                                                              "program:cbench-crc32", True)


def test_plain_requests_are_left_alone():
    for argv in (["run", "script:x"], ["run", "script:x", "--docker=no"], ["find", "docker"]):
        request, _ = parse_argv(argv)
        assert not is_docker_request(request)


@pytest.mark.parametrize("argv,message", [
    (("docker", "frob", "script:x"), "cannot read 'ck docker frob'"),
    (("docker", "build:x"), "cannot read 'ck docker build:x'"),
    (("docker", "build", "script:a", "script:b"), "takes one component"),
])
def test_unreadable_words(argv, message):
    request, _ = parse_argv(list(argv))
    with pytest.raises(ValueError, match=message):
        docker_request(request)


def test_cli_reports_unreadable_words_in_one_line(ck):
    rc, out, err = ck("docker", "frob", "script:x")
    assert rc == 2 and out == ""
    assert err.startswith("ck: error: cannot read 'ck docker frob'") and err.count("\n") == 1
