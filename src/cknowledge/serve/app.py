"""The FastAPI application: ``POST /api/v1/access`` plus readable resource routes.

Every answer has the shape of ``cknowledge.access()`` (``return``, ``error`` ...);
the HTTP status mirrors the ``return`` code (see ``policy.STATUS_BY_CODE``). Actions
marked ``writes=True`` need ``Authorization: Bearer TOKEN``.

The kernel is not thread-safe and its SQLite index may only be used by the thread
that opened it, so every call that touches a kernel runs on one dedicated thread
(``KERNEL_THREAD``), under the kernel lock; ``close_kernels()`` closes them there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__, api
from ..home import home_dir
from .policy import action_writes, auth_error, guarded_input, http_status, token_matches

#: One lock for the whole process: ``access()`` takes the same (reentrant) one, so the
#: token check and the call it guards cannot be split by another request.
KERNEL_LOCK: Any = api.lock
#: The one thread that runs kernel code for the REST layer.
KERNEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ck-kernel")
T = TypeVar("T")
#: the largest request body ``POST /api/v1/access`` reads (413 above it)
MAX_BODY = 4 * 1024 * 1024


async def in_kernel_thread(func: Callable[..., T], *args: Any) -> T:
    """Run ``func(*args)`` on the kernel thread without blocking the event loop."""
    return await asyncio.wrap_future(KERNEL_THREAD.submit(func, *args))


def close_kernels() -> None:
    """Close the cached kernels on the thread that opened them (``api.reset()``)."""
    KERNEL_THREAD.submit(api.reset).result()


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    """On shutdown, close the kernels on their own thread (not at interpreter exit)."""
    yield
    await in_kernel_thread(api.reset)


_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"type": "string", "example": "find"},
        "automation": {"type": "string", "example": "dataset"},
        "artifact": {"type": "string", "description": "[REPO:]NAME, a UID or a pattern"},
        "tags": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    },
    "additionalProperties": True,
    "description": "The request of cknowledge.access(): further keys are the action's inputs.",
}
_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["return"],
    "properties": {"return": {"type": "integer"}, "error": {"type": "string"}},
    "additionalProperties": True,
}
_RESULT = {"content": {"application/json": {"schema": _RESULT_SCHEMA}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, **_RESULT} for status, text in (
        (400, "invalid request (codes 2-5, 9-12)"), (401, "a write without a valid token (13)"),
        (403, "read-only repo (7)"), (404, "not found (16)"), (409, "exists already (8)"),
        (413, "the body is over the size limit (2)"),
        (415, "the body is not JSON (2)"),
        (422, "broken meta (6)"), (423, "locked (32)"), (500, "internal error (1)"))
}


class CKJSONResponse(JSONResponse):
    """JSON like ``ck --json``: values JSON cannot hold are written as strings."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=str, ensure_ascii=False).encode("utf-8")


def _answer(result: dict[str, Any], status: int | None = None) -> CKJSONResponse:
    status = http_status(result) if status is None else status
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return CKJSONResponse(result, status_code=status, headers=headers)


