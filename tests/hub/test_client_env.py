"""The hub client honours the environment as pip and curl do: proxies (HTTP_PROXY ...,
NO_PROXY, loopback hubs reached directly) and CA bundles (SSL_CERT_FILE,
REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_DIR)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("httpx")

from cknowledge.client.config import HubSettings  # noqa: E402
from cknowledge.client.http import HubClient, ssl_context  # noqa: E402
from cknowledge.errors import DownloadError, InvalidInput  # noqa: E402


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with a JSON object naming the request line it saw."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        type(self).seen.append(self.requestline)
        body = json.dumps({"user": "x", "admin": False, "line": self.requestline}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A small HTTP server on loopback: ``(url, request lines seen)``."""
    seen: list[str] = []
    handler = type("Rec", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
                "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


def test_a_remote_hub_is_reached_through_the_proxy(recorder: tuple[str, list[str]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, seen = recorder
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    with HubClient(HubSettings("http://hub.example.invalid:8787", None, "--hub")) as client:
        body = client.get_json("/whoami")
    assert seen == ["GET http://hub.example.invalid:8787/api/v1/whoami HTTP/1.1"]
    assert body["user"] == "x"


def test_no_proxy_and_loopback_hubs_go_direct(recorder: tuple[str, list[str]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    hub, seen = recorder
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")   # nothing listens there
    with HubClient(HubSettings(hub, None, "--hub")) as client:
        assert client.get_json("/whoami")["user"] == "x"
    assert seen == ["GET /api/v1/whoami HTTP/1.1"]
    monkeypatch.setenv("NO_PROXY", "hub.example.invalid")
    with HubClient(HubSettings("http://hub.example.invalid:8787", None, "--hub")) as client, \
            pytest.raises(DownloadError):   # direct: the name does not resolve
        client.get_json("/whoami")


def test_ca_bundles_from_the_environment(tmp_path: Any) -> None:
    import ssl

    system = "/etc/ssl/certs/ca-certificates.crt"
    if not os.path.isfile(system):
        pytest.skip("no system CA bundle to load")
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        ctx = ssl_context({var: system})
        assert isinstance(ctx, ssl.SSLContext) and ctx.get_ca_certs()
    assert ssl_context({"SSL_CERT_DIR": os.path.dirname(system)})
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(InvalidInput, match="REQUESTS_CA_BUNDLE"):
        ssl_context({"REQUESTS_CA_BUNDLE": missing})
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(InvalidInput, match="SSL_CERT_FILE"):
        ssl_context({"SSL_CERT_FILE": str(bad)})
    # the first one named wins
    assert ssl_context({"SSL_CERT_FILE": system, "REQUESTS_CA_BUNDLE": missing})


def test_an_https_hub_uses_the_named_bundle(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Any) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(InvalidInput, match="REQUESTS_CA_BUNDLE"):
        HubClient(HubSettings("https://hub.example.invalid", None, "--hub"))
    HubClient(HubSettings("http://127.0.0.1:1", None, "--hub")).close()   # http: not read
