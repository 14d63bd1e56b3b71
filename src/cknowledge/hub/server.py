"""``ck hub serve``: run the hub with uvicorn and print its address."""

from __future__ import annotations

import socket
import sys


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; InvalidInput (one line naming the address and
    what to do) when the address is taken or cannot be used."""
    from ..errors import InvalidInput

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise InvalidInput(f"hub: cannot serve on host {host!r}: {exc}; pass --host=127.0.0.1 "
                           "or another address of this machine") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise InvalidInput(f"hub: cannot serve on {host}:{port}: {reason}; pick another "
                           "--port (or stop what is using it)") from None
    sock.set_inheritable(True)
    return sock


def serve(db_url: str, root: str, host: str = "127.0.0.1", port: int = 8787,
          max_upload: int | None = None, references: bool = True) -> None:
    """Migrate the database, then serve the hub on ``host:port`` until interrupted.

    The address is bound first, so a taken port is one error line and nothing else.
    ``references``: post the reference rows of the shipped solutions (:mod:`.references`)."""
    import uvicorn

    from .app import MiB, create_app

    sock = bind(host, port)
    try:
        app = create_app(db_url, root, max_upload=max_upload or 64 * MiB)
        port = sock.getsockname()[1]
        if references:
            from ..home import builtin_repo_dir
            from .references import seed

            seeded = seed(app.state.hub.db, builtin_repo_dir())
            if seeded["added"]:
                print(f"ck hub: {seeded['added']} reference row(s) of the shipped solutions "
                      "added to their scoreboards", flush=True)
        shown = f"[{host}]" if ":" in host else host
        print(f"ck hub: serving {app.state.hub.db.dialect} hub on http://{shown}:{port}/ "
              f"(archives under {root}); Ctrl-C stops it", flush=True)
        sys.stdout.flush()
        config = uvicorn.Config(app, log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
