"""The hub's web pages render from the same data as the API; `serve` runs a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.hub.conftest import make_archive
from tests.hub.conftest_pg import BOARD, free_port, submission

RESULTS = f"/api/v1/scoreboards/{BOARD}/results"
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def filled(hub_client: Any, hub_users: Any, hub_publish: Any) -> list[int]:
    alice = hub_users.auth("alice")
    hub_publish(alice, "dataset:coco-mini", "1.0.0",
                meta={"tags": ["images"], "description": "A <small> COCO subset"})
    hub_publish(alice, "model:retinanet", "2.1.0",
                deps=[{"component": "dataset:coco-mini", "range": ">=1.0"}])
    ids = []
    for i in range(7):
        body = submission(i, reference=(i == 0))
        who = "admin" if i == 0 else "alice"
        ids.append(hub_client.post(RESULTS, json=body, headers=hub_users.auth(who)).json()["id"])
    return ids


def _ok(hub_client: Any, path: str) -> str:
    r = hub_client.get(path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    text: str = r.text
    return text


def test_index_and_component_pages(hub_client: Any, filled: list[int]) -> None:
    home = _ok(hub_client, "/")
    assert 'href="/components/model/retinanet"' in home and BOARD in home
    assert '<form id="search"' in home
    found = _ok(hub_client, "/components?q=coco")
    assert 'id="components-table"' in found and "dataset:coco-mini" in found
    assert "model:retinanet" not in found
    assert "A &lt;small&gt; COCO subset" in found                   # escaped
    page = _ok(hub_client, "/components/model/retinanet")
    assert 'id="versions-table"' in page and "2.1.0" in page
    assert "cb download model:retinanet" in page
    assert 'href="/components/dataset/coco-mini"' in page and "&gt;=1.0" in page
    r = hub_client.get("/components/model/none")
    assert r.status_code == 404 and "no component model:none" in r.text


def test_scoreboard_page(hub_client: Any, filled: list[int]) -> None:
    page = _ok(hub_client, f"/scoreboards/{BOARD}")
    for element in ('id="scoreboard-table"', 'id="filters"', 'id="pareto-plot"',
                    'src="/static/plotly.min.js"'):
        assert element in page, element
    rows = re.findall(r'<tr class="(reference)?" data-id="(\d+)"', page)
    assert len(rows) == 7
    assert [int(i) for ref, i in rows if ref] == [filled[0]]       # reference row marked
    assert f"/scoreboards/{BOARD}?sort=qps&amp;order=asc" in page  # sorted by qps desc: flip
    assert f"/scoreboards/{BOARD}?sort=latency_p90_ms&amp;order=asc" in page
    assert "<option>tvm</option>" in page                          # backend filter values
    asc = _ok(hub_client, f"/scoreboards/{BOARD}?sort=qps&order=asc")
    first_api = hub_client.get(RESULTS, params={"sort": "qps", "order": "asc"}).json()
    order = [int(i) for _, i in re.findall(r'<tr class="(reference)?" data-id="(\d+)"', asc)]
    assert order == [r["id"] for r in first_api["items"]]
    tvm = _ok(hub_client, f"/scoreboards/{BOARD}?backend=tvm")
    n_tvm = hub_client.get(RESULTS, params={"backend": "tvm"}).json()["total"]
    assert len(re.findall(r'data-id="\d+"', tvm)) == n_tvm > 0
    assert "<option selected>tvm</option>" in tvm
    plot = re.search(r'data-url="([^"]+)"', page)
    assert plot is not None
    data = hub_client.get(plot.group(1).replace("&amp;", "&")).json()
    assert data["front"] and len(data["points"]) == 7
    assert _ok(hub_client, "/scoreboards").count(f'href="/scoreboards/{BOARD}"') == 1
    r = hub_client.get(f"/scoreboards/{BOARD}?sort=nope")
    assert r.status_code == 422 and "nope" in r.text


def test_result_page(hub_client: Any, filled: list[int]) -> None:
    page = _ok(hub_client, f"/results/{filled[1]}")
    for element in ('id="result-metrics"', 'id="result-components"', 'id="platform-facts"',
                    "model:retinanet", "Test CPU 1", f'href="/scoreboards/{BOARD}"'):
        assert element in page, element
    assert hub_client.get("/results/424242").status_code == 404


def test_static_plotly_is_served(hub_client: Any) -> None:
    r = hub_client.get("/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000
    assert hub_client.get("/static/scoreboard.js").status_code == 200
    assert hub_client.get("/static/style.css").status_code == 200


def test_serve_runs_uvicorn_and_prints_the_address(tmp_path: Path) -> None:
    port = free_port()
    root = tmp_path / "served"
    code = ("import sys; from cknowledge.hub.server import serve; "
            "serve(sys.argv[1], sys.argv[2], '127.0.0.1', int(sys.argv[3]))")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code, f"sqlite:///{root}/hub.sqlite",
                             str(root), str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/scoreboards/{BOARD}") as r:
            assert b'id="scoreboard-table"' in r.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (root / "hub.sqlite").exists() and (root / "static" / "plotly.min.js").exists()


def test_archive_contents_are_never_unpacked(hub_client: Any, hub_users: Any,
                                            hub_publish: Any) -> None:
    """A published archive with a hook script stays a blob: nothing lands beside it."""
    data = make_archive({"meta.json": b"{}", "customize.py": b"open('/tmp/pwned','w')\n",
                         "run.sh": b"#!/bin/sh\ntouch /tmp/pwned\n"})
    assert hub_publish(hub_users.auth("alice"), "script:hook", "1.0.0",
                       archive=data).status_code == 201
    root = hub_client.app.state.hub.blobs.root
    names = {str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file()}
    assert not any(n.endswith(("customize.py", "run.sh")) for n in names)
