"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def main_in_process(home, capsys):
    from cknowledge import api
    from cknowledge.cli.main import main

    def _run(*args: str) -> tuple[int, str, str]:
        rc = main(list(args))
        out, err = capsys.readouterr()
        return rc, out, err

    yield _run
    api.reset()
