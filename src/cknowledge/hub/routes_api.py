"""The JSON API under ``/api/v1`` (see docs/hub.md). Routes are plain functions run on
the worker threads; each opens one short transaction."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from ..errors import InvalidInput, MetaError
from . import service, sharing
from .app import HubState
from .access import viewer_for
from .auth import user_for_token
from .schemas import (OwnerIn, ReaderIn, ReproductionIn, ScoreboardIn, Submission,
                      VisibilityIn)

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


def _viewer(session: Any, request: Request, authorization: str | None) -> Any:
    """Who reads: the bearer token's user, else the web login's cookie (reads only; writes
    need the header), else None (the public)."""
    from .access import cookie_viewer

    token = bearer(authorization)
    return viewer_for(session, token) if token else cookie_viewer(session, request)


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
               offset: Offset = 0, authorization: Auth = None) -> dict[str, Any]:
    """Search components by text (name, description, tags), automation or tag (private
    ones only for their owners and readers)."""
    with hub(request).db.read() as session:
        viewer = _viewer(session, request, authorization)
        return service.list_components(session, q, automation, tag, limit, offset, viewer)


@router.get("/components/{automation}/{name}", tags=["components"], responses=ERRORS)
def component(request: Request, automation: str, name: str,
              authorization: Auth = None) -> dict[str, Any]:
    """One component: owners, tags and its versions, newest first."""
    with hub(request).db.read() as session:
        viewer = _viewer(session, request, authorization)
        return service.get_component(session, automation, name, viewer)


@router.post("/components/{automation}/{name}/versions", tags=["components"],
             status_code=201, responses=ERRORS)
def publish(request: Request, automation: str, name: str,
            version: Annotated[str, Form(description="PEP 440 version")],
            archive: Annotated[UploadFile, File(description=".tar.gz of the entry folder")],
            meta: Annotated[str, Form(description="JSON object: the entry's meta")] = "{}",
            deps: Annotated[str, Form(description='JSON list of {"component", "range"}')] = "[]",
            private: Annotated[bool, Form(description="a new component is private (owners "
                                                      "and readers only)")] = False,
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
                                  dep_list, sha, size, private)
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
def download(request: Request, automation: str, name: str, version: str,
             authorization: Auth = None) -> FileResponse:
    """The archive of one version, with its sha256 in ``X-Checksum-Sha256``."""
    state = hub(request)
    with state.db.read() as session:
        viewer = _viewer(session, request, authorization)
        found = service.find_version(session, automation, name, version, viewer)
        sha, text = found.sha256, found.version
    return FileResponse(state.blobs.path(sha), media_type="application/gzip",
                        filename=f"{automation}-{name}-{text}.tar.gz",
                        headers={"X-Checksum-Sha256": sha})


@router.get("/scoreboards", tags=["scoreboards"], responses=ERRORS)
def scoreboards(request: Request, authorization: Auth = None) -> dict[str, Any]:
    """Every scoreboard the caller may see, with its metrics and number of results."""
    with hub(request).db.read() as session:
        return service.list_scoreboards(session, _viewer(session, request, authorization))


@router.post("/scoreboards", tags=["scoreboards"], status_code=201, responses=ERRORS)
def create_scoreboard(request: Request, body: ScoreboardIn,
                      authorization: Auth = None) -> JSONResponse:
    """Define a new scoreboard (admins only)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return JSONResponse(service.create_scoreboard(session, user, body), status_code=201)


@router.get("/scoreboards/{name}", tags=["scoreboards"], responses=ERRORS)
def scoreboard(request: Request, name: str, authorization: Auth = None) -> dict[str, Any]:
    """A scoreboard's definition and number of results."""
    with hub(request).db.read() as session:
        return service.get_scoreboard(session, name,
                                      _viewer(session, request, authorization))[1]


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
            offset: Offset = 0, authorization: Auth = None) -> dict[str, Any]:
    """One page of results, sorted by a metric (default: the first, best first)."""
    filters = service.Filters(platform, backend, version, reference, scenario)
    with hub(request).db.read() as session:
        viewer = _viewer(session, request, authorization)
        board, _ = service.get_scoreboard(session, name, viewer)
        return service.query_results(session, board, filters, sort, order, limit, offset)


