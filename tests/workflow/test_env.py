"""The env contract of a script: inputs, env layers, variations, exports, conditions, hooks."""

from __future__ import annotations

import pytest

from .conftest import run, run_ok

DUMP = "".join(f'echo "{k}=${k}" >> "$CK_ENV_OUT"\n' for k in ("A", "B", "C", "D", "E"))


def test_input_mapping(repo):
    repo.script("s", {"tags": ["ev-s"], "input_mapping": {"greeting": "CK_GREETING",
                                                          "out_dir": "CK_OUT_DIR"}},
                'echo "G=$CK_GREETING/$CK_OUT_DIR" >> "$CK_ENV_OUT"\n')
    assert run_ok(tags="ev-s", greeting="hello", out_dir="/x")["new_env"] == {"G": "hello//x"}


def test_unknown_input_is_an_error_listing_the_inputs(repo):
    repo.script("s", {"tags": ["ev-s"], "input_mapping": {"greeting": "CK_GREETING"}}, "true\n")
    result = run(tags="ev-s", greting="x")
    assert result["return"] == 2, result
    assert "greting" in result["error"] and "greeting" in result["error"]


def test_env_layers_precedence(repo):
    repo.script("s", {"tags": ["ev-s"],
                      "input_mapping": {"e": "E"},
                      "default_env": {"A": "default", "B": "default", "C": "default",
                                      "D": "default", "E": "default"},
                      "env": {"B": "env", "C": "env", "D": "env", "E": "env"},
                      "variations": {"v": {"env": {"C": "variation", "D": "variation",
                                                   "E": "variation"}}}},
                DUMP)
    got = run_ok(tags="ev-s,_v", e="input", env={"D": "explicit"})["new_env"]
    assert got == {"A": "default", "B": "env", "C": "variation", "D": "explicit", "E": "input"}
    # explicit --env beats an input too
    got = run_ok(tags="ev-s,_v", e="input", env={"E": "explicit"})["new_env"]
    assert got["E"] == "explicit"
    got = run_ok(tags="ev-s")["new_env"]
    assert got == {"A": "default", "B": "env", "C": "env", "D": "env", "E": "env"}


def test_dependency_exports_reach_the_parent(repo):
    repo.script("dep", {"tags": ["ev-dep"]}, 'echo "CK_DEP_PATH=/opt/dep" >> "$CK_ENV_OUT"\n')
    repo.script("top", {"tags": ["ev-top"], "deps": [{"tags": "ev-dep"}]},
                'echo "SEEN=$CK_DEP_PATH" >> "$CK_ENV_OUT"\n')
    assert run_ok(tags="ev-top")["new_env"] == {"SEEN": "/opt/dep"}


def test_new_env_keys_globs_filter_exports(repo):
    repo.script("s", {"tags": ["ev-s"], "new_env_keys": ["CK_OUT_*", "KEEP"]},
                'printf "CK_OUT_A=1\\nCK_OUT_B=2\\nKEEP=3\\nDROP=4\\nCK_OTHER=5\\nKEEPX=6\\n"'
                ' >> "$CK_ENV_OUT"\n')
    assert run_ok(tags="ev-s")["new_env"] == {"CK_OUT_A": "1", "CK_OUT_B": "2", "KEEP": "3"}


def test_filtered_exports_do_not_reach_the_parent(repo):
    repo.script("dep", {"tags": ["ev-dep"], "new_env_keys": ["PUBLIC"]},
                'printf "PUBLIC=p\\nPRIVATE=q\\n" >> "$CK_ENV_OUT"\n')
    repo.script("top", {"tags": ["ev-top"], "deps": [{"tags": "ev-dep"}]},
                'echo "SEEN=$PUBLIC/${PRIVATE:-none}" >> "$CK_ENV_OUT"\n')
    assert run_ok(tags="ev-top")["new_env"] == {"SEEN": "p/none"}


def test_env_out_parsing(repo):
    repo.script("s", {"tags": ["ev-s"]},
                'cat >> "$CK_ENV_OUT" <<"X"\n# a comment\n\nURL=http://h/?a=b&c=d\nEMPTY=\n'
                'SPACED=  two words\nX\n')
    assert run_ok(tags="ev-s")["new_env"] == {"URL": "http://h/?a=b&c=d", "EMPTY": "",
                                               "SPACED": "  two words"}


