"""The CLI boundary, property-based: arbitrary command lines over the store's actions
never raise out of ``main()``, never answer 1 ("internal error"), and a failure is one
``ck: error:`` line on stderr (and CK's ``{return, error}`` object on stdout with --json)."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cknowledge import api
from cknowledge.cli.main import main

ACTIONS = ["add", "load", "update", "rm", "ren", "cp", "mv", "find", "search", "list",
           "export", "import", "version", "help", "show", "info"]
AUTOMATIONS = ["dataset", "model", "kernel", "repo", "nosuch"]
KEYS = ["tags", "meta", "meta.a", "meta.a.b", "repo", "target", "new_name", "force", "uid",
        "with_meta", "file", "topic", "artifact", "env.X", "version", "home"]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
VALUES = TEXT | st.sampled_from(["", "nan", "1e999", "[", "{", '{"a": NaN}', "-1", "x,y,-z",
                                 "@", "..", "../x", "/etc", "a" * 300, "\x00", "true"])


@st.composite
def argvs(draw: st.DrawFn, tmp: str) -> list[str]:
    argv = [draw(st.sampled_from(ACTIONS) | TEXT)]
    if draw(st.booleans()):
        what = draw(st.sampled_from(AUTOMATIONS) | TEXT)
        if draw(st.booleans()):
            what += ":" + draw(VALUES)
        argv.append(what)
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            argv.append(f"--{draw(st.sampled_from(KEYS) | TEXT)}={draw(VALUES)}")
        elif kind == 1:
            argv.append("--" + draw(st.sampled_from(KEYS) | TEXT))
        elif kind == 2:
            argv.append("-" + draw(TEXT))
        elif kind == 3:
            argv.append("@" + draw(st.sampled_from([os.path.join(tmp, n) for n in
                                                    ("in.json", "in.yaml", "bin.json",
                                                     "missing.json")])))
        else:
            argv.append(draw(VALUES))
    if draw(st.booleans()):
        argv.append(draw(st.sampled_from(["--json", "-j", "-q"])))
    return argv


@settings(max_examples=int(os.environ.get("CK_HYPOTHESIS_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_command_lines(home, tmp_path, capsys, data) -> None:
    tmp = str(tmp_path)
    (tmp_path / "in.json").write_text('{"tags": "a,b", "meta": {"k": 1}}')
    (tmp_path / "in.yaml").write_text("tags: [a, b]\nmeta: {k: [1, 2]}\n")
    (tmp_path / "bin.json").write_bytes(bytes(range(256)))
    argv = data.draw(argvs(tmp))
    old = os.getcwd()
    os.chdir(tmp)  # anything written to a relative path stays here
    capsys.readouterr()
    try:
        code = main(argv)
    finally:
        os.chdir(old)
        api.reset()
    out, err = capsys.readouterr()
    assert isinstance(code, int) and code != 1, (argv, out, err)
    assert "Traceback" not in err, (argv, err)
    if code:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("ck: error: "), (argv, err)
        assert not [line for line in lines if line.startswith("ck: error: ")][1:], (argv, err)
        options = argv[:argv.index("--")] if "--" in argv else argv  # then positionals
        if "--json" in options or "-j" in options:
            last = [line for line in out.splitlines() if line.strip()][-1]
            assert json.loads(last)["return"] == code, (argv, out)