@router.get("/scoreboards/{name}/pareto", tags=["scoreboards"], responses=ERRORS)
def pareto(request: Request, name: str, x: str, y: str, platform: str = "",
           backend: str = "", version: str = "", reference: str = "",
           scenario: str = "", authorization: Auth = None) -> dict[str, Any]:
    """The Pareto front of metrics x and y (ids) and a bounded set of points to plot."""
    filters = service.Filters(platform, backend, version, reference, scenario)
    with hub(request).db.read() as session:
        viewer = _viewer(session, request, authorization)
        board, _ = service.get_scoreboard(session, name, viewer)
        return service.pareto(session, board, x, y, filters)


@router.get("/results/{result_id}", tags=["scoreboards"], responses=ERRORS)
def result(request: Request, result_id: Annotated[int, Path(ge=1, le=MAX_ID)],
           authorization: Auth = None) -> dict[str, Any]:
    """One result: the full submission, who submitted it and when."""
    with hub(request).db.read() as session:
        return service.get_result(session, result_id,
                                  _viewer(session, request, authorization))


# -- visibility -----------------------------------------------------------------------------

@router.post("/components/{automation}/{name}/visibility", tags=["components"],
             responses=ERRORS)
def component_visibility(request: Request, automation: str, name: str, body: VisibilityIn,
                         authorization: Auth = None) -> dict[str, Any]:
    """Make a component private or public (owners only)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return sharing.set_component_private(session, user, automation, name, body.private)


@router.post("/components/{automation}/{name}/readers", tags=["components"], responses=ERRORS)
def component_reader(request: Request, automation: str, name: str, body: ReaderIn,
                     authorization: Auth = None) -> dict[str, Any]:
    """Invite a user to read a private component (owners only)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return sharing.add_component_reader(session, user, automation, name, body.user)


@router.post("/scoreboards/{name}/visibility", tags=["scoreboards"], responses=ERRORS)
def scoreboard_visibility(request: Request, name: str, body: VisibilityIn,
                          authorization: Auth = None) -> dict[str, Any]:
    """Make a scoreboard private or public (its creator or an admin)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return sharing.set_board_private(session, user, name, body.private)


@router.post("/scoreboards/{name}/readers", tags=["scoreboards"], responses=ERRORS)
def scoreboard_reader(request: Request, name: str, body: ReaderIn,
                      authorization: Auth = None) -> dict[str, Any]:
    """Invite a user to read a private scoreboard (its creator or an admin)."""
    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        return sharing.add_board_reader(session, user, name, body.user)


# -- papers ---------------------------------------------------------------------------------

@router.get("/papers", tags=["papers"], responses=ERRORS)
def papers(request: Request, limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
           offset: Offset = 0, authorization: Auth = None) -> dict[str, Any]:
    """The papers (``paper`` components) the caller may see, with reproduction counts."""
    from . import papers as svc

    with hub(request).db.read() as session:
        return svc.list_papers(session, _viewer(session, request, authorization), limit,
                               offset)


@router.get("/papers/{name}", tags=["papers"], responses=ERRORS)
def paper(request: Request, name: str,
          limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
          offset: Offset = 0, authorization: Auth = None) -> dict[str, Any]:
    """A paper: claims with verdict counts, artifacts, badges, a page of reproductions."""
    from . import papers as svc

    with hub(request).db.read() as session:
        return svc.paper_page(session, name, _viewer(session, request, authorization),
                              limit, offset)


@router.get("/papers/{name}/reproductions", tags=["papers"], responses=ERRORS)
def reproductions(request: Request, name: str,
                  limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 50,
                  offset: Offset = 0, authorization: Auth = None) -> dict[str, Any]:
    """One page of a paper's reproductions, newest first."""
    from . import papers as svc

    with hub(request).db.read() as session:
        return svc.list_reproductions(session, name,
                                      _viewer(session, request, authorization), limit,
                                      offset)


@router.post("/papers/{name}/reproductions", tags=["papers"], status_code=201,
             responses={200: {"description": "the same reproduction was posted before"},
                        **ERRORS})
def submit_reproduction(request: Request, name: str, body: ReproductionIn,
                        authorization: Auth = None) -> JSONResponse:
    """Submit one reproduction of ``paper:NAME`` (``ck reproduce paper:NAME --submit``)."""
    from . import papers as svc

    with hub(request).db.write() as session:
        user = user_for_token(session, bearer(authorization))
        rid, duplicate = svc.submit_reproduction(session, user, name, body)
    return JSONResponse({"id": rid, "duplicate": duplicate},
                        status_code=200 if duplicate else 201)