@pytest.mark.parametrize("bad", ["no equals sign here", "=value without a key"])
def test_env_out_bad_line_is_invalid_input(repo, home, bad):
    from .conftest import cache_folders

    repo.script("s", {"tags": ["ev-s"], "cache": True},
                f'echo "GOOD=1" >> "$CK_ENV_OUT"\necho "{bad}" >> "$CK_ENV_OUT"\n')
    result = run(tags="ev-s")
    assert result["return"] == 2, result
    assert bad in result["error"] and "KEY=VALUE" in result["error"]
    assert cache_folders(home) == []


VARIANTS = {"tags": ["ev-v"],
            "variations": {"small": {"group": "size", "default": True, "env": {"SIZE": "s"}},
                           "large": {"group": "size", "env": {"SIZE": "l"}},
                           "fp16": {"env": {"PREC": "16"}}},
            "default_env": {"PREC": "32"}}
VARIANTS_RUN = 'echo "OUT=$SIZE-$PREC" >> "$CK_ENV_OUT"\n'


def test_variation_group_default_applies(repo):
    repo.script("v", VARIANTS, VARIANTS_RUN)
    r = run_ok(tags="ev-v")
    assert r["new_env"] == {"OUT": "s-32"} and r["variations"] == ["small"]
    r = run_ok(tags="ev-v,_large")
    assert r["new_env"] == {"OUT": "l-32"} and r["variations"] == ["large"]
    r = run_ok(tags="ev-v,_fp16")
    assert r["new_env"] == {"OUT": "s-16"} and r["variations"] == ["fp16", "small"]


def test_variation_in_the_script_name(repo):
    repo.script("v", VARIANTS, VARIANTS_RUN)
    assert run_ok(artifact="v,_large")["new_env"] == {"OUT": "l-32"}


def test_two_variations_of_one_group_are_an_error(repo):
    repo.script("v", VARIANTS, VARIANTS_RUN)
    result = run(tags="ev-v,_small,_large")
    assert result["return"] == 2, result
    assert "_small" in result["error"] and "_large" in result["error"]
    assert "size" in result["error"]


def test_unknown_variation_lists_the_valid_ones(repo):
    repo.script("v", VARIANTS, VARIANTS_RUN)
    result = run(tags="ev-v,_lrage")
    assert result["return"] == 2, result
    for name in ("_lrage", "_small", "_large", "_fp16"):
        assert name in result["error"], result["error"]


def test_dependency_variations(repo):
    repo.script("v", VARIANTS, VARIANTS_RUN)
    repo.script("top", {"tags": ["ev-top"],
                        "deps": [{"tags": "ev-v,_large", "names": ["v"]},
                                 {"tags": "ev-v", "variations": ["fp16"], "names": ["v16"]}]},
                'echo "SEEN=$OUT" >> "$CK_ENV_OUT"\n')
    r = run_ok(tags="ev-top")
    names = sorted(d["name"] for d in r["deps"].values())
    assert names == ["v", "v"] and len(r["deps"]) == 2


def test_variation_deps(repo):
    repo.script("extra", {"tags": ["ev-extra"]}, 'echo "EXTRA=yes" >> "$CK_ENV_OUT"\n')
    repo.script("v", {"tags": ["ev-v"], "variations": {"with": {"deps": [{"tags": "ev-extra"}]}}},
                'echo "SEEN=${EXTRA:-no}" >> "$CK_ENV_OUT"\n')
    assert run_ok(tags="ev-v")["new_env"] == {"SEEN": "no"}
    r = run_ok(tags="ev-v,_with")
    assert r["new_env"] == {"SEEN": "yes"} and len(r["deps"]) == 1


@pytest.fixture
def conditional(repo):
    repo.script("opt", {"tags": ["ev-opt"]}, 'echo "OPT=yes" >> "$CK_ENV_OUT"\n')
    repo.script("alt", {"tags": ["ev-alt"]}, 'echo "ALT=yes" >> "$CK_ENV_OUT"\n')
    repo.script("top", {"tags": ["ev-top"],
                        "input_mapping": {"use_opt": "USE_OPT"},
                        "default_env": {"USE_OPT": "no"},
                        "deps": [{"tags": "ev-opt", "enable_if_env": {"USE_OPT": ["yes", "on"]}},
                                 {"tags": "ev-alt", "skip_if_env": {"NO_ALT": ["1"]}}]},
                'echo "SEEN=${OPT:-no}/${ALT:-no}" >> "$CK_ENV_OUT"\n')
    return repo


