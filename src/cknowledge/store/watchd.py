"""The index watcher service: keeps the index fresh for short-lived ``ck`` processes.

A ``ck find`` in a fresh process would have to stat every meta file in scope to be
sure the index is fresh (see ``index.py``). On Linux, once a scan has covered at least
``CK_WATCHD_MIN`` entries (default 2000), the CLI starts this small service in the
background. It holds inotify watches (``watch.py``) on the repos and answers one kind
of request on a per-home abstract UNIX socket: "bring the index up to date for these
repos and this automation". It applies the changes the kernel reported since the last
request, commits them, and replies; the client then queries SQLite itself.

It is only an accelerator: when it is absent, busy, or not ours (the peer's UID is
checked), the client scans by itself. It exits after ``CK_WATCHD_IDLE`` seconds
(default 900) without requests, or when its home folder disappears.

    python -m cknowledge.store.watchd HOME          # run in the foreground
    python -m cknowledge.store.watchd HOME --stop   # ask a running one to exit
"""

from __future__ import annotations

import os
import sys

try:  # the C module: the client side runs in every `ck find`, and socket.py costs start-up time
    import _socket as socket
except ImportError:  # pragma: no cover
    import socket  # type: ignore[no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MIN_ENTRIES = int(os.environ.get("CK_WATCHD_MIN", "2000"))
IDLE_S = float(os.environ.get("CK_WATCHD_IDLE", "900"))
REPLY_TIMEOUT_S = 60.0


def address(home: str) -> str:
    """A per-user, per-home abstract socket name (the service checks the home it is sent)."""
    import zlib

    real = os.path.realpath(home).encode()
    return f"\0cknowledge-watchd-{os.getuid()}-{zlib.crc32(real):08x}-{len(real)}"


def supported() -> bool:
    return sys.platform.startswith("linux") and os.environ.get("CK_WATCH", "1") != "0"


def _peer_is_us(sock: Any) -> bool:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)  # struct ucred: 3 ints
    uid = int.from_bytes(creds[4:8], sys.byteorder)
    return bool(uid == os.getuid())


def _send(sock: Any, obj: Any) -> None:
    import json

    sock.sendall(json.dumps(obj).encode() + b"\n")


def _recv(sock: Any) -> Any:
    import json

    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the watcher closed the connection")
        data += chunk
    return json.loads(data)


def request_sync(home: str, repos: list[tuple[str, str, str]], automation: str | None
                 ) -> list[str] | None:
    """Ask the service to sync; its warnings on success, None when it cannot help."""
    if not supported():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(REPLY_TIMEOUT_S)
        sock.connect(address(home))
        if not _peer_is_us(sock):
            return None
        _send(sock, {"op": "sync", "home": os.path.realpath(home), "repos": repos,
                     "automation": automation})
        reply = _recv(sock)
        return list(reply["warnings"]) if reply.get("ok") else None
    except (OSError, ValueError, KeyError):
        return None
    finally:
        sock.close()


def start(home: str) -> None:
    """Start the service for ``home`` in the background (it exits at once if one runs)."""
    import subprocess

    log = os.path.join(home, "index", "watchd.log")
    with open(log, "ab") as out:
        subprocess.Popen([sys.executable, "-m", "cknowledge.store.watchd", home],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                         start_new_session=True, close_fds=True)


def stats(home: str) -> dict[str, Any] | None:
    """How many sync requests the running service has answered (None: no service)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(5)
        sock.connect(address(home))
        _send(sock, {"op": "stats"})
        reply = _recv(sock)
        return reply if isinstance(reply, dict) and reply.get("ok") else None
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def stop(home: str) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(5)
        sock.connect(address(home))
        _send(sock, {"op": "stop"})
        return bool(_recv(sock).get("ok"))
    except (OSError, ValueError):
        return False
    finally:
        sock.close()


def serve(home: str) -> int:
    import socket as pysocket

    from .repos import Repo
    from .store import Store

    server = pysocket.socket(pysocket.AF_UNIX, pysocket.SOCK_STREAM)
    try:
        server.bind(address(home))
    except OSError:
        return 0  # another service has this home already
    server.listen(16)
    tick = min(IDLE_S, 30.0)
    server.settimeout(tick)
    store = Store(home, watch_from=1)
    idle = 0.0
    served = 0
    try:
        while os.path.isdir(home) and idle < IDLE_S:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                idle += tick
                continue
            idle = 0.0
            with conn:
                conn.settimeout(10)
                try:
                    if not _peer_is_us(conn):
                        continue
                    req = _recv(conn)
                    if req.get("op") == "stop":
                        _send(conn, {"ok": True})
                        return 0
                    if req.get("op") == "stats":
                        _send(conn, {"ok": True, "syncs": served})
                        continue
                    if req.get("home") != os.path.realpath(home):
                        _send(conn, {"ok": False, "error": "another home"})
                        continue
                    repos = [Repo(n, p, uid=u) for n, p, u in req["repos"]]
                    store.sync(repos, req.get("automation"))
                    served += 1
                    _send(conn, {"ok": True, "warnings": store.warnings})
                except Exception as exc:  # a bad request must not end the service
                    try:
                        _send(conn, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
                    except OSError:
                        pass
    finally:
        store.close()
        server.close()
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a process by start()
    args = sys.argv[1:]
    if not args:
        sys.stderr.write("usage: python -m cknowledge.store.watchd HOME [--stop]\n")
        sys.exit(2)
    if "--stop" in args:
        sys.exit(0 if stop(args[0]) else 1)
    sys.exit(serve(args[0]))
