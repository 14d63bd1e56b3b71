"""Property-based API testing of a live hub with Schemathesis, from its own /openapi.json:
whatever the generated request, the answer is never a 5xx, and an error from the JSON API is
the hub's error body ``{"return": code, "error": "..."}``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hub.conftest_pg import BOARD, LiveHub, start_hub, submission

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveHub, str]]:
    """A live hub (SQLite) with an admin user, a published scoreboard row and one result,
    so that generated requests also reach existing resources."""
    import httpx

    root = tmp_path_factory.mktemp("hub-schemathesis")
    live = start_hub(f"sqlite:///{root / 'hub.sqlite'}", root)
    try:
        token = live.add_user("fuzz-admin", admin=True)
        with httpx.Client(base_url=live.url, timeout=60,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            r = http.post(f"/api/v1/scoreboards/{BOARD}/results", json=submission(1))
            assert r.status_code == 201, r.text
        yield live, token
    finally:
        live.stop()


@schemathesis.check
def hub_error_body(ctx: Any, response: Any, case: Any) -> None:
    """4xx answers of /api/v1 carry the hub's JSON error body."""
    if not case.path.startswith("/api/v1") or not 400 <= response.status_code < 500:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{case.method} {case.formatted_path} answered "
                             f"{response.status_code} without a JSON body") from None
    if not (isinstance(body, dict) and isinstance(body.get("return"), int)
            and body["return"] > 0 and isinstance(body.get("error"), str)):
        raise AssertionError(f"{case.method} {case.formatted_path} answered "
                             f"{response.status_code} with {str(body)[:300]}, not "
                             "{'return': code, 'error': ...}")


@pytest.mark.slow
def test_no_server_errors(hub: tuple[LiveHub, str]) -> None:
    """Every operation of /openapi.json, with valid (positive) and invalid (negative)
    generated requests, sent with an admin token: no 5xx, and API errors in the hub's form."""
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    live, token = hub
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        passes: list[tuple[Any, dict[str, Any] | None]] = [
            (GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if operation.path.startswith("/api/v1/scoreboards/{name}"):
            # again against the existing scoreboard, to reach the queries behind the 404
            passes.append((GenerationMode.POSITIVE, {"name": BOARD}))
            passes.append((GenerationMode.NEGATIVE, {"name": BOARD}))
        for mode, path_parameters in passes:
            @hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                                 database=None, suppress_health_check=list(hypothesis.HealthCheck),
                                 phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode,
                                                         path_parameters=path_parameters))
            def check(case: Any) -> None:
                sent[case.method] = sent.get(case.method, 0) + 1
                case.call_and_validate(base_url=live.url, headers=headers, timeout=60,
                                       checks=[not_a_server_error, hub_error_body])

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                continue   # no invalid request exists for it (e.g. no parameters at all)
            except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - reported together
                failures.append(f"{operation.label} [{mode.value}, {path_parameters}]: "
                                f"{str(e)[:1500]}")
    assert operations >= 10, f"only {operations} operations in /openapi.json"
    assert sent.get("GET", 0) >= 10 * MAX_EXAMPLES and sent.get("POST", 0) >= 3 * MAX_EXAMPLES, sent
    assert live.proc.poll() is None, live.log()[-3000:]
    assert not failures, "\n\n".join(failures) + "\n--- server log ---\n" + live.log()[-4000:]


HUGE = "9" * 25   # beyond 64-bit integers
EDGE_URLS = [
    f"/results/{HUGE}", "/results/0", "/results/-1",
    f"/scoreboards/{BOARD}?offset={HUGE}", f"/scoreboards/{BOARD}?sort=nope&order=up",
    f"/scoreboards/{BOARD}?backend=%00&platform=%FF%FE&version=%E2%80%AE",
    f"/scoreboards/{BOARD}?x=qps&y=qps", f"/scoreboards/{BOARD}?x=nope&y=map",
    f"/components?offset={HUGE}", "/components?q=%00%25_%5C", "/components/a/b",
    f"/api/v1/results/{HUGE}", f"/api/v1/components?offset={HUGE}&limit=1",
    f"/api/v1/scoreboards/{BOARD}/results?offset={HUGE}",
    f"/api/v1/scoreboards/{BOARD}/pareto?x=qps&y=map&backend=%00",
    f"/api/v1/scoreboards/{BOARD}/pareto?x=qps&y=qps",
]


@pytest.mark.parametrize("path", EDGE_URLS)
def test_edge_requests_are_not_server_errors(hub: tuple[LiveHub, str], path: str) -> None:
    """Pages and parameters that the generated API cases do not reach (the HTML pages are
    not in /openapi.json): out-of-range numbers, odd bytes, unknown metrics."""
    import httpx

    live, _ = hub
    r = httpx.get(live.url + path, timeout=60)
    assert r.status_code < 500, f"{path} -> {r.status_code}: {r.text[:300]}\n{live.log()[-2500:]}"
    if path.startswith("/api/") and r.status_code >= 400:
        body = r.json()
        assert isinstance(body.get("return"), int) and body["return"] > 0 and body.get("error")
