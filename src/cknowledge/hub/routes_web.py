"""The web pages (server-rendered with Jinja2): search, components, scoreboards with
sortable, filterable, paginated tables and a Pareto plot, result provenance."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import __version__
from . import service
from .access import COOKIE, cookie_viewer
from .app import HERE, HubState

router = APIRouter(include_in_schema=False)
PAGE = 50
Offset = Annotated[int, Query(ge=0, le=service.MAX_OFFSET)]
_ENV: Any = None


def _env() -> Any:
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        _ENV = Environment(loader=FileSystemLoader(os.path.join(HERE, "templates")),
                           autoescape=select_autoescape(["html"]), auto_reload=False)
        _ENV.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True,
                                                             ensure_ascii=False, default=str)
        _ENV.filters["num"] = _num
    return _ENV


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            if abs(value) >= 1000:  # 11,313 rather than 1.131e+04
                return f"{value:,.0f}"
            return f"{value:.4g}"
        return f"{int(value):,}"
    return str(value)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("viewer", None)
    text = _env().get_template(template).render(request=request, version=__version__,
                                                **context)
    return HTMLResponse(text, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def _hub(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    with _hub(request).db.read() as session:
        viewer = cookie_viewer(session, request)
        recent = service.recent_components(session, 10, viewer)
        boards = service.list_scoreboards(session, viewer)["items"]
        from .papers import list_papers

        papers = list_papers(session, viewer, 10)["items"]
        who = _name(viewer)
    return render(request, "index.html", recent=recent, boards=boards, papers=papers,
                  viewer=who)


def _name(viewer: Any) -> str | None:
    return None if viewer is None else str(viewer.name)


@router.get("/components", response_class=HTMLResponse)
def components(request: Request, q: str = "", automation: str = "", tag: str = "",
               offset: Offset = 0) -> HTMLResponse:
    with _hub(request).db.read() as session:
        viewer = cookie_viewer(session, request)
        found = service.list_components(session, q, automation, tag, PAGE, offset, viewer)
    base = {k: v for k, v in (("q", q), ("automation", automation), ("tag", tag)) if v}
    return render(request, "components.html", q=q, found=found, offset=offset, page=PAGE,
                  prev_url=_url("/components", base, _back(offset, found["total"]))
                  if offset else None,
                  next_url=_url("/components", base, offset + PAGE)
                  if offset + PAGE < found["total"] else None)


def _back(offset: int, total: int) -> int:
    """The offset of the previous page; from beyond the end, the last page."""
    last = max((total - 1) // PAGE * PAGE, 0)
    return max(min(offset - PAGE, last), 0)


def _url(path: str, query: dict[str, Any], offset: int | None = None) -> str:
    q = dict(query)
    if offset:
        q["offset"] = max(offset, 0)
    return f"{path}?{urlencode(q)}" if q else path


@router.get("/components/{automation}/{name}", response_class=HTMLResponse)
def component(request: Request, automation: str, name: str) -> HTMLResponse:
    with _hub(request).db.read() as session:
        comp = service.get_component(session, automation, name,
                                     cookie_viewer(session, request))
    return render(request, "component.html", c=comp,
                  base_url=str(request.base_url).rstrip("/"))


@router.get("/scoreboards", response_class=HTMLResponse)
def scoreboards(request: Request) -> HTMLResponse:
    with _hub(request).db.read() as session:
        boards = service.list_scoreboards(session, cookie_viewer(session, request))["items"]
    return render(request, "scoreboards.html", boards=boards)


@router.get("/scoreboards/{name}", response_class=HTMLResponse)
def scoreboard(request: Request, name: str, sort: str = "",
               order: Annotated[str, Query(pattern="^(asc|desc)?$")] = "",
               platform: str = "", backend: str = "", version: str = "",
               reference: str = "", scenario: str = "", offset: Offset = 0,
               x: str = "", y: str = "") -> HTMLResponse:
    filters = service.Filters(platform, backend, version, reference, scenario)
    with _hub(request).db.read() as session:
        board, info = service.get_scoreboard(session, name, cookie_viewer(session, request))
        page = service.query_results(session, board, filters, sort, order, PAGE, offset)
        options = service.facets(session, board)
    metrics = info["metrics"]
    names = [m["name"] for m in metrics]
    x = x if x in names else names[0]
    y = y if y in names else (names[1] if len(names) > 1 else names[0])
    keep = filters.query()
    path = f"/scoreboards/{name}"
    sort_links = {}
    for m in metrics:
        best = "desc" if m["better"] == "higher" else "asc"
        flip = ("asc" if page["order"] == "desc" else "desc") if page["sort"] == m["name"] \
            else best
        sort_links[m["name"]] = _url(path, {**keep, "sort": m["name"], "order": flip})
    flip = ("asc" if page["order"] == "desc" else "desc") \
        if page["sort"] == "submitted_at" else "desc"
    sort_links["submitted_at"] = _url(path, {**keep, "sort": "submitted_at", "order": flip})
    here = {**keep, "sort": page["sort"], "order": page["order"]}
    pareto_query = urlencode({**keep, "x": x, "y": y})
    return render(request, "scoreboard.html", b=info, page=page, options=options,
                  filters=keep, sort_links=sort_links, offset=offset, size=PAGE, x=x, y=y,
                  pareto_url=f"/api/v1/scoreboards/{name}/pareto?{pareto_query}",
                  prev_url=_url(path, here, _back(offset, page["total"])) if offset else None,
                  next_url=_url(path, here, offset + PAGE)
                  if offset + PAGE < page["total"] else None)


@router.get("/results/{result_id}", response_class=HTMLResponse)
def result(request: Request, result_id: Annotated[int, Path(ge=1, le=(1 << 63) - 1)]
           ) -> HTMLResponse:
    with _hub(request).db.read() as session:
        found = service.get_result(session, result_id, cookie_viewer(session, request))
    return render(request, "result.html", r=found)


@router.get("/papers", response_class=HTMLResponse)
def papers(request: Request, offset: Offset = 0) -> HTMLResponse:
    from .papers import list_papers

    with _hub(request).db.read() as session:
        found = list_papers(session, cookie_viewer(session, request), PAGE, offset)
    return render(request, "papers.html", found=found, offset=offset,
                  prev_url=_url("/papers", {}, _back(offset, found["total"]))
                  if offset else None,
                  next_url=_url("/papers", {}, offset + PAGE)
                  if offset + PAGE < found["total"] else None)


@router.get("/papers/{name}", response_class=HTMLResponse)
def paper(request: Request, name: str, offset: Offset = 0) -> HTMLResponse:
    from .papers import paper_page

    with _hub(request).db.read() as session:
        p = paper_page(session, name, cookie_viewer(session, request), PAGE, offset)
    path = f"/papers/{name}"
    return render(request, "paper.html", p=p, offset=offset, size=PAGE,
                  prev_url=_url(path, {}, _back(offset, p["reproductions"]))
                  if offset else None,
                  next_url=_url(path, {}, offset + PAGE)
                  if offset + PAGE < p["reproductions"] else None)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", message="")


@router.post("/login", response_class=HTMLResponse, response_model=None)
def login(request: Request, token: Annotated[str, Form(max_length=200)]
          ) -> HTMLResponse | RedirectResponse:
    """Check the token and keep it in an HttpOnly cookie: pages then show what its user
    may read (private items of theirs or shared with them)."""
    from ..errors import AuthError
    from .auth import user_for_token

    with _hub(request).db.read() as session:
        try:
            user_for_token(session, token.strip())
        except AuthError:
            return render(request, "login.html", status=401,
                          message="this token is not valid on this hub")
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response
