"""The HTTP side of the client: one :class:`HubClient` per hub, over httpx.

Every failure becomes a typed error of :mod:`cknowledge.errors` whose message names the
hub: the hub's own ``{"return": code, "error": ...}`` answers keep their code, a hub that
cannot be reached is a :class:`~cknowledge.errors.DownloadError` (code 15) with one line
that says how to start it, a refused token an :class:`~cknowledge.errors.AuthError`.

The environment is honoured as pip and curl honour it: ``HTTPS_PROXY``, ``HTTP_PROXY``,
``ALL_PROXY`` and ``NO_PROXY`` (a hub on a loopback address is reached directly), and for
an ``https://`` hub the CA bundle of ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` (a file or a folder), else ``SSL_CERT_DIR``, else the system's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import time

from ..errors import ALL_ERRORS, AuthError, ChecksumError, CKError, DownloadError
from .config import HubSettings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    import httpx

API = "/api/v1"
#: what the hub answers for a path it has no route for (not for a missing component)
NO_ENDPOINT = "no such page or endpoint"
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
_BY_CODE: dict[int, type[CKError]] = {cls.code: cls for cls in ALL_ERRORS}
#: where a CA bundle may be named, first wins (SSL_CERT_DIR is the last resort)
CA_BUNDLE_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def unreachable(url: str, exc: BaseException) -> DownloadError:
    reason = str(exc).strip() or type(exc).__name__
    return DownloadError(f"cannot reach the hub at {url}: {reason}; start it with "
                         "`ck hub serve` or pass --hub")


class HubClient:
    """Calls to one hub. Use as a context manager, or call :meth:`close`."""

    def __init__(self, settings: HubSettings, timeout: float = READ_TIMEOUT) -> None:
        try:
            import httpx
        except ImportError:
            from ..errors import InvalidInput

            raise InvalidInput("the hub client needs httpx: pip install 'cknowledge[hub]'"
                               ) from None

        self.settings = settings
        self.url = settings.url
        host = httpx.URL(self.url).host
        direct = {f"all://{f'[{host}]' if ':' in host else host}": None} \
            if _is_loopback(host) else {}
        self._http = httpx.Client(
            base_url=self.url + API,
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            headers={"Accept": "application/json",
                     "User-Agent": f"cknowledge-client/{_version()}"},
            verify=ssl_context() if self.url.lower().startswith("https:") else True,
            follow_redirects=False, trust_env=True, mounts=direct)

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- requests ---------------------------------------------------------------------------
    def _auth(self, write: bool) -> dict[str, str]:
        token = self.settings.token
        if token:
            return {"Authorization": f"Bearer {token}"}
        if write:
            raise AuthError(f"no token for the hub at {self.url}; run `cb login "
                            f"--hub={self.url} --token=TOKEN` (the hub's admin creates one "
                            "with `ck hub user add NAME`) or set $CK_HUB_TOKEN")
        return {}

    def request(self, method: str, path: str, *, write: bool = False,
                retries: int = 0, retry_on: Callable[[BaseException], bool] | None = None,
                **kwargs: Any) -> httpx.Response:
        """One request; connection failures are retried ``retries`` times (with backoff)
        when ``retry_on`` says the failure is one where the request never got through."""
        import httpx

        headers = dict(kwargs.pop("headers", None) or {})
        headers.update(self._auth(write))
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, headers=headers, **kwargs)
                break
            except httpx.TransportError as exc:
                if attempt < retries and (retry_on or _is_connect_error)(exc):
                    time.sleep(min(0.25 * 2 ** attempt, 4.0))
                    attempt += 1
                    continue
                raise unreachable(self.url, exc) from None
        if response.status_code >= 400:
            raise self.error(method, path, response)
        return response

    def get_json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return _json_of(self, "GET", path, self.request("GET", path, **kwargs))

    def post_json(self, path: str, *, write: bool = True, **kwargs: Any) -> dict[str, Any]:
        return _json_of(self, "POST", path, self.request("POST", path, write=write, **kwargs))

    def download(self, path: str, dest: str, expected_sha256: str | None = None,
                 progress: Callable[[int], None] | None = None,
                 expected_size: int | None = None) -> dict[str, Any]:
        """Stream ``path`` into the file ``dest``; check the sha256 against
        ``expected_sha256`` and the ``X-Checksum-Sha256`` header (either may be missing,
        not both). A stream longer than ``expected_size`` is cut off at once (a
        ChecksumError). Returns ``{"sha256", "size"}``; a mismatch removes ``dest``."""
        import httpx

        digest = hashlib.sha256()
        size = 0
        try:
            with self._http.stream("GET", path, headers=self._auth(False)) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self.error("GET", path, response)
                header = (response.headers.get("X-Checksum-Sha256") or "").strip().lower()
                with open(dest, "wb") as out:
                    for chunk in response.iter_bytes(1 << 16):
                        if expected_size is not None and size + len(chunk) > expected_size:
                            raise ChecksumError(
                                f"{path} from the hub at {self.url} is longer than the "
                                f"{expected_size} bytes the hub lists; the download was "
                                "stopped: try again, or tell the hub's admin")
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
                        if progress is not None:
                            progress(size)
        except httpx.TransportError as exc:
            _unlink(dest)
            raise unreachable(self.url, exc) from None
        except BaseException:
            _unlink(dest)
            raise
        got = digest.hexdigest()
        wanted = [w.lower() for w in (expected_sha256, header) if w]
        if not wanted:
            _unlink(dest)
            raise ChecksumError(f"the hub at {self.url} sent {path} without a checksum; "
                                "refusing to use it unverified")
        for want in wanted:
            if got != want:
                _unlink(dest)
                raise ChecksumError(f"{path} from the hub at {self.url} has sha256 {got}, but "
                                    f"the hub lists {want}; the download is corrupt or was "
                                    "changed on the way: try again, or tell the hub's admin")
        return {"sha256": got, "size": size}

    # -- errors -----------------------------------------------------------------------------
    def error(self, method: str, path: str, response: httpx.Response) -> CKError:
        """The typed error for a failed answer, naming the hub."""
        status = response.status_code
        code, text = None, ""
        try:
            body = response.json()
            if isinstance(body, dict):
                code = body.get("return")
                text = str(body.get("error") or body.get("detail") or "")
        except ValueError:
            text = (response.text or "").strip().splitlines()[0:1][0] \
                if (response.text or "").strip() else ""
        text = " ".join(text.split())[:500] or response.reason_phrase or f"HTTP {status}"
        if status == 404 and (not isinstance(code, int) or NO_ENDPOINT in text):
            # not the hub's "no such thing" but no hub API at this address at all
            said = f": {text}" if isinstance(code, int) else ""
            return DownloadError(f"{self.url} has no hub API at {API}{path.split('?')[0]} "
                                 f"(404{said}); is --hub the hub's address (e.g. "
                                 "http://HOST:8787)?", status=status)
        if status == 401:
            text = text.removeprefix("hub: ")
            return AuthError(f"the hub at {self.url} refused the token ({status}): {text}; "
                             f"log in with a valid one: cb login --hub={self.url} "
                             "--token=TOKEN", status=status)
        cls: type[CKError] | None = _BY_CODE.get(code) \
            if isinstance(code, int) and not isinstance(code, bool) else None
        if cls is None:
            fallback: dict[int, type[CKError]] = {
                403: AuthError, 404: _BY_CODE[16], 409: _BY_CODE[8], 413: _BY_CODE[2],
                422: _BY_CODE[2]}
            cls = fallback.get(status, DownloadError)
        text = text.removeprefix("hub: ")
        return cls(f"the hub at {self.url} refused {method} {API}{path} ({status}): {text}",
                   status=status)


def _json_of(client: HubClient, method: str, path: str, response: httpx.Response
             ) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DownloadError(f"the hub at {client.url} answered {method} {API}{path} with "
                            "something that is not a JSON object; is it a cknowledge hub?")
    return body


def ssl_context(env: dict[str, str] | None = None) -> Any:
    """The ``ssl.SSLContext`` that checks an https hub: the CA bundle the environment
    names (:data:`CA_BUNDLE_VARS`, then ``SSL_CERT_DIR``), else the system's. A named
    bundle that cannot be read is an InvalidInput naming the variable."""
    import ssl

    from ..errors import InvalidInput

    env = dict(os.environ) if env is None else env
    named = [(var, env[var]) for var in (*CA_BUNDLE_VARS, "SSL_CERT_DIR") if env.get(var)]
    if not named:
        return ssl.create_default_context()
    var, path = named[0]
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise InvalidInput(f"cannot use the CA bundle ${var}={path}: {reason}; point "
                           f"{var} at a PEM file of CA certificates, or unset it") from None


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_connect_error(exc: BaseException) -> bool:
    """Failures where the request cannot have reached the server's handler."""
    import httpx

    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _version() -> str:
    from .. import __version__

    return str(__version__)
