"""The JSON API under ``/api/v1`` (see docs/hub.md). Routes are plain functions run on
the worker threads; each opens one short transaction."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from ..errors import InvalidInput, MetaError
from . import service
from .app import HubState
from .auth import user_for_token
from .schemas import OwnerIn, ScoreboardIn, Submission

def known_query(request: Request) -> None:
    """Refuse a query parameter the route does not take (``?tagg=x`` would otherwise be
    ignored and list everything), as ``access()`` refuses an unknown input."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    names: set[str] = set()
    stack = [dependant] if dependant is not None else []
    while stack:   # the route's own query parameters and those of its dependencies
        item = stack.pop()
        names.update(p.alias for p in item.query_params)
        stack.extend(item.dependencies)
    if dependant is None:
        return
    allowed = sorted(names)
    for key in request.query_params:
        if key not in allowed:
            raise InvalidInput(f"hub: {request.url.path} has no query parameter "
                               f"{key[:100]!r}; its parameters: {', '.join(allowed) or 'none'}")


router = APIRouter(prefix="/api/v1", dependencies=[Depends(known_query)])
#: the largest row id (64-bit integers in every database)
MAX_ID = (1 << 63) - 1

_ERR = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["return", "error"],
    "properties": {"return": {"type": "integer"}, "error": {"type": "string"}}}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body cannot be parsed (2)", **_ERR},
    401: {"description": "no or invalid token (13)", **_ERR},
    403: {"description": "not an owner / not an admin (7)", **_ERR},
    404: {"description": "not found (16)", **_ERR},
    409: {"description": "exists already; published versions are immutable (8)", **_ERR},
    413: {"description": "over the size limit (2)", **_ERR},
    422: {"description": "invalid input (2, 5, 6, 11)", **_ERR},
    503: {"description": "the database cannot be reached (1)", **_ERR},
}
Offset = Annotated[int, Query(ge=0, le=service.MAX_OFFSET)]
Auth = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]