def test_enable_if_env(conditional):
    r = run_ok(tags="ev-top")
    assert r["new_env"] == {"SEEN": "no/yes"}
    assert sorted(d["name"] for d in r["deps"].values()) == ["alt"]
    assert run_ok(tags="ev-top", use_opt="on")["new_env"] == {"SEEN": "yes/yes"}
    assert run_ok(tags="ev-top", env={"USE_OPT": "yes"})["new_env"] == {"SEEN": "yes/yes"}


def test_skip_if_env(conditional):
    r = run_ok(tags="ev-top", env={"NO_ALT": "1"})
    assert r["new_env"] == {"SEEN": "no/no"} and r["deps"] == {}
    graph = run_ok(tags="ev-top", env={"NO_ALT": "1"}, dry_run=True)["graph"]
    assert graph["deps"] == []


def test_conditions_on_a_variation_env(repo):
    repo.script("opt", {"tags": ["ev-opt"]}, 'echo "OPT=yes" >> "$CK_ENV_OUT"\n')
    repo.script("top", {"tags": ["ev-top"],
                        "variations": {"with_opt": {"env": {"USE_OPT": "yes"}}},
                        "deps": [{"tags": "ev-opt", "enable_if_env": {"USE_OPT": ["yes"]}}]},
                'echo "SEEN=${OPT:-no}" >> "$CK_ENV_OUT"\n')
    assert run_ok(tags="ev-top")["new_env"] == {"SEEN": "no"}
    assert run_ok(tags="ev-top,_with_opt")["new_env"] == {"SEEN": "yes"}


HOOKS = '''
def preprocess(ctx):
    ctx.env["FROM_PRE"] = "pre-" + ctx.env.get("CK_GREETING", "?")
    ctx.state["seen"] = sorted(ctx.deps)
    if ctx.env.get("SKIP") == "1":
        return {"skip_run": True, "new_env": {"SKIPPED": "yes"}}


def postprocess(ctx):
    ctx.new_env["FROM_POST"] = ctx.new_env.get("FROM_RUN", "none") + "+post"
    return {"new_env": {"RETURNED": "r", "DEPS": ",".join(ctx.state["seen"])}}
'''


def test_python_hooks(repo, tmp_path):
    marker = tmp_path / "ran"
    repo.script("h", {"tags": ["ev-h"], "input_mapping": {"greeting": "CK_GREETING"}},
                f'touch "{marker}"\necho "FROM_RUN=$FROM_PRE" >> "$CK_ENV_OUT"\n',
                files={"customize.py": HOOKS})
    r = run_ok(tags="ev-h", greeting="hi")
    assert r["new_env"] == {"FROM_RUN": "pre-hi", "FROM_POST": "pre-hi+post",
                            "RETURNED": "r", "DEPS": ""}
    assert marker.exists()
    marker.unlink()
    r = run_ok(tags="ev-h", env={"SKIP": "1"})
    assert not marker.exists()
    assert r["new_env"] == {"SKIPPED": "yes", "FROM_POST": "none+post", "RETURNED": "r",
                            "DEPS": ""}


def test_hook_module_alone_runs_without_run_sh(repo):
    repo.script("h", {"tags": ["ev-h"], "hooks": "my_hooks.py"},
                files={"my_hooks.py": "def postprocess(ctx):\n"
                                      "    ctx.new_env['ONLY'] = ctx.script_dir\n"})
    r = run_ok(tags="ev-h")
    assert r["new_env"] == {"ONLY": str(repo.root / "script" / "h")}


def test_broken_hook_module_is_plugin_error(repo):
    repo.script("h", {"tags": ["ev-h"]}, "true\n",
                files={"customize.py": "def preprocess(ctx)\n    pass\n"})
    result = run(tags="ev-h")
    assert result["return"] == 12, result
    assert "customize.py" in result["error"] and "SyntaxError" in result["error"]


def test_hook_that_raises_is_reported(repo, home):
    repo.script("h", {"tags": ["ev-h"], "cache": True}, "true\n",
                files={"customize.py": "def postprocess(ctx):\n"
                                       "    raise RuntimeError('model file is corrupt')\n"})
    result = run(tags="ev-h")
    assert result["return"] == 14, result
    assert "postprocess" in result["error"] and "model file is corrupt" in result["error"]
    from .conftest import cache_folders

    assert cache_folders(home) == []


def test_env_only_step_exports_what_it_declares(repo):
    repo.script("e", {"tags": ["ev-e"], "env": {"CK_X": "1"}, "default_env": {"CK_Y": "2"}})
    assert run_ok(tags="ev-e")["new_env"] == {"CK_X": "1", "CK_Y": "2"}
