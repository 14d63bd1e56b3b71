"""The ck command, run as a real process (stdin is always /dev/null)."""

from __future__ import annotations

import json
import os

import pytest

from cknowledge.cli.args import UsageError, parse_argv, set_dotted
from cknowledge.cli.main import cb_main


def one_error_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("ck: error:"), err
    assert "Traceback" not in err
    return lines[0]


def test_version(ck) -> None:
    import cknowledge

    for args in (["--version"], ["version"]):
        rc, out, err = ck(*args)
        assert rc == 0 and out.strip() == f"cknowledge {cknowledge.__version__}", (out, err)


def test_add_find_load_json(ck, ckj, home) -> None:
    r = ckj("add", "dataset:my-data", "--tags=a,b", "--meta.license=MIT")
    assert r["return"] == 0 and r["name"] == "my-data" and len(r["uid"]) == 16
    f = ckj("find", "dataset", "--tags=a")
    assert [e["name"] for e in f["list"]] == ["my-data"]
    assert f["list"][0]["tags"] == ["a", "b"]
    l = ckj("load", "dataset:my-data")
    assert l["meta"]["license"] == "MIT" and l["uid"] == r["uid"]
    # human output
    rc, out, err = ck("find", "dataset", "--tags=a")
    assert rc == 0 and out.strip() == "dataset:local:my-data"
    rc, out, err = ck("add", "dataset:second")
    assert rc == 0 and out.startswith("added dataset:local:second")


def test_json_only_json_on_stdout(ck, home) -> None:
    ck("add", "dataset:x")
    for args in (["find", "dataset"], ["list", "repo"], ["help"], ["help", "dataset"],
                 ["load", "dataset:x"], ["version", "--json"]):
        rc, out, err = ck(*args, "--json")
        assert rc == 0, err
        data = json.loads(out)
        assert data["return"] == 0


@pytest.mark.parametrize("args,code,text", [
    (["load", "dataset:nope"], 16, "not found"),
    (["lod", "dataset:x"], 3, "load"),
    (["find", "datset"], 4, "dataset"),
    (["load", "dataset"], 2, "artifact"),
    (["rm", "dataset:x", "--force=maybe"], 2, "force"),
    (["add", "dataset:../x"], 5, "not allowed"),
    (["load", "dataset:a:b:c"], 2, "too many"),
    (["add", "dataset:x"], 8, "exists"),
    (["add", "dataset:builtin:y"], 7, "read-only"),
    (["find", "dataset", "--..bad=1"], 2, "option"),
    (["find", "dataset", "@missing.json"], 2, "not found"),
])
def test_errors(ck, args, code, text) -> None:
    assert ck("add", "dataset:x")[0] == 0
    rc, out, err = ck(*args)
    assert rc == code, (rc, out, err)
    line = one_error_line(err)
    assert text in line
    assert out == ""
    # --json: the same line on stderr, and CK's {"return": N, "error": ...} on stdout
    rc2, out2, err2 = ck(*args, "--json")
    assert rc2 == code and one_error_line(err2)
    assert json.loads(out2) == {"return": code, "error": line[len("ck: error: "):]}


def test_ambiguous_exit_9(ck) -> None:
    assert ck("add", "repo:r2")[0] == 0
    assert ck("add", "dataset:dup")[0] == 0
    assert ck("add", "dataset:r2:dup")[0] == 0
    rc, out, err = ck("load", "dataset:dup")
    assert rc == 9
    one_error_line(err)


def test_debug_does_not_break_normal_commands(ck, home) -> None:
    rc, out, err = ck("add", "dataset:d", "--debug", "--json")
    assert rc == 0 and json.loads(out)["name"] == "d"
    rc, out, err = ck("load", "dataset:nope", "--debug")
    assert rc == 16 and "ck: error:" in err


def test_internal_error_hides_traceback_without_debug(ck, home) -> None:
    # a broken repo registry is a clean error; an unreadable file path is one line
    os.makedirs(home, exist_ok=True)
    (home / "repos.json").write_text("{not json")
    rc, out, err = ck("find", "dataset")
    assert rc != 0
    one_error_line(err)


