"""A real CM repo read in place: cmx4mlops 1.0.1 (its cmr.yaml has `prefix: repo`).

The wheel comes from `pip download cmx4mlops==1.0.1 --no-deps`, cached under
$CK_TEST_CACHE (default ~/.cache/cknowledge-tests); without network and cache the test
is skipped. What it checks is what the CM tool itself answers for the same repo (a folder
alias that differs, duplicated UIDs, variation tags, several matches)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cknowledge.errors import Ambiguous
from cknowledge.store.choose import choose_entry
from tests.conftest import access, names, ok

pytestmark = pytest.mark.slow

WHEEL = "cmx4mlops-1.0.1-py3-none-any.whl"


@pytest.fixture(scope="module")
def cmx_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = Path(os.environ.get("CK_TEST_CACHE")
                 or Path.home() / ".cache" / "cknowledge-tests")
    wheel = cache / WHEEL
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "cmx4mlops==1.0.1",
                               "--no-deps", "-d", str(cache)], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=300)
        if proc.returncode != 0 or not wheel.is_file():
            pytest.skip("cmx4mlops 1.0.1 cannot be downloaded (no network?)")
    target = tmp_path_factory.mktemp("cmx")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target, [m for m in zf.namelist() if m.startswith("cmx4mlops/")])
    return target / "cmx4mlops"


def test_cmx4mlops_read_in_place(home, cmx_repo) -> None:
    r = ok(action="pull", automation="repo", source=str(cmx_repo))
    assert r["name"] == "cmx4mlops" and r["uid"] == "428611a6db02407f"
    assert r["path"] == str(cmx_repo / "repo") and r["root"] == str(cmx_repo)
    scripts = ok(action="find", automation="script")["list"]
    assert len(scripts) > 250
    # find by tags, variations ignored
    assert names(ok(action="find", automation="script", tags="get,python3,_shared")) == [
        "get-python3"]
    py = ok(action="load", automation="script", artifact="get-python3")
    assert ok(action="load", automation="script",
              artifact=f"get-python3,{py['uid']}")["name"] == "get-python3"
    # a folder whose alias differs: found by both, as CM finds it by its alias
    by_alias = ok(action="load", automation="script", artifact="get-preprocesser-script-generic")
    assert by_alias["name"] == "get-preprocessed-dataset-generic"
    # duplicated UIDs: one entry, the first folder name (CM's answer too)
    for uid, first in (("8d3cd46f54464810", "benchmark-any-mlperf-inference-implementation"),
                       ("824e61316c074253", "get-dataset-igbh")):
        assert [e["name"] for e in ok(action="find", automation="script",
                                      artifact=uid)["list"]] == [first]
    # several compilers: their `sort` decides (llvm 100, gcc 500, cl 1000), CM's default too
    found = ok(action="find", automation="script", tags="get,compiler", with_meta=True)["list"]
    assert {"get-gcc", "get-llvm"} <= {e["name"] for e in found}
    assert choose_entry(found, "script", "--tags=get,compiler")["name"] == "get-llvm"
    # a tie is an error naming each candidate
    tie = [dict(e, meta={}) for e in found]
    with pytest.raises(Ambiguous) as exc:
        choose_entry(tie, "script", "--tags=get,compiler")
    assert "script:cmx4mlops:get-gcc" in exc.value.message
    # install-from-source scripts carry sort: 1000, so the plain get script wins
    onednn = ok(action="find", automation="script", tags="onednn", with_meta=True)["list"]
    if len(onednn) > 1:
        assert "install" not in choose_entry(onednn, "script", "--tags=onednn")["name"]
    assert access(action="load", automation="script", artifact="no-such-script")["return"] == 16
