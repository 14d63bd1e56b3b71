"""The hub application: ``create_app(db_url, root)`` builds the FastAPI app, runs the
migrations, prepares the static files and mounts the JSON API (``/api/v1``) and the web
pages."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..client.http import NO_ENDPOINT
from ..errors import CKError, InvalidInput
from .db import Database
from .problems import body_of, status_of
from .storage import BlobStore

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1024 * 1024


class HubState:
    """What every route needs: the database, the archive store and the limits."""

    def __init__(self, db: Database, blobs: BlobStore, max_upload: int,
                 max_unpacked: int) -> None:
        self.db = db
        self.blobs = blobs
        self.max_upload = max_upload
        self.max_unpacked = max_unpacked


def prepare_static(root: str) -> str:
    """Copy the package's static files and plotly.js (from the installed ``plotly``
    package) into ``ROOT/static``; return that folder."""
    target = os.path.join(root, "static")
    os.makedirs(target, exist_ok=True)
    sources = [os.path.join(HERE, "static", f) for f in os.listdir(os.path.join(HERE, "static"))]
    import importlib.util

    spec = importlib.util.find_spec("plotly")   # found, not imported
    if spec is not None and spec.submodule_search_locations:
        sources.append(os.path.join(list(spec.submodule_search_locations)[0], "package_data",
                                    "plotly.min.js"))
    # without plotly the pages still work; the plot says what is missing
    for src in sources:
        if not os.path.isfile(src):
            continue
        dst = os.path.join(target, os.path.basename(src))
        st = os.stat(src)
        if not os.path.exists(dst) or os.path.getsize(dst) != st.st_size or \
                os.path.getmtime(dst) < st.st_mtime:
            tmp = dst + ".tmp-" + str(os.getpid())
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
    return target


def error_response(exc: CKError, request: Request) -> Response:
    status = status_of(exc)
    if not request.url.path.startswith("/api/"):
        from .routes_web import error_page

        return error_page(request, status, exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body_of(exc), status_code=status, headers=headers)


class BodyLimit:
    """ASGI middleware: count request body bytes as they arrive and answer 413 past the
    limit (uploads: ``max_upload`` plus room for the form fields; JSON: ``json_limit``).
    A write to the API (every POST under ``/api/``) without any Authorization header is
    refused before its body is read, a URL with a NUL character (``%00``) before it
    reaches a route."""

    def __init__(self, app: Any, max_upload: int, json_limit: int = 4 * MiB) -> None:
        self.app = app
        self.upload_limit = max_upload + MiB
        self.json_limit = json_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            await _send_json(send, 422, {
                "return": 2, "error": "hub: the URL holds a NUL character (%00); remove it"})
            return
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        multipart = headers.get("content-type", "").startswith("multipart/")
        limit = self.upload_limit if multipart else self.json_limit
        if scope["method"] == "POST" and scope.get("path", "").startswith("/api/") and \
                not headers.get("authorization"):
            await _send_json(send, 401, {
                "return": 13, "error": "hub: this request writes: send 'Authorization: "
                                       "Bearer TOKEN' (an admin creates tokens with "
                                       "'ck hub user add NAME')"})
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, _too_large(limit))
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:   # FastAPI passes HTTPException through its body parsing
                    from fastapi import HTTPException

                    raise HTTPException(413, _too_large(limit)["error"])
            return message

        await self.app(scope, counted, send)


def _wrong_media(request: Request) -> Response | None:
    """The 415 answer for a write to the API whose body is not of the route's type (JSON;
    multipart for a publish), else None. FastAPI reads such a body as no body at all."""
    if request.method != "POST" or not request.url.path.startswith("/api/"):
        return None
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if request.url.path.endswith("/versions"):
        wants, ok = "multipart/form-data", media == "multipart/form-data"
    else:
        wants = "application/json"
        ok = media == wants or (media.startswith("application/") and media.endswith("+json"))
    if ok:
        return None
    return JSONResponse({"return": 2, "error": f"hub: send the body as {wants} "
                                               f"(Content-Type: {media or 'none'})"},
                        status_code=415)


def _has_nul(scope: Any) -> bool:
    """Whether the path or query holds a NUL character (no database stores one in text)."""
    raw = (scope.get("raw_path") or scope.get("path", "").encode("utf-8", "replace")) + \
        b"?" + (scope.get("query_string") or b"")
    return b"%00" in raw or b"\x00" in raw


def _too_large(limit: int) -> dict[str, Any]:
    return {"return": 2, "error": f"hub: the request body is over this hub's limit of "
                                  f"{limit} bytes; send less"}


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    import json

    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def create_app(db_url: str, root: str, *, max_upload: int = 64 * MiB,
               max_unpacked: int | None = None) -> FastAPI:
    """The hub for database ``db_url`` with archives and static files under ``root``.

    ``max_upload`` bounds one uploaded archive (413 above it); ``max_unpacked`` bounds
    the total size of its members (default: 16 times ``max_upload``, at least 1 GiB)."""
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    db = Database(db_url)
    db.migrate()
    blobs = BlobStore(root)
    blobs.clear_tmp()
    static = prepare_static(root)
    state = HubState(db, blobs, max_upload, max_unpacked or max(16 * max_upload, 1024 * MiB))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        db.dispose()

    app = FastAPI(title="cknowledge hub", version=__version__, lifespan=lifespan,
                  description="The versioned component registry and live scoreboards of "
                              "cknowledge. Writes need 'Authorization: Bearer TOKEN' "
                              "(tokens come from 'ck hub user add NAME'). Errors are "
                              '{"return": code, "error": "one line"}.')
    app.state.hub = state
    app.add_middleware(BodyLimit, max_upload=max_upload)

    @app.exception_handler(CKError)
    async def ck_error(request: Request, exc: CKError) -> Response:
        return error_response(exc, request)

    @app.exception_handler(DataError)
    async def bad_value(request: Request, exc: Exception) -> Response:
        orig = getattr(exc, "orig", None) or exc
        reason = " ".join(str(orig).split()).split(" [SQL")[0][:300]
        return error_response(InvalidInput(f"hub: the database refused a value of this "
                                           f"request ({reason}); change it"), request)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def db_down(request: Request, exc: Exception) -> Response:
        return error_response(db.unavailable(exc), request)

    async def refused_token(request: Request) -> Response | None:
        """The 401 answer when a write to the API carries a token that is not valid,
        else None: a write is authenticated before its body's problems are told."""
        if request.method != "POST" or not request.url.path.startswith("/api/"):
            return None
        from starlette.concurrency import run_in_threadpool

        from .auth import user_for_token
        from .routes_api import bearer

        def check() -> None:
            with db.read() as session:
                user_for_token(session, bearer(request.headers.get("authorization")))

        try:
            await run_in_threadpool(check)
        except CKError as exc:
            return error_response(exc, request)
        return None

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = 16 if exc.status_code == 404 else (1 if exc.status_code >= 500 else 2)
        detail = str(exc.detail)
        if exc.status_code in (400, 422):
            refused = await refused_token(request)
            if refused is not None:
                return refused
        if detail == "There was an error parsing the body":   # FastAPI's words
            detail = "the request body cannot be parsed (not valid JSON, or nested too " \
                     "deeply); send one JSON object"
        message = f"hub: {NO_ENDPOINT} (see /openapi.json)" \
            if exc.status_code == 404 else detail if detail.startswith("hub:") \
            else f"hub: {detail}"
        if not request.url.path.startswith("/api/"):
            from .routes_web import error_page

            return error_page(request, exc.status_code, message)
        return JSONResponse({"return": code, "error": message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        def one(e: Any) -> str:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            msg = str(e.get("msg")).removeprefix("Value error, ")
            return f"{where}: {msg}" if where else msg

        refused = await refused_token(request)
        if refused is not None:
            return refused
        wrong_type = _wrong_media(request)
        if wrong_type is not None:
            return wrong_type
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):   # docs/hub.md: 400
            where: dict[str, Any] = next(e for e in errors if e.get("type") == "json_invalid")
            reason = (where.get("ctx") or {}).get("error", "")
            return JSONResponse({"return": 2, "error": "hub: the request body is not valid "
                                                       f"JSON{f' ({reason})' if reason else ''}"
                                                       "; send one JSON object"},
                                status_code=400)
        problems = "; ".join(one(e) for e in errors)
        body: dict[str, Any] = {"return": 2, "error": f"hub: invalid request: {problems}"}
        if not request.url.path.startswith("/api/"):
            from .routes_web import error_page

            return error_page(request, 422, body["error"])
        return JSONResponse(body, status_code=422)

    @app.get("/health", tags=["server"], summary="Liveness check")
    def health() -> dict[str, Any]:
        return {"return": 0, "status": "ok", "version": __version__}

    from .routes_api import router as api_router
    from .routes_web import router as web_router

    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app


def html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)