def test_input_files_merge(ck, ckj, tmp_path) -> None:
    j = tmp_path / "in.json"
    j.write_text(json.dumps({"tags": "fromjson", "meta": {"a": {"b": 1}}}))
    y = tmp_path / "in.yaml"
    y.write_text("meta:\n  license: MIT\n  nested: {x: 1}\n")
    r = ckj("add", "dataset:f1", f"@{j}")
    assert r["tags"] == ["fromjson"] and r["meta"]["a"] == {"b": 1}
    r = ckj("add", "dataset:f2", f"@{y}", "--tags=t")
    assert r["meta"]["license"] == "MIT" and r["meta"]["nested"] == {"x": 1}
    assert r["tags"] == ["t"]
    assert [e["name"] for e in ckj("find", "dataset", f"@{j}")["list"]] == ["f1"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    rc, out, err = ck("find", "dataset", f"@{bad}")
    assert rc == 2 and "bad.yaml" in one_error_line(err)
    lst = tmp_path / "list.json"
    lst.write_text("[1]")
    rc, out, err = ck("find", "dataset", f"@{lst}")
    assert rc == 2 and one_error_line(err)


def test_dotted_keys_nest(ckj) -> None:
    r = ckj("add", "dataset:n", "--meta.a.b=1", "--meta.a.c=x", "--meta.env.FOO=bar")
    assert r["meta"]["a"] == {"b": "1", "c": "x"} and r["meta"]["env"] == {"FOO": "bar"}
    f = ckj("find", "dataset", "--meta.a.b=1")
    assert [e["name"] for e in f["list"]] == ["n"]
    assert ckj("find", "dataset", "--meta.a.b=2")["list"] == []


def test_tags_exclusion_cli(ck, ckj) -> None:
    ckj("add", "dataset:a", "--tags=x,y")
    ckj("add", "dataset:b", "--tags=x")
    assert [e["name"] for e in ckj("find", "dataset", "--tags=x,-y")["list"]] == ["b"]
    assert [e["name"] for e in ckj("find", "dataset", "--tags=x", "--no-tags=y")["list"]] == ["b"]
    assert [e["name"] for e in ckj("find", "dataset", "--tags=x", "--tags=y")["list"]] == ["a"]
    assert [e["name"] for e in ckj("search", "dataset", "my*")["list"]] == []


def test_positional_targets(ckj) -> None:
    a = ckj("add", "dataset:old")
    r = ckj("ren", "dataset:old", "new")
    assert r["name"] == "new" and r["uid"] == a["uid"]
    c = ckj("cp", "dataset:new", "dataset:copy")
    assert c["name"] == "copy" and c["uid"] != a["uid"]
    r = ckj("rm", "dataset:copy")
    assert [e["name"] for e in r["list"]] == ["copy"]


def test_help(ck) -> None:
    rc, out, err = ck("help")
    assert rc == 0 and "dataset" in out and "repo" in out and "usage: ck" in out
    rc2, out2, _ = ck()
    assert rc2 == 0 and out2 == out
    rc, out, err = ck("help", "dataset")
    assert rc == 0 and "find" in out and "--tags" in out and "load" in out
    rc, out, err = ck("find", "dataset", "--help")
    assert rc == 0 and "--tags" in out and "--no-tags" in out
    assert "\n  load" not in out  # only the one action
    rc, out, err = ck("find", "datset", "--help")
    assert rc == 4 and "dataset" in one_error_line(err)


def test_quiet_flag_is_accepted(ckj) -> None:
    assert ckj("find", "dataset", "--quiet", "--repo=local")["list"] == []


def test_rm_human_output(ck) -> None:
    ck("add", "dataset:gone")
    rc, out, err = ck("rm", "dataset:gone")
    assert rc == 0 and "removed dataset:local:gone" in out


def test_list_repo_human(ck) -> None:
    rc, out, err = ck("list", "repo")
    assert rc == 0 and "builtin" in out and "local" in out


# -- argv parsing in-process ---------------------------------------------------------------
def test_parse_argv() -> None:
    req, flags = parse_argv(["find", "dataset:local:x", "extra", "--tags=a", "--with-meta",
                             "--json", "--", "--literal"])
    assert req == {"action": "find", "automation": "dataset", "artifact": "local:x",
                   "artifacts": ["extra", "--literal"], "tags": "a", "with_meta": True}
    assert flags["json"] and not flags["debug"]
    _, flags = parse_argv(["-h"])
    assert flags["help"]
    with pytest.raises(UsageError):
        parse_argv(["--=x"])
    with pytest.raises(UsageError):
        parse_argv(["--a.=x"])


def test_set_dotted_overrides_scalar() -> None:
    d = {"a": "scalar"}
    set_dotted(d, "a.b", 1)
    assert d == {"a": {"b": 1}}


def test_cb_alias(home, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CK_HOME", str(home))
    rc = cb_main(["init", "x"])
    err = capsys.readouterr().err
    assert rc != 0 and err.startswith("cb: error:")
    import cknowledge.cli.main as m

    m.PROG = "ck"


# -- in-process main() (the same code path, measured by coverage) ---------------------------
def test_main_in_process_renders(main_in_process, tmp_path) -> None:
    run = main_in_process
    rc, out, _ = run("--version")
    assert rc == 0 and out.startswith("cknowledge ")
    rc, out, _ = run("add", "dataset:x", "--tags=a")
    assert rc == 0 and out.startswith("added dataset:local:x (uid ")
    rc, out, _ = run("cp", "dataset:x", "y")
    assert rc == 0 and out.startswith("copied to dataset:local:y")
    rc, out, _ = run("ren", "dataset:y", "z")
    assert rc == 0 and out.startswith("renamed to dataset:local:z")
    rc, out, _ = run("find", "dataset", "--tags=a")
    assert rc == 0 and out.split() == ["dataset:local:x", "dataset:local:z"]
    rc, out, _ = run("load", "dataset:x")
    assert rc == 0 and json.loads(out)["name"] == "x"
    rc, out, _ = run("find", "dataset", "--tags=nothing")
    assert rc == 0 and out == ""
    rc, out, _ = run("rm", "dataset:z")
    assert rc == 0 and out.strip() == "removed dataset:local:z"
    rc, out, err = run("rm", "dataset", "--tags=nothing")
    assert rc == 16 and out == "" and "no dataset entry has the tags nothing" in err
    rc, out, _ = run("version")
    assert rc == 0 and out.startswith("cknowledge")
    rc, out, _ = run("version", "--quiet")
    assert rc == 0 and out.startswith("cknowledge")
    rc, out, _ = run("help")
    assert rc == 0 and "automations:" in out
    rc, out, _ = run("help", "dataset")
    assert rc == 0 and "actions:" in out and "(required)" in out
    rc, out, _ = run("help", "dataset:find")
    assert rc == 0 and "--no-tags" in out
    rc, out, _ = run("add", "--help")
    assert rc == 0 and "--tags" in out
    j = tmp_path / "in.yaml"
    j.write_text("tags: a\n")
    rc, out, _ = run("find", "dataset", f"@{j}", "--json")
    assert rc == 0 and len(json.loads(out)["list"]) == 1


def test_main_in_process_errors(main_in_process, monkeypatch) -> None:
    run = main_in_process
    rc, out, err = run("load", "dataset:nope")
    assert rc == 16 and out == "" and err.startswith("ck: error:")
    rc, out, err = run("find", "dataset", "--=x")
    assert rc == 2 and err.startswith("ck: error:")
    from cknowledge.kernel.kernel import Kernel

    def boom(self, request):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(Kernel, "call", boom)
    rc, out, err = run("find", "dataset")
    assert rc == 1 and one_error_line(err).endswith("(run with --debug for the traceback)")
    rc, out, err = run("find", "dataset", "--debug")
    assert rc == 1 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("ck: error:")

    def interrupt(self, request):
        raise KeyboardInterrupt

    monkeypatch.setattr(Kernel, "call", interrupt)
    rc, out, err = run("find", "dataset")
    assert rc == 130 and "interrupted" in err


def test_main_prints_warnings(main_in_process, home) -> None:
    run = main_in_process
    run("add", "dataset:good")
    bad = home / "repos" / "local" / "dataset" / "bad"
    bad.mkdir()
    (bad / "meta.yaml").write_text("a: [\n")
    rc, out, err = run("find", "dataset", "--json")
    assert rc == 0 and [e["name"] for e in json.loads(out)["list"]] == ["good"]
    assert err.startswith("ck: warning:") and "bad" in err


def test_value_options_take_the_next_word() -> None:
    from cknowledge.cli.args import parse_argv

    req, _ = parse_argv(["run", "script", "--tags", "a,b", "--lock", "lock.yaml",
                         "--version", ">=9", "--quiet"])
    assert req["lock"] == "lock.yaml" and req["tags"] == "a,b" and req["version"] == ">=9"
    assert "artifacts" not in req
    req, _ = parse_argv(["run", "script", "--lock", "--json"])
    assert req["lock"] is True  # no value: the action reports it
    req, _ = parse_argv(["find", "dataset", "--", "--repo", "x"])
    assert req["artifacts"] == ["--repo", "x"] and "repo" not in req
