"""CLI conventions: --json on failure, short flags, unknown commands, serve help, help
text with descriptions and examples, shell completion, missing extras."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from cknowledge.cli.args import UsageError, parse_argv


def one_error_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ck: error:") and "Traceback" not in err, err
    return lines[0]


def test_json_failure_prints_ck_contract_on_stdout(ck):
    for args, code in ((["load", "dataset:nope"], 16), (["find", "dataset", "--=x"], 2),
                       (["find", "dataset", "-zz"], 2)):
        for flag in ("--json", "-j"):
            rc, out, err = ck(*args, flag)
            assert rc == code, (args, rc, out, err)
            line = one_error_line(err)
            assert json.loads(out) == {"return": code, "error": line[len("ck: error: "):]}


def test_short_flags():
    req, flags = parse_argv(["find", "dataset", "-j", "-q", "-v"])
    assert flags["json"] and flags["quiet"] and flags["verbose"] and "no_tags" not in req
    _, flags = parse_argv(["find", "dataset", "-jq"])
    assert flags["json"] and flags["quiet"]
    _, flags = parse_argv(["find", "dataset", "--verbose"])
    assert flags["verbose"]
    req, _ = parse_argv(["run", "script", "-5"])  # a negative number stays a word
    assert req["artifacts"] == ["-5"]


@pytest.mark.parametrize("word", ["-x", "-raw", "-jx"])
def test_unknown_short_option_is_an_error_not_a_tag_exclusion(word, ck):
    with pytest.raises(UsageError, match="unknown option"):
        parse_argv(["find", "dataset", word])
    rc, out, err = ck("find", "dataset", word)
    assert rc == 2 and "unknown option" in one_error_line(err) and out == ""


def test_json_short_flag_success(ck):
    ck("add", "dataset:x")
    rc, out, err = ck("find", "dataset", "-j")
    assert rc == 0 and json.loads(out)["list"][0]["name"] == "x"


def test_unknown_command(ck):
    rc, out, err = ck("nosuch")
    assert rc == 3 and "unknown command 'nosuch'" in one_error_line(err)
    rc, out, err = ck("verison")
    assert rc == 3 and "version" in one_error_line(err)


def test_serve_help(ck):
    rc, out, err = ck("serve", "--help")
    assert rc == 0 and "--port" in out and "--token" in out and err == ""
    rc, out, err = ck("hub", "serve", "--help")
    assert rc == 0 and "--db" in out and "--port" in out and err == ""
    rc, out, err = ck("serve", "-h")
    assert rc == 0 and "--port" in out


def test_help_action_automation_shows_descriptions_defaults_examples(ck):
    rc, out, err = ck("help", "find", "dataset")
    assert rc == 0, err
    assert "ck find dataset" in out and "e.g. --tags=" in out
    assert "select by tags" in out and "list[str]" not in out and "dict[" not in out
    rc2, out2, _ = ck("help", "dataset", "find")
    assert rc2 == 0 and out2 == out
    rc, out, err = ck("help", "benchmark", "script")
    assert rc == 0 and "(default: 5)" in out and "e.g. --repetitions=5" in out
    rc, out, err = ck("help", "run", "script", "--json")
    data = json.loads(out)
    timeout = {i["name"]: i for i in data["actions"]["run"]["inputs"]}["timeout"]
    assert timeout["description"] and timeout["example"].startswith("--timeout=")
    rc, out, err = ck("help", "dataset")  # the overview: no Python types either
    assert rc == 0 and "list[str]" not in out and "--tags" in out


def test_completion_scripts(ck):
    for shell, marker in (("bash", "complete -o default -F _ck_complete ck"),
                          ("zsh", "compdef _ck ck"), ("fish", "complete -c ck")):
        rc, out, err = ck("completion", shell)
        assert rc == 0 and marker in out and "__complete" in out, err
    rc, out, err = ck("completion", "powershell")
    assert rc == 2 and "bash|zsh|fish" in one_error_line(err)
    rc, out, err = ck("completion", "--help")
    assert rc == 0 and "bash|zsh|fish" in out and err == ""


def test_complete_candidates(ck):
    ck("add", "dataset:coco-mini")
    ck("add", "dataset:cifar")
    def comp(*words):
        rc, out, err = ck("__complete", *words)
        assert rc == 0 and err == ""
        return out.split()
    assert "find" in comp("fi") and "completion" in comp("")
    assert "dataset" in comp("find", "da")
    assert comp("find", "dataset:co") == ["dataset:coco-mini"]
    assert comp("load", "dataset:local:c") == ["dataset:local:cifar", "dataset:local:coco-mini"]
    assert "--tags=" in comp("find", "dataset", "--t") and "--with-meta" in comp("find",
                                                                                 "dataset", "--w")
    assert "--env." in comp("run", "script", "--e")
    assert "--timeout=" in comp("run", "script", "--ti")
    assert comp("completion", "") == ["bash", "zsh", "fish"]
    assert {"dataset", "find"} <= set(comp("help", ""))
    assert "dataset" in comp("help", "find", "") and "run" in comp("help", "script", "")
    assert comp("find", "nosuchauto:") == []  # a failure completes nothing, silently


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_function(ck, home):
    import os
    import sys

    from tests.conftest import SRC

    rc, script, _ = ck("completion", "bash")
    ck("add", "dataset:coco-mini")
    shim = (f'ck() {{ PYTHONPATH={SRC} CK_HOME={home} {sys.executable} -m cknowledge.cli.main '
            '"$@"; }\n')
    body = (shim + script + 'COMP_LINE="ck find dataset:co"; COMP_POINT=${#COMP_LINE}\n'
            '_ck_complete; printf "%s\\n" "${COMPREPLY[@]}"\n')
    out = subprocess.run(["bash", "-c", body], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ)).stdout
    assert out.split() == ["coco-mini"]  # bash splits at ':', so only the rest is offered


def test_missing_extra_is_one_line(main_in_process, monkeypatch):
    from cknowledge.kernel.kernel import Kernel

    def needs_optuna(self, request):
        raise ModuleNotFoundError("No module named 'optuna'", name="optuna")

    monkeypatch.setattr(Kernel, "call", needs_optuna)
    rc, out, err = main_in_process("autotune", "program:x")
    line = one_error_line(err)
    assert rc == 2 and "optuna" in line and "cknowledge[tune]" in line
    assert "internal error" not in line
    from cknowledge import api

    r = api.access({"action": "autotune", "automation": "program", "artifact": "x"})
    assert r["return"] == 2 and "cknowledge[tune]" in r["error"], r


def test_verbose_shows_commands_and_env(home, capsys):
    from cknowledge import proc

    seen: list[str] = []
    token = proc.VERBOSE.set(seen.append)
    try:
        proc.run(["true"], cwd=str(home.parent), env={"CK_X": "1", "PATH": "/usr/bin:/bin"})
    finally:
        proc.VERBOSE.reset(token)
    assert seen[0].startswith("$ true") and "    CK_X=1" in seen


def test_input_file_that_is_not_text_is_one_line(ck, tmp_path):
    """``@file`` holding binary data is one usage error naming the file, never a traceback;
    a UTF-8 byte-order mark (as some Windows editors write) is not content."""
    for name in ("garbage.yaml", "garbage.json"):
        bad = tmp_path / name
        bad.write_bytes(b"\x00\xe9\xff\xfe" * 500)
        rc, out, err = ck("add", "dataset:g", f"@{bad}")
        assert rc == 2, err
        line = one_error_line(err)
        assert str(bad) in line and "not UTF-8 text" in line
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"tags": "x,y"}).encode())
    request, _ = parse_argv(["find", "dataset", f"@{bom}"])
    assert request["tags"] == "x,y"
