"""``ck hub serve``: run the hub with uvicorn and print its address."""

from __future__ import annotations

import sys


def serve(db_url: str, root: str, host: str = "127.0.0.1", port: int = 8787,
          max_upload: int | None = None) -> None:
    """Migrate the database, then serve the hub on ``host:port`` until interrupted."""
    import uvicorn

    from .app import MiB, create_app

    app = create_app(db_url, root, max_upload=max_upload or 64 * MiB)
    shown = f"[{host}]" if ":" in host else host
    print(f"ck hub: serving {app.state.hub.db.dialect} hub on http://{shown}:{port}/ "
          f"(archives under {root}); Ctrl-C stops it", flush=True)
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
