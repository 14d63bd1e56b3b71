"""The paper page in a real browser (Debian's Chromium through Playwright) against a live
hub: claims, badges and a reproduction submitted by a second user; a private paper is a
404 page until its reader logs in through the login form."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.hub.conftest import make_archive
from tests.hub.conftest_pg import LiveHub
from tests.hub.test_browser import page  # noqa: F401 - the Chromium page fixture
from tests.hub.test_papers import PAPER_META, reproduction


def _publish(http: httpx.Client, token: str, name: str, private: bool) -> None:
    r = http.post(f"/api/v1/components/paper/{name}/versions",
                  headers={"Authorization": f"Bearer {token}"},
                  data={"version": "1.0", "meta": json.dumps(PAPER_META), "deps": "[]",
                        "private": "true" if private else "false"},
                  files={"archive": ("e.tar.gz", make_archive(), "application/gzip")})
    assert r.status_code == 201, r.text


@pytest.mark.slow
def test_paper_page_in_chromium(page: Any, live_hub: Callable[..., LiveHub]) -> None:  # noqa: F811
    hub = live_hub()
    alice, bob = hub.add_user("alice"), hub.add_user("bob")
    with httpx.Client(base_url=hub.url, timeout=60) as http:
        _publish(http, alice, "live", private=False)
        _publish(http, alice, "draft", private=True)
        r = http.post("/api/v1/papers/live/reproductions",
                      headers={"Authorization": f"Bearer {bob}"},
                      json=reproduction({"acc": "reproduced", "speed": "not_comparable"},
                                        cpu="Bob's workstation"))
        assert r.status_code == 201, r.text
        r = http.post("/api/v1/components/paper/draft/readers",
                      headers={"Authorization": f"Bearer {alice}"}, json={"user": "bob"})
        assert r.status_code == 200, r.text
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{hub.url}/papers/live")
    assert page.inner_text("#paper-title") == "A live paper"
    assert page.inner_text("#reproduce-command") == "ck reproduce paper:live --submit"
    rows = page.locator("#reproductions-table tbody tr")
    assert rows.count() == 1
    assert rows.first.locator(".submitter").inner_text() == "bob"
    assert "Bob's workstation" in rows.first.inner_text()
    cells = [c.strip() for c in rows.first.locator("td.verdict").all_inner_texts()]
    assert cells == ["reproduced", "not comparable"]
    acc = page.locator("#claims-table tr[data-claim='acc'] td.reproduced")
    assert acc.inner_text().strip() == "1"
    earned = page.locator("#badges li[data-earned='true']").all_inner_texts()
    assert any("functional" in e for e in earned)
    assert page.locator("#badges li[data-badge='reproduced']").get_attribute(
        "data-earned") == "false"   # speed: not yet reproduced by anyone but its owner

    # the list of papers shows the public one only
    page.goto(f"{hub.url}/papers")
    assert page.locator("#papers-table tbody tr").count() == 1
    response = page.goto(f"{hub.url}/papers/draft")
    assert response is not None and response.status == 404

    # bob logs in through the form: the private paper is his to read
    page.goto(f"{hub.url}/login")
    page.fill("#login input[name=token]", bob)
    page.click("#login button")
    page.wait_for_selector("#viewer")
    assert page.inner_text("#viewer") == "bob"
    response = page.goto(f"{hub.url}/papers/draft")
    assert response is not None and response.status == 200
    assert "private" in page.inner_text(".authors")
    page.goto(f"{hub.url}/papers")
    assert page.locator("#papers-table tbody tr").count() == 2
    page.goto(f"{hub.url}/logout")
    response = page.goto(f"{hub.url}/papers/draft")
    assert response is not None and response.status == 404
    assert not errors, errors
