"""``ck serve [--host=H] [--port=P] [--token=T]``: bind, announce, run uvicorn.

The socket is bound and listening before the one stdout line is printed
(``ck serve: http://HOST:PORT  token: TOKEN``), so a reader may connect as soon as
it has read it; with ``--port=0`` the line carries the port the system picked.
The token is also written to ``$CK_HOME/serve/token`` (mode 0600). SIGINT and
SIGTERM stop the server cleanly with exit code 0.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
TOKEN_ENV = "CK_SERVE_TOKEN"
_OPTIONS = {"action", "host", "port", "token"}


class _Stop(Exception):
    """Raised by our signal handler: SIGTERM/SIGINT arrived outside uvicorn's own."""


@dataclass(frozen=True)
class ServeOptions:
    """What ``ck serve`` was asked for, checked."""

    host: str
    port: int
    token: str


def _err(message: str) -> None:
    sys.stderr.write(f"ck: error: {message}\n")


def parse_port(raw: Any) -> int:
    """A ``--port`` value: a number from 0 (any free port) to 65535. Raises ``ValueError``."""
    try:
        port = int(str(raw))
    except ValueError:
        raise ValueError(f"--port must be a number from 0 to 65535, not {raw!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be a number from 0 to 65535, not {port}")
    return port


def resolve_options(request: dict[str, Any], env: dict[str, str] | None = None) -> ServeOptions:
    """Check the parsed ``--key=value`` options; the token comes from ``--token``,
    else ``$CK_SERVE_TOKEN``, else a fresh random one. Raises ``ValueError``."""
    env = dict(os.environ) if env is None else env
    unknown = sorted(k for k in request if k not in _OPTIONS)
    if unknown:
        raise ValueError(f"'ck serve' has no option {unknown[0]!r}; its options: "
                         "--host, --port, --token")
    host = request.get("host") or DEFAULT_HOST
    if not isinstance(host, str):
        raise ValueError("--host needs a value: --host=ADDRESS")
    port = parse_port(request.get("port", DEFAULT_PORT))
    token = request.get("token")
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise ValueError("--token must not be empty")
    token = token or env.get(TOKEN_ENV) or secrets.token_urlsafe(32)
    return ServeOptions(host=host, port=port, token=token)


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening. Raises ``OSError``."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://HOST:PORT`` for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def write_token(home: str, token: str) -> str:
    """Write ``token`` to ``HOME/serve/token`` (mode 0600, replaced atomically)."""
    from ..store.metaio import atomic_write_text

    folder = os.path.join(home, "serve")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, "token")
    atomic_write_text(path, token + "\n", mode=0o600)
    return path


def _is_loopback(sock: socket.socket) -> bool:
    try:
        return ipaddress.ip_address(sock.getsockname()[0].split("%")[0]).is_loopback
    except ValueError:
        return False


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop(signum)


def serve_main(request: dict[str, Any]) -> int:
    """Entry point of ``ck serve``: return the process exit code."""
    try:
        options = resolve_options(request)
    except ValueError as exc:
        _err(str(exc))
        return 2
    try:
        import uvicorn

        from .app import close_kernels, create_app
    except ImportError as exc:
        _err(f"'ck serve' needs FastAPI and uvicorn ({exc.name or exc} is missing): "
             "pip install 'cknowledge[serve]'")
        return 1
    from ..home import home_dir

    home = home_dir(None)
    try:
        sock = bind(options.host, options.port)
    except (OSError, UnicodeError) as exc:
        _err(f"cannot listen on {options.host}:{options.port}: {exc}")
        return 1
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        write_token(home, options.token)
        app = create_app(home=home, token=options.token)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                server_header=False)
        server = uvicorn.Server(config)
        # uvicorn installs its own handlers while it runs and, after a clean shutdown,
        # raises the signal again with these ones in place: turn it into _Stop.
        for sig in previous:
            signal.signal(sig, _raise_stop)
        if not _is_loopback(sock):
            sys.stderr.write(f"ck: warning: serving on {url_of(sock)}: anyone who can reach "
                             "it may read every entry; there is no TLS\n")
        sys.stdout.write(f"ck serve: {url_of(sock)}  token: {options.token}\n")
        sys.stdout.flush()
        server.run(sockets=[sock])
    except (_Stop, KeyboardInterrupt):
        pass
    except OSError as exc:
        _err(f"ck serve stopped: {exc}")
        return 1
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)
        sock.close()
        try:
            close_kernels()
        except Exception as exc:  # noqa: BLE001 - the server stopped; say why closing failed
            sys.stderr.write(f"ck: warning: closing the index failed: {exc}\n")
    return 0
