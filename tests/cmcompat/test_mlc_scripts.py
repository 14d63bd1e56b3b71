"""MLC-style scripts of our own (repo meta.yaml, MLC_ env, `from mlc import utils`,
`from utils import is_true`), run as MLCFlow runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import ForeignRepo

WORK_HOOKS = '''
from mlc import utils
from utils import is_true
import mlc


def preprocess(i):
    env = i['env']
    if is_true(env.get('MLC_FLAG', 'yes')):
        env['MLC_WORK_PRE'] = 'yes'
    env['MLC_WORK_HAS_ACCESS'] = str(callable(mlc.access))
    logger = i['automation'].logger
    logger.info('preprocess of mlc-work')
    return {'return': 0}


def postprocess(i):
    env = i['env']
    r = i['automation'].run_native_script({'run_script_input': i['run_script_input'],
                                          'env': env, 'script_name': 'extra'})
    if r['return'] > 0:
        return r
    return {'return': 0}
'''


@pytest.fixture
def mlcrepo(tmp_path: Path, ck: Any, hooks: str) -> ForeignRepo:
    repo = ForeignRepo(tmp_path / "mlctest", "mlc")
    repo.script("mlc-writer", {"tags": ["mlc", "writer"], "new_env_keys": ["MLC_WORK_DONE"]},
                'echo "MLC_WORK_DONE=written-by-${MLC_WHO}" > tmp-run-env.out\n')
    repo.script("mlc-work", {
        "tags": ["mlc", "work"], "cache_expiration": "1d",
        "prehook_deps": [{"tags": "mlc,writer", "env": {"MLC_WHO": "prehook"}}],
        "new_env_keys": ["MLC_WORK_*"]},
        'echo "MLC_WORK_PATH=$MLC_TMP_CURRENT_SCRIPT_PATH" > tmp-run-env.out\n',
        WORK_HOOKS, files={"extra.sh": '#!/bin/bash\necho "MLC_WORK_EXTRA=1" > tmp-run-env.out\n'})
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err
    return repo


def test_prehook_deps_do_the_work(mlcrepo: ForeignRepo, ck: Any) -> None:
    """Regression: an MLC script whose prehook_deps do the real work once printed "ran"
    and cached an empty env."""
    rc, out, err = ck("run", "script", "--tags=mlc,work", "--json")
    assert rc == 0, err
    data = json.loads(out)
    env = data["new_env"]
    assert data["flavor"] == "MLC"
    assert env["MLC_WORK_DONE"] == "written-by-prehook"
    assert env["MLC_WORK_PRE"] == "yes" and env["MLC_WORK_HAS_ACCESS"] == "True"
    assert env["MLC_WORK_PATH"] == str(mlcrepo.root / "script" / "mlc-work")
    assert env["MLC_WORK_EXTRA"] == "1"


def test_flags_and_text_output(mlcrepo: ForeignRepo, ck: Any) -> None:
    rc, out, err = ck("run", "script", "--tags=mlc,work", "--env.MLC_FLAG=off", "-j")
    assert rc == 0, err
    assert "MLC_WORK_PRE" not in json.loads(out)["new_env"]
    rc, out, err = ck("run", "script", "--tags=mlc,work")
    assert rc == 0 and "MLC_WORK_DONE=written-by-prehook" in out


DETECT_OR_INSTALL = '''
def preprocess(i):
    env = i['env']
    r = i['automation'].detect_version_using_script({
        'env': env, 'run_script_input': i['run_script_input'], 'recursion_spaces': ''})
    if r['return'] > 0:
        if r['return'] != 16:
            return r
        env['MLC_TOOLX_ACTION'] = 'install'
        r = i['automation'].run_native_script({'run_script_input': i['run_script_input'],
                                              'env': env, 'script_name': 'install'})
        if r['return'] > 0:
            return r
    else:
        env['MLC_TOOLX_ACTION'] = 'found'
    return {'return': 0}


def detect_version(i):
    r = i['automation'].parse_version({'match_text': r'toolx\\s+([\\d.]+)', 'group_number': 1,
                                       'env_key': 'MLC_TOOLX_VERSION', 'which_env': i['env']})
    if r['return'] > 0:
        return r
    return {'return': 0, 'version': r['version']}


def postprocess(i):
    env = i['env']
    r = detect_version(i)
    if r['return'] > 0:
        return r
    env['MLC_TOOLX_CACHE_TAGS'] = 'version-' + r['version']
    return {'return': 0, 'version': r['version']}
'''


def test_a_version_not_detected_is_16_so_the_hook_installs(tmp_path: Path, ck: Any,
                                                          hooks: str) -> None:
    """As under MLCFlow (get-generic-python-lib relies on it): a detection whose own
    detect_version() fails to parse (an empty tmp-ver.out) answers 16, and the hook
    installs; once installed, the same script finds it."""
    repo = ForeignRepo(tmp_path / "mlcdetect", "mlc")
    marker = tmp_path / "toolx-installed"
    run_sh = f'if [ -f "{marker}" ]; then echo "toolx 2.5.1" > tmp-ver.out; else : > tmp-ver.out; fi\n'
    repo.script("get-toolx", {"tags": ["get", "toolx"],
                              "new_env_keys": ["MLC_TOOLX_*"]},
                run_sh, DETECT_OR_INSTALL,
                files={"install.sh": f'#!/bin/bash\ntouch "{marker}"\n'})
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err
    rc, out, err = ck("run", "script", "--tags=get,toolx", "--json")
    assert rc == 0, err
    env = json.loads(out)["new_env"]
    assert env["MLC_TOOLX_ACTION"] == "install" and marker.exists()
    assert env["MLC_TOOLX_CACHE_TAGS"] == "version-2.5.1"
    rc, out, err = ck("run", "script", "--tags=get,toolx", "--json")
    assert rc == 0, err
    assert json.loads(out)["new_env"]["MLC_TOOLX_ACTION"] == "found"


ASKING_HOOK = '''
def preprocess(i):
    env = i['env']
    if env.get('MLC_ANSWER', '') == '':
        env['MLC_ANSWER'] = input('Your answer: ')
    return {'return': 0}
'''


def test_a_hook_that_asks_on_stdin_fails_in_one_line_saying_how_to_answer(
        tmp_path: Path, ck: Any, hooks: str) -> None:
    """CM and MLC hooks may call input(); cknowledge never prompts: one line that says so
    and how to give the answer beforehand, and with the answer given the script runs."""
    repo = ForeignRepo(tmp_path / "mlcask", "mlc")
    repo.script("asking", {"tags": ["asking"], "new_env_keys": ["MLC_ANSWER"]}, None,
                ASKING_HOOK)
    rc, out, err = ck("pull", "repo", str(repo.root))
    assert rc == 0, err
    rc, out, err = ck("run", "script", "--tags=asking")
    assert rc == 14, err
    errors = [line for line in err.splitlines() if line.startswith("ck: error:")]
    assert len(errors) == 1 and "EOFError" in errors[0] and "without prompts" in errors[0]
    assert "--env.KEY=VALUE" in errors[0]
    rc, out, err = ck("run", "script", "--tags=asking", "--env.MLC_ANSWER=42", "--json")
    assert rc == 0, err
    assert json.loads(out)["new_env"]["MLC_ANSWER"] == "42"
