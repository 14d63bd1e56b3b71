"""``cb submit`` with NaN or Infinity in the result: one input error line, never an
internal error (JSON cannot carry them)."""

from __future__ import annotations

import json

import pytest

from cknowledge.cli.main import cb_main


@pytest.mark.parametrize("body,where,text", [
    ('{"solution": "x", "metrics": {"acc": NaN}}', "metrics.acc", "nan"),
    ('{"runs": [1.0, -Infinity]}', "runs.1", "-inf"),
])
def test_cb_submit_non_finite_is_one_input_error(home, tmp_path, capsys, monkeypatch, body,
                                                 where, text):
    import cknowledge.cli.main as m

    monkeypatch.setenv("CK_HUB_TOKEN", "t")
    result = tmp_path / "result.json"
    result.write_text(body)
    try:
        for args in ([f"--file={result}"], [f"--submission={body}"]):
            rc = cb_main(["submit", "board", *args, "--hub=http://127.0.0.1:9", "--json"])
            out, err = capsys.readouterr()
            lines = err.strip().splitlines()
            assert rc == 2 and len(lines) == 1 and lines[0].startswith("cb: error:"), err
            if args[0].startswith("--file"):  # --submission=JSON may stop at the parse
                assert f"submission's {where} is {text}" in lines[0]
            assert "internal error" not in err
            assert json.loads(out)["return"] == 2
    finally:
        m.PROG = "ck"