def _json_media(content_type: str | None) -> bool:
    """Whether a Content-Type header names JSON (``application/json``, ``...+json``)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


def _query_problem(request: Request, allowed: tuple[str, ...]) -> dict[str, Any] | None:
    """The 400 body for a query key the route does not know or a key given twice (which
    FastAPI would ignore or silently reduce to one value), or None."""
    keys = [k for k, _ in request.query_params.multi_items()]
    for key in keys:
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            return {"return": 2, "error": f"{request.url.path} has no query parameter "
                                          f"{key[:100]!r}; its parameters: {known}"}
        if keys.count(key) > 1:
            return {"return": 2, "error": f"the query parameter {key!r} is given more than "
                                          "once; give it once"}
    return None


def create_app(home: str | None = None, token: str | None = None,
               max_body: int = MAX_BODY) -> FastAPI:
    """The REST application for the CK home ``home`` (default: ``$CK_HOME``).

    ``token`` is the bearer token that writes need; without one (``None`` or ``""``)
    the server answers every write with 401 and serves reads only. Reads that name a
    program, a URL or a path outside the home need it too (``policy.guarded_input``).
    ``max_body`` bounds the JSON body of ``POST /api/v1/access`` (413 above it).
    """
    home_path = home_dir(home)
    expected = token or None
    bearer = HTTPBearer(auto_error=False, description="the token that 'ck serve' prints")
    app = FastAPI(title="cknowledge", version=__version__, lifespan=_lifespan,
                  description="The cknowledge unified interface over HTTP: POST the request "
                              "dict of cknowledge.access() to /api/v1/access and get its "
                              "result back. Actions that write need a bearer token.")
    app.state.home = home_path

    def run(request: dict[str, Any], given: str | None = None) -> CKJSONResponse:
        """Check the token if the action writes or an input names a program, a URL or a
        path outside the home; then call ``access()`` (under the lock)."""
        if "home" in request:
            return _answer({"return": 2, "error": "the REST API serves one CK home; "
                                                  "a request may not name 'home'"})
        with KERNEL_LOCK:
            writes = action_writes(request, home_path)
            reason = None if writes else guarded_input(request, home_path)
            if (writes or reason) and not token_matches(given, expected):
                return _answer(auth_error(expected, given, reason), 401)
            result = api.access(request, home=home_path)
        return _answer(result)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> CKJSONResponse:
        code = 16 if exc.status_code == 404 else (1 if exc.status_code >= 500 else 2)
        return _answer({"return": code, "error": str(exc.detail)}, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> CKJSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                             for e in exc.errors())
        return _answer({"return": 2, "error": f"invalid request: {problems}"}, 400)

    @app.get("/health", tags=["server"], summary="Liveness check")
    def health() -> dict[str, Any]:
        """Answers ``{"return": 0, "status": "ok"}`` while the server runs."""
        return {"return": 0, "status": "ok", "version": __version__}

    @app.post("/api/v1/access", tags=["access"], summary="Run one cknowledge.access() request",
              response_class=CKJSONResponse, responses={200: _RESULT, **_ERRORS},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": _REQUEST_SCHEMA}}}})
    async def access_route(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> CKJSONResponse:
        """The body is the request dict of ``cknowledge.access()``; the answer is its result.

        Checked before the body is read: the query (none), the Content-Type (JSON, else
        415), a bearer token that is given (it must be valid, else 401) and the declared
        length (at most ``max_body``, else 413); the body is then read up to that limit."""
        given = credentials.credentials if credentials else None
        problem = _query_problem(request, ())
        if problem:
            return _answer(problem, 400)
        if not _json_media(request.headers.get("content-type")):
            return _answer({"return": 2, "error": "send the request as JSON (Content-Type: "
                                                  "application/json)"}, 415)
        if (given is not None or request.headers.get("authorization")) and \
                not token_matches(given, expected):
            return _answer(auth_error(expected, given or "?"), 401)
        too_large = {"return": 2, "error": f"the request body is over this server's limit "
                                           f"of {max_body} bytes"}
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body:
            return _answer(too_large, 413)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                return _answer(too_large, 413)
            chunks.append(chunk)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return _answer({"return": 2, "error": f"the body is not valid JSON: {exc}"}, 400)
        if not isinstance(body, dict):
            return _answer({"return": 2, "error": "the body must be a JSON object (the "
                                                  f"request dict), not {type(body).__name__}"}, 400)
        return await in_kernel_thread(run, body, given)

    @app.get("/api/v1/automations", tags=["resources"], summary="List the automations",
             response_class=CKJSONResponse, responses={200: _RESULT, **_ERRORS})
    async def automations(request: Request) -> CKJSONResponse:
        """The result of ``ck help``: every automation with its summary."""
        problem = _query_problem(request, ())
        if problem:
            return _answer(problem, 400)
        return await in_kernel_thread(run, {"action": "help", "automation": "kernel"})

    @app.get("/api/v1/{automation}", tags=["resources"], summary="Find entries",
             response_class=CKJSONResponse, responses={200: _RESULT, **_ERRORS})
    async def find(http: Request, automation: str,
             tags: str | None = Query(None, description="a,b,-c: all of a and b, not c"),
             artifact: str | None = Query(None, description="name pattern ([REPO:]NAME, * ?)"),
             repo: str | None = Query(None, description="only this repo"),
             no_tags: str | None = Query(None, description="exclude entries with these tags"),
             with_meta: bool = Query(False, description="include each entry's meta"),
             credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
             ) -> CKJSONResponse:
        """``ck find AUTOMATION``: the entries that match, under ``list``."""
        problem = _query_problem(http, ("tags", "artifact", "repo", "no_tags", "with_meta"))
        if problem:
            return _answer(problem, 400)
        request: dict[str, Any] = {"action": "find", "automation": automation}
        for key, value in (("tags", tags), ("artifact", artifact), ("repo", repo),
                           ("no_tags", no_tags)):
            if value is not None:
                request[key] = value
        if with_meta:
            request["with_meta"] = True
        return await in_kernel_thread(run, request,
                                      credentials.credentials if credentials else None)

    @app.get("/api/v1/{automation}/{artifact}", tags=["resources"], summary="Load one entry",
             response_class=CKJSONResponse, responses={200: _RESULT, **_ERRORS})
    async def load(http: Request, automation: str, artifact: str,
             repo: str | None = Query(None, description="only this repo"),
             credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
             ) -> CKJSONResponse:
        """``ck load AUTOMATION:ARTIFACT``: one entry with its meta."""
        problem = _query_problem(http, ("repo",))
        if problem:
            return _answer(problem, 400)
        request: dict[str, Any] = {"action": "load", "automation": automation,
                                   "artifact": artifact}
        if repo is not None:
            request["repo"] = repo
        return await in_kernel_thread(run, request,
                                      credentials.credentials if credentials else None)

    return app
