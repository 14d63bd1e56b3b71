"""``ck run script`` through the real CLI."""

from __future__ import annotations

import json

import pytest
import yaml

RUN = ('echo "script says hello on stdout"\n'
       'echo "OUT=$CK_GREETING-$EXTRA" >> "$CK_ENV_OUT"\n'
       'echo "CK_B=second" >> "$CK_ENV_OUT"\n')
META = {"tags": ["cl-hello"], "cache": True, "version": "1.2.3",
        "input_mapping": {"greeting": "CK_GREETING"},
        "default_env": {"CK_GREETING": "hi", "EXTRA": "none"},
        "variations": {"loud": {"env": {"CK_GREETING": "HI"}}}}


@pytest.fixture
def hello(repo):
    repo.script("hello", META, RUN)
    return repo


def test_run_prints_status_then_env(hello, ck):
    rc, out, err = ck("run", "script", "--tags=cl-hello")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("script:hello 1.2.3: ran (key ")
    assert lines[1:] == ["CK_B=second", "OUT=hi-none"]
    assert "script says hello on stdout" in err and "script says" not in out
    rc, out2, err = ck("run", "script", "--tags=cl-hello")
    assert rc == 0
    assert out2.splitlines()[0] == lines[0].replace(": ran ", ": cached ")
    assert "script says" not in err                      # a hit runs nothing


def test_run_by_name_with_inputs_env_and_variation(hello, ck):
    rc, out, err = ck("run", "script:hello", "--greeting=yo", "--env.EXTRA=more")
    assert rc == 0, err
    assert "OUT=yo-more" in out.splitlines()
    rc, out, err = ck("run", "script", "--tags=cl-hello,_loud")
    assert rc == 0, err
    assert "OUT=HI-none" in out.splitlines()
    rc, out, err = ck("run", "script", "--tags=cl-hello", "--version=>=1.2,<2")
    assert rc == 0, err
    rc, out, err = ck("run", "script", "--tags=cl-hello", "--version=>=2")
    assert rc == 18 and "1.2.3" in err and ">=2" in err


def test_json_output_is_only_json(hello, ck):
    rc, out, err = ck("run", "script", "--tags=cl-hello", "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert data["return"] == 0 and data["name"] == "hello" and data["cached"] is False
    assert data["new_env"] == {"OUT": "hi-none", "CK_B": "second"}
    assert data["version"] == "1.2.3" and len(data["key"]) == 32
    assert "script says hello on stdout" in err


def test_quiet_hides_the_script_output(hello, ck):
    rc, out, err = ck("run", "script", "--tags=cl-hello", "--quiet")
    assert rc == 0 and "script says" not in err and "script says" not in out


def test_json_error(hello, ck):
    rc, out, err = ck("run", "script", "--tags=cl-hello,_nope", "--json")
    assert rc == 2 and json.loads(out)["return"] == 2  # CK's error dict on stdout
    assert err.startswith("ck: error:") and "_nope" in err and "_loud" in err


def test_failure_exit_code_and_one_line(repo, ck):
    repo.script("bad", {"tags": ["cl-bad"]}, "echo 'disk full'\nexit 7\n")
    rc, _out, err = ck("run", "script", "--tags=cl-bad")
    assert rc == 14
    errors = [line for line in err.splitlines() if line.startswith("ck: error:")]
    assert len(errors) == 1 and "exit status 7" in errors[0] and "disk full" in errors[0]
    assert "Traceback" not in err


def test_dry_run_and_lock_through_the_cli(hello, ck, tmp_path):
    lock = tmp_path / "my.lock.yaml"
    rc, out, err = ck("run", "script", "--tags=cl-hello", "--dry-run", f"--lock={lock}")
    assert rc == 0, err
    assert out.startswith("script:hello 1.2.3") and "[will run]" in out
    assert "script says" not in err
    data = yaml.safe_load(lock.read_text())
    assert [n["name"] for n in data["nodes"]] == ["hello"]
    rc, out, err = ck("run", "script", "--tags=cl-hello", f"--from-lock={lock}")
    assert rc == 0 and ": ran (key" in out, err
    rc, out, err = ck("run", "script", "--tags=cl-hello", "--greeting=other",
                      f"--from-lock={lock}")
    assert rc == 18 and "script:hello: its env changed" in err


def test_lock_without_a_file_name_is_an_error(hello, ck, tmp_path):
    rc, _out, err = ck("run", "script", "--tags=cl-hello", "--lock", cwd=str(tmp_path))
    assert not (tmp_path / "True.yaml").exists()
    assert rc == 2 and "lock" in err