def hub(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@router.get("/whoami", tags=["users"], responses=ERRORS)
def whoami(request: Request, authorization: Auth = None) -> dict[str, Any]:
    """The user of the bearer token."""
    with hub(request).db.read() as session:
        user = user_for_token(session, bearer(authorization))
        return {"user": user.name, "admin": user.admin}


@router.get("/components", tags=["components"], responses=ERRORS)
def components(request: Request, q: str = "", automation: str = "", tag: str = "",
               limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
               offset: Offset = 0) -> dict[str, Any]:
    """Search components by text (name, description, tags), automation or tag."""
    with hub(request).db.read() as session:
        return service.list_components(session, q, automation, tag, limit, offset)


@router.get("/components/{automation}/{name}", tags=["components"], responses=ERRORS)
def component(request: Request, automation: str, name: str) -> dict[str, Any]:
    """One component: owners, tags and its versions, newest first."""
    with hub(request).db.read() as session:
        return service.get_component(session, automation, name)


@router.post("/components/{automation}/{name}/versions", tags=["components"],
             status_code=201, responses=ERRORS)
def publish(request: Request, automation: str, name: str,
            version: Annotated[str, Form(description="PEP 440 version")],
            archive: Annotated[UploadFile, File(description=".tar.gz of the entry folder")],
            meta: Annotated[str, Form(description="JSON object: the entry's meta")] = "{}",
            deps: Annotated[str, Form(description='JSON list of {"component", "range"}')] = "[]",
            authorization: Auth = None) -> JSONResponse:
    """Publish a new version (owners only; the first publisher becomes the owner)."""
    state = hub(request)
    service.check_component_name(automation, name)
    with state.db.read() as session:   # refuse before the archive is looked at
        user = user_for_token(session, bearer(authorization))
        service.check_may_publish(session, user, automation, name)
    version = service.check_version(version)
    meta_obj = _json_field("meta", meta)
    if not isinstance(meta_obj, dict):
        raise MetaError("hub: meta must be a JSON object (the entry's meta)")
    dep_list = service.check_deps(_json_field("deps", deps))
    tmp, sha, size = state.blobs.spool(archive.file, state.max_upload)
    try:
        from .storage import check_archive

        check_archive(tmp, state.max_unpacked)
        with state.db.write() as session:
            user = user_for_token(session, bearer(authorization))
            out = service.publish(session, user, automation, name, version, meta_obj,
                                  dep_list, sha, size)
            state.blobs.store(tmp, sha)   # stored before the version is committed
    finally:
        state.blobs.discard(tmp)
    return JSONResponse(out, status_code=201)


def _json_field(field: str, text: str) -> Any:
    from .schemas import json_problem

    def no_constant(word: str) -> Any:
        raise ValueError(f"{word} is not a JSON number")

    try:
        value = json.loads(text, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"hub: the form field {field!r} is not valid JSON ({exc})") from None
    problem = json_problem(value, field)
    if problem:
        raise InvalidInput(f"hub: the form field {field!r} is refused: {problem}")
    return value


@router.post("/components/{automation}/{name}/owners", tags=["components"], responses=ERRORS)
def add_owner(request: Request, automation: str, name: str, body: OwnerIn,
              authorization: Auth = None) -> dict[str, Any]:
    """Make another user an owner (owners only)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return service.grant_owner(session, user, automation, name, body.user)


@router.get("/components/{automation}/{name}/versions/{version}/archive", tags=["components"],
            responses={200: {"content": {"application/gzip": {}},
                             "description": "the archive; header X-Checksum-Sha256"},
                       **ERRORS}, response_class=FileResponse)
def download(request: Request, automation: str, name: str, version: str) -> FileResponse:
    """The archive of one version, with its sha256 in ``X-Checksum-Sha256``."""
    state = hub(request)
    with state.db.read() as session:
        found = service.find_version(session, automation, name, version)
        sha, text = found.sha256, found.version
    return FileResponse(state.blobs.path(sha), media_type="application/gzip",
                        filename=f"{automation}-{name}-{text}.tar.gz",
                        headers={"X-Checksum-Sha256": sha})


@router.get("/scoreboards", tags=["scoreboards"], responses=ERRORS)
def scoreboards(request: Request) -> dict[str, Any]:
    """Every scoreboard with its metrics and number of results."""
    with hub(request).db.read() as session:
        return service.list_scoreboards(session)


@router.post("/scoreboards", tags=["scoreboards"], status_code=201, responses=ERRORS)
def create_scoreboard(request: Request, body: ScoreboardIn,
                      authorization: Auth = None) -> JSONResponse:
    """Define a new scoreboard (admins only)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return JSONResponse(service.create_scoreboard(session, user, body), status_code=201)


@router.get("/scoreboards/{name}", tags=["scoreboards"], responses=ERRORS)
def scoreboard(request: Request, name: str) -> dict[str, Any]:
    """A scoreboard's definition and number of results."""
    with hub(request).db.read() as session:
        return service.get_scoreboard(session, name)[1]


@router.post("/scoreboards/{name}/results", tags=["scoreboards"], status_code=201,
             responses={200: {"description": "the same result was posted before"}, **ERRORS})
def submit(request: Request, name: str, body: Submission,
           authorization: Auth = None) -> JSONResponse:
    """Submit one result; posting the same result again returns its id (200)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        rid, duplicate = service.submit_result(session, user, name, body)
    return JSONResponse({"id": rid, "duplicate": duplicate}, status_code=200 if duplicate else 201)


@router.get("/scoreboards/{name}/results", tags=["scoreboards"], responses=ERRORS)
def results(request: Request, name: str, sort: str = "",
            order: Annotated[str, Query(pattern="^(asc|desc)?$")] = "",
            platform: str = "", backend: str = "", version: str = "", reference: str = "",
            scenario: str = "",
            limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
            offset: Offset = 0) -> dict[str, Any]:
    """One page of results, sorted by a metric (default: the first, best first)."""
    filters = service.Filters(platform, backend, version, reference, scenario)
    with hub(request).db.read() as session:
        board, _ = service.get_scoreboard(session, name)
        return service.query_results(session, board, filters, sort, order, limit, offset)


@router.get("/scoreboards/{name}/pareto", tags=["scoreboards"], responses=ERRORS)
def pareto(request: Request, name: str, x: str, y: str, platform: str = "",
           backend: str = "", version: str = "", reference: str = "",
           scenario: str = "") -> dict[str, Any]:
    """The Pareto front of metrics x and y (ids) and a bounded set of points to plot."""
    filters = service.Filters(platform, backend, version, reference, scenario)
    with hub(request).db.read() as session:
        board, _ = service.get_scoreboard(session, name)
        return service.pareto(session, board, x, y, filters)


@router.get("/results/{result_id}", tags=["scoreboards"], responses=ERRORS)
def result(request: Request, result_id: Annotated[int, Path(ge=1, le=MAX_ID)]
           ) -> dict[str, Any]:
    """One result: the full submission, who submitted it and when."""
    with hub(request).db.read() as session:
        return service.get_result(session, result_id)
