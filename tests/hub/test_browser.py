"""The scoreboard page in a real browser: Debian's Chromium driven by Playwright (no browser
download), against a live hub with results submitted through the API. It sorts by clicking
a column header, filters with a select, checks the Pareto plot was drawn, and inspects a
screenshot of the page."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hub.conftest_pg import BOARD, LiveHub, submission

CHROMIUM = os.environ.get("CK_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A Playwright page in Chromium with a fresh profile folder."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        if os.environ.get("CK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM}: install the Debian package 'chromium'")
        pytest.skip(f"no Chromium at {CHROMIUM} (install the Debian package 'chromium')")
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def _png(data: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


def test_chromium_renders_a_local_page(page: Any, tmp_path: Path) -> None:
    """The browser itself: a page from a file:// URL is laid out and screenshotted."""
    html = tmp_path / "p.html"
    html.write_text("<html><body style='margin:0;background:#fff'>"
                    "<div id='box' style='width:200px;height:100px;background:#c00'></div>"
                    "<p style='font:24px sans-serif;color:#000'>hello</p></body></html>")
    page.goto(html.as_uri())
    assert page.inner_text("p") == "hello"
    img = _png(page.screenshot())
    assert img.getpixel((100, 50)) == (204, 0, 0)
    assert img.getpixel((600, 50)) == (255, 255, 255)


def _column(page: Any, index: int) -> list[str]:
    cells = page.locator(f"#scoreboard-table tbody tr td:nth-child({index + 1})")
    return [c.strip() for c in cells.all_inner_texts()]


def _header_index(page: Any, name: str) -> int:
    headers = [h.strip().lower() for h in page.locator("#scoreboard-table thead th").all_inner_texts()]
    for i, h in enumerate(headers):
        if h.startswith(name) or re.match(rf"^\W*{re.escape(name)}\b", h):
            return i
    raise AssertionError(f"no column {name!r} in the headers {headers}")


def _numbers(cells: list[str]) -> list[float]:
    out = []
    for c in cells:
        m = re.search(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", c.replace(",", ""))
        assert m, f"no number in the cell {c!r}"
        out.append(float(m.group()))
    return out


def _seed(hub: LiveHub, n: int) -> dict[str, Any]:
    token = hub.add_user("alice")
    admin = hub.add_user("root", admin=True)
    with httpx.Client(base_url=hub.url, timeout=60) as http:
        for i in range(n):
            r = http.post(f"/api/v1/scoreboards/{BOARD}/results", json=submission(i),
                          headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
        r = http.post(f"/api/v1/scoreboards/{BOARD}/results",
                      json=submission(n, reference=True),
                      headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 201, r.text
        pytorch = http.get(f"/api/v1/scoreboards/{BOARD}/results",
                           params={"backend": "pytorch", "limit": 200}).json()
    return {"pytorch_total": pytorch["total"], "reference_id": r.json()["id"]}


@pytest.mark.slow
def test_scoreboard_page_sort_filter_plot_screenshot(page: Any, live_hub: Callable[..., LiveHub],
                                                      tmp_path: Path) -> None:
    hub = live_hub()
    seeded = _seed(hub, 24)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    page.goto(f"{hub.url}/scoreboards/{BOARD}")
    page.wait_for_selector("#scoreboard-table tbody tr")
    assert page.locator("#scoreboard-table tbody tr").count() == 25
    # the reference row (posted by the admin) is marked
    ref = page.locator(f"#scoreboard-table tbody tr:has(a[href='/results/{seeded['reference_id']}'])")
    assert ref.count() == 1
    assert "reference" in (ref.get_attribute("class") or "") or "ref" in ref.inner_text().lower()
    assert page.locator("#scoreboard-table tbody tr.reference").count() <= 1

    # sort: click the qps header (a link with ?sort=qps&order=...)
    qps = _header_index(page, "qps")
    page.locator("#scoreboard-table thead th").nth(qps).locator("a").first.click()
    page.wait_for_url(re.compile(r"sort=qps"))
    order = re.search(r"order=(asc|desc)", page.url)
    values = _numbers(_column(page, _header_index(page, "qps")))
    assert len(values) == 25
    descending = order is None or order.group(1) == "desc"
    assert values == sorted(values, reverse=descending), (page.url, values)
    # clicking it again reverses the order
    page.locator("#scoreboard-table thead th").nth(_header_index(page, "qps")) \
        .locator("a").first.click()
    page.wait_for_url(re.compile(r"order=" + ("asc" if descending else "desc")))
    again = _numbers(_column(page, _header_index(page, "qps")))
    assert again == sorted(values, reverse=not descending)

    # filter: the backend select
    select = page.locator("#filters select[name=backend]")
    select.select_option("pytorch")
    try:
        page.wait_for_url(re.compile(r"backend=pytorch"), timeout=3000)
    except Exception:  # the form may need its submit button
        page.locator("#filters [type=submit]").first.click()
        page.wait_for_url(re.compile(r"backend=pytorch"))
    page.wait_for_selector("#scoreboard-table tbody tr")
    rows = page.locator("#scoreboard-table tbody tr").count()
    assert rows == seeded["pytorch_total"] and 0 < rows < 25
    assert "sort=qps" in page.url or "pytorch" in page.inner_text("#scoreboard-table")
    page.goto(f"{hub.url}/scoreboards/{BOARD}")
    page.wait_for_selector("#scoreboard-table tbody tr")

    # the Pareto plot: plotly.js from /static draws an SVG with one marker per point
    page.wait_for_selector("#pareto-plot svg, #pareto-plot canvas")
    points = page.locator("#pareto-plot .point, #pareto-plot path.point").count()
    assert points > 0, "the Pareto plot has no points"
    # the placeholder is gone once the plot is drawn, and the axes are labelled
    assert "Loading the plot" not in page.inner_text("#pareto-plot")
    titles = page.locator("#pareto-plot .g-xtitle, #pareto-plot .g-ytitle").all_text_contents()
    assert any("qps" in t for t in titles) and any("latency" in t for t in titles), titles
    assert not errors, errors

    shot = page.screenshot(full_page=True, path=str(tmp_path / "scoreboard.png"))
    img = _png(shot)
    width, height = img.size
    assert width >= 1000 and height >= 600
    # not blank: many colours over the page
    assert len(img.getcolors(maxcolors=1 << 20) or []) > 50
    table = page.locator("#scoreboard-table").bounding_box()
    plot = page.locator("#pareto-plot").bounding_box()
    assert table and plot and table["width"] > 100 and plot["width"] > 100 and plot["height"] > 100

    def crop(box: dict[str, float]) -> Any:
        return img.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]),
                         int(min(box["y"] + box["height"], height))))

    # the table region has text: a good share of dark (text-coloured) pixels
    t = crop(table).convert("L")
    dark = sum(1 for v in t.getdata() if v < 110)
    assert dark > 0.005 * t.size[0] * t.size[1], dark
    # the plot region is not uniform: it has markers, axes and grid in several colours
    from PIL import ImageStat

    p = crop(plot)
    assert max(ImageStat.Stat(p).stddev) > 10, ImageStat.Stat(p).stddev
    assert len(p.getcolors(maxcolors=1 << 20) or []) > 20
