"""CM-style scripts of our own, run with `ck run script` exactly as CM interprets them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import ForeignRepo

HOOKS = '''
from cmind import utils
import cmind
import os


def preprocess(i):
    env = i['env']
    env['CMT_PRE'] = env.get('CMT_WORD', 'none') + '-' + i['os_info']['platform']
    env['CMT_CMIND'] = cmind.__version__
    env['CMT_SCRIPT_TAGS'] = ','.join(i['script_tags'])
    i['state']['hk_seen'] = {'pre': True}
    return {'return': 0}


def postprocess(i):
    env = i['env']
    r = utils.load_txt(file_name='tmp-hook.out', check_if_exists=True)
    if r['return'] > 0:
        return r
    env['CMT_POST'] = r['string'].strip()
    nested = i['automation'].cmind.access({'action': 'run', 'automation': 'script',
                                          'tags': 'det,a', 'env': {}})
    if nested['return'] > 0:
        return nested
    env['CMT_NESTED'] = nested['new_env']['CMT_A']
    again = cmind.access({'action': 'run', 'automation': 'script,5b4e0237da074764',
                          'tags': 'det,c'})
    env['CMT_NESTED_C'] = again['new_env']['CMT_C']
    return {'return': 0, 'version': '1.2.3'}
'''


def build(root: Path) -> ForeignRepo:
    repo = ForeignRepo(root, "cm")
    repo.script("det-a", {"tags": ["det", "a"], "new_env_keys": ["CMT_A"]},
                'echo "CMT_A=from-a" > tmp-run-env.out\n')
    repo.script("det-c", {"tags": ["det", "c"], "new_env_keys": ["CMT_C"]},
                'echo "CMT_C=from-c" > tmp-run-env.out\n')
    repo.script("use-b", {"tags": ["use", "b"], "deps": [{"tags": "det,a"}],
                          "new_env_keys": ["CMT_B", "CMT_A"]},
                'echo "CMT_B=${CMT_A}-b" > tmp-run-env.out\n')
    repo.script("vary", {
        "tags": ["vary"], "new_env_keys": ["CMT_OUT*"],
        "variations": {
            "small": {"group": "size", "default": True, "env": {"SIZE": "s"}},
            "large": {"group": "size", "env": {"SIZE": "l"}},
            "turbo": {"base": ["large"], "env": {"TURBO": "yes"}},
            "large,turbo": {"env": {"COMBO": "yes"}},
            "text.#": {"env": {"TEXT": "#"}},
            "big-defaults": {"default_variations": {"size": "large"}, "env": {"BIGD": "1"}},
            "shortcut": {"alias": "turbo"},
        }},
        'echo "CMT_OUT=${SIZE},${TEXT},${TURBO},${COMBO},${BIGD}" > tmp-run-env.out\n')
    repo.script("cond", {
        "tags": ["cond"], "default_env": {"CMT_FLAG": "no"},
        "deps": [{"tags": "det,a", "enable_if_env": {"CMT_FLAG": ["yes"]}},
                 {"tags": "det,c", "skip_if_env": {"CMT_FLAG": ["on"]}},
                 {"tags": "use,b", "enable_if_any_env": {"CMT_X": ["1"], "CMT_Y": ["1"]}},
                 {"tags": "vary,_large", "skip_if_any_env": {"CMT_X": ["1"], "CMT_Z": ["1"]},
                  "names": ["v"]}],
        "new_env_keys": ["CMT_A", "CMT_C", "CMT_B", "CMT_OUT"]}, "")
    repo.script("hooks", {"tags": ["hooks"], "input_mapping": {"word": "CMT_WORD"},
                          "clean_files": ["tmp-hook.out"],
                          "new_env_keys": ["CMT_PRE", "CMT_POST", "CMT_NESTED*", "CMT_CMIND",
                                           "CMT_SCRIPT_TAGS", "CMT_RUN_SAW"],
                          "new_state_keys": ["hk_*"]},
                'echo "post-$CMT_PRE" > tmp-hook.out\n'
                'echo "CMT_RUN_SAW=$CMT_PRE" > tmp-run-env.out\n', HOOKS)
    repo.script("fail-hook", {"tags": ["failhook"]}, "",
                "def preprocess(i):\n    return {'return': 1, 'error': 'boom happened\\nsecond line'}\n")
    repo.script("crash-hook", {"tags": ["crashhook"]}, "",
                "def preprocess(i):\n    raise ValueError('bad value')\n")
    repo.script("fail-run", {"tags": ["failrun"]}, 'echo "about to fail"\nexit 3\n')
    repo.script("plus", {"tags": ["plus"], "new_env_keys": ["+CMT_PATHS", "CMT_SEEN"]},
                'echo "CMT_SEEN=$CMT_PATHS" > tmp-run-env.out\n',
                "def preprocess(i):\n    i['env']['+CMT_PATHS'] = ['/a', '/b']\n"
                "    return {'return': 0}\n")
    repo.script("state", {"tags": ["statey"], "new_state_keys": ["st_*"],
                          "new_env_keys": ["CMT_ST"]},
                'echo \'{"st_x": {"k": 1}, "other": 2}\' > tmp-run-state.json\n'
                'echo "CMT_ST=ok" > tmp-run-env.out\n')
    repo.script("ver", {"tags": ["ver"], "default_version": "2.0",
                        "versions": {"1.0": {"env": {"CMT_V": "one"}},
                                     "2.0": {"env": {"CMT_V": "two"}}},
                        "new_env_keys": ["CMT_GOT"]},
                'echo "CMT_GOT=${CMT_V}:${CM_VERSION}" > tmp-run-env.out\n')
    repo.script("adr-top", {"tags": ["adrtop"], "deps": [{"tags": "vary", "names": ["v"]}],
                            "new_env_keys": ["CMT_OUT"]}, "")
    repo.script("from-env", {"tags": ["fromenv"], "default_env": {"CMT_VAR_TAG": "_large"},
                             "deps": [{"tags": "vary", "update_tags_from_env": ["CMT_VAR_TAG"]}],
                             "new_env_keys": ["CMT_OUT"]}, "")
    repo.script("wrapper", {"tags": ["wrapper"], "new_env_keys": ["CMT_W_*"]},
                'echo "CMT_W_PATH=$CM_TMP_CURRENT_SCRIPT_PATH" > tmp-run-env.out\n'
                'echo "CMT_W_CWD=$CM_TMP_CURRENT_PATH" >> tmp-run-env.out\n'
                'echo "CMT_W_EQ=a=b" >> tmp-run-env.out\n')
    repo.script("sleepy", {"tags": ["sleepy"]}, "sleep 30\n")
    for twin in ("twin-1", "twin-2"):
        repo.script(twin, {"tags": ["twin"], "new_env_keys": ["CMT_TWIN"]},
                    f'echo "CMT_TWIN={twin}" > tmp-run-env.out\n')
    repo.script("use-twin", {"tags": ["usetwin"], "deps": [{"tags": "twin"}],
                             "new_env_keys": ["CMT_TWIN"]}, "")
    return repo


@pytest.fixture
def cmrepo(tmp_path: Path, ck: Any, hooks: str) -> ForeignRepo:
    repo = build(tmp_path / "cmtest")
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err
    return repo


def run(ck: Any, *args: str, cwd: str | None = None) -> dict[str, Any]:
    rc, out, err = ck("run", "script", *args, "--json", cwd=cwd)
    assert rc == 0, (out, err)
    result: dict[str, Any] = json.loads(out)
    return result


def test_env_accumulates_from_deps(cmrepo: ForeignRepo, ck: Any) -> None:
    out = run(ck, "--tags=use,b")
    assert out["new_env"] == {"CMT_B": "from-a-b", "CMT_A": "from-a"}
    assert out["flavor"] == "CM" and out["name"] == "cmtest:use-b"
    assert [s["script"] for s in out["steps"]] == ["cmtest:det-a", "cmtest:use-b"]


@pytest.mark.parametrize("tags,expected", [
    ("vary", "s,,,,"),                       # the group's default
    ("vary,_large", "l,,,,"),
    ("vary,_turbo", "l,,yes,yes,"),          # base + the combined variation
    ("vary,_shortcut", "l,,yes,yes,"),       # an alias turns on its target
    ("vary,_text.HELLO", "s,HELLO,,,"),      # the # wildcard
    ("vary,_big-defaults", "l,,,,1"),        # default_variations pick the group
    ("vary,_big-defaults,_small", "s,,,,1"), # ... unless the group is chosen
])
def test_variations(cmrepo: ForeignRepo, ck: Any, tags: str, expected: str) -> None:
    assert run(ck, f"--tags={tags}")["new_env"] == {"CMT_OUT": expected}


def test_variation_errors_are_one_line(cmrepo: ForeignRepo, ck: Any) -> None:
    rc, out, err = ck("run", "script", "--tags=vary,_small,_large")
    assert rc == 2 and "group 'size'" in err and len(err.strip().splitlines()) == 1
    rc, out, err = ck("run", "script", "--tags=vary,_nosuch")
    assert rc == 2 and "has no variation _nosuch" in err


@pytest.mark.parametrize("flag,expected", [
    (None, {"CMT_C": "from-c", "CMT_OUT": "l,,,,"}),
    ("true", {"CMT_A": "from-a", "CMT_OUT": "l,,,,"}),   # true counts as yes; on skips det-c
    ("off", {"CMT_C": "from-c", "CMT_OUT": "l,,,,"}),
])
def test_conditions(cmrepo: ForeignRepo, ck: Any, flag: str | None,
                    expected: dict[str, str]) -> None:
    args = ["--tags=cond"] + ([f"--env.CMT_FLAG={flag}"] if flag else [])
    assert run(ck, *args)["new_env"] == expected


def test_any_conditions(cmrepo: ForeignRepo, ck: Any) -> None:
    out = run(ck, "--tags=cond", "--env.CMT_Y=1")
    assert out["new_env"]["CMT_B"] == "from-a-b" and "CMT_OUT" in out["new_env"]
    out = run(ck, "--tags=cond", "--env.CMT_X=1")
    assert "CMT_OUT" not in out["new_env"] and out["new_env"]["CMT_B"] == "from-a-b"


def test_hooks_get_cm_dictionary_and_real_cmind(cmrepo: ForeignRepo, ck: Any,
                                                tmp_path: Path) -> None:
    out = run(ck, "script:hooks", "--word=hi", cwd=str(tmp_path))
    env = out["new_env"]
    assert env["CMT_PRE"].startswith("hi-") and env["CMT_RUN_SAW"] == env["CMT_PRE"]
    assert env["CMT_POST"] == "post-" + env["CMT_PRE"]
    assert env["CMT_NESTED"] == "from-a" and env["CMT_NESTED_C"] == "from-c"
    assert env["CMT_CMIND"] == "4.2.0"           # the real package from the index
    assert env["CMT_SCRIPT_TAGS"] == "hooks"
    assert out["new_state"] == {"hk_seen": {"pre": True}}
    assert not list(tmp_path.glob("tmp-*"))      # the run's temporary files are cleaned


@pytest.mark.parametrize("tags,code,words", [
    ("failhook", 14, "preprocess() failed: boom happened"),
    ("crashhook", 14, "ValueError: bad value"),
    ("failrun", 14, "failed with exit status 3"),
    ("nosuchtag", 16, "no"),
])
def test_failures_are_one_line(cmrepo: ForeignRepo, ck: Any, tags: str, code: int,
                               words: str) -> None:
    rc, out, err = ck("run", "script", f"--tags={tags}")
    assert rc == code, err
    lines = [line for line in err.splitlines() if line.startswith("ck: error:")]
    assert len(lines) == 1 and words in lines[0], err
    assert "Traceback" not in err


def test_plus_lists_and_wrapper(cmrepo: ForeignRepo, ck: Any, tmp_path: Path) -> None:
    out = run(ck, "--tags=plus")
    assert out["new_env"]["+CMT_PATHS"] == ["/a", "/b"]
    assert out["new_env"]["CMT_SEEN"] == "/a:/b:"
    out = run(ck, "script:wrapper", cwd=str(tmp_path))
    env = out["new_env"]
    assert env["CMT_W_PATH"] == str(cmrepo.root / "script" / "wrapper")
    assert env["CMT_W_CWD"] == str(tmp_path) and env["CMT_W_EQ"] == "a=b"


def test_state_keys(cmrepo: ForeignRepo, ck: Any) -> None:
    out = run(ck, "--tags=statey")
    assert out["new_state"] == {"st_x": {"k": 1}} and out["new_env"] == {"CMT_ST": "ok"}


@pytest.mark.parametrize("args,expected", [
    ([], "two:2.0"), (["--version=1.0"], "one:1.0"),
    # the default raised to the minimum; CM still applies the default's `versions` entry
    (["--version_min=3.0"], "two:3.0"),
])
def test_versions(cmrepo: ForeignRepo, ck: Any, args: list[str], expected: str) -> None:
    assert run(ck, "--tags=ver", *args)["new_env"]["CMT_GOT"] == expected


def test_adr_and_tags_from_env(cmrepo: ForeignRepo, ck: Any) -> None:
    assert run(ck, "--tags=adrtop")["new_env"] == {"CMT_OUT": "s,,,,"}
    assert run(ck, "--tags=adrtop", "--adr.v.tags=_large")["new_env"] == {"CMT_OUT": "l,,,,"}
    assert run(ck, "--tags=fromenv")["new_env"] == {"CMT_OUT": "l,,,,"}


def test_artifact_forms(cmrepo: ForeignRepo, ck: Any) -> None:
    uid = __import__("yaml").safe_load((cmrepo.root / "script" / "vary" / "_cm.yaml")
                                       .read_text())["uid"]
    assert run(ck, "script:vary,_large")["new_env"] == {"CMT_OUT": "l,,,,"}
    assert run(ck, f"script:vary,{uid}")["new_env"] == {"CMT_OUT": "s,,,,"}
    assert run(ck, "vary")["new_env"] == {"CMT_OUT": "s,,,,"}


def test_dry_run_tree(cmrepo: ForeignRepo, ck: Any) -> None:
    out = run(ck, "--tags=cond", "--env.CMT_Y=1", "--dry-run")
    assert out["dry_run"] and out["unresolved"] == []
    text = out["text"]
    assert "script:cmtest:cond" in text and "script:cmtest:det-c" in text
    assert "det-a" not in text.split("use-b")[0]   # det-a only under use-b: CMT_FLAG=no


def test_several_matches_never_prompt(cmrepo: ForeignRepo, ck: Any) -> None:
    rc, out, err = ck("run", "script", "--tags=twin")   # CM asks; its --quiet takes the first
    assert rc == 0 and out.strip().splitlines()[-1] == "CMT_TWIN=twin-1"
    assert "matches 2 scripts" in out + err and "script:cmtest:twin-2" in out + err
    assert run(ck, "script:cmtest:twin-2")["new_env"] == {"CMT_TWIN": "twin-2"}
    # a dependency takes the first in registry order, then folder name (CM's --quiet)
    assert run(ck, "--tags=usetwin")["new_env"] == {"CMT_TWIN": "twin-1"}


def test_timeout_stops_the_native_script(cmrepo: ForeignRepo, ck: Any) -> None:
    import time

    start = time.monotonic()
    rc, out, err = ck("run", "script", "--tags=sleepy", "--timeout=1")
    assert rc == 14 and "timeout" in err and "--timeout=1" in err, err
    assert time.monotonic() - start < 20
