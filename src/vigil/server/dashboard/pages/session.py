"""Sign in, sign out, the static files and the redirect from `/` to the overview."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.errors import NotFoundError
from vigil.server.dashboard.auth import (
    COOKIE,
    LOGIN_COOKIE,
    csrf_matches,
    new_login_secret,
    sign_in,
    sign_out,
)
from vigil.server.dashboard.web import (
    ForbiddenError,
    FormDep,
    StoreWeb,
    TemplatesDep,
    read_form,
    redirect,
)
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)

STATIC_TYPES = {
    "vigil.css": "text/css; charset=utf-8",
    "vigil.js": "text/javascript; charset=utf-8",
}


def _safe_next(value: str) -> str:
    """Only paths of this dashboard (never another site) are followed after signing in."""
    if value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/")
def root() -> RedirectResponse:
    return redirect("/ui/")


@router.get("/ui")
def ui_root() -> RedirectResponse:
    return redirect("/ui/")


@router.get("/ui/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_TYPES:
        raise NotFoundError(f"no static file {name!r}")
    body = resources.files("vigil.server.dashboard").joinpath("static", name).read_bytes()
    return Response(
        body,
        media_type=STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def _login_page(
    request: Request, templates: TemplatesDep, next_path: str, error: str = "", status: int = 200
) -> HTMLResponse:
    secret = new_login_secret()
    response = templates.page(
        request,
        "login.html",
        {"title": "Sign in", "next": _safe_next(next_path), "login_csrf": secret, "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        secret,
        max_age=3600,
        path="/ui/login",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/ui/login")
def login_form(request: Request, templates: TemplatesDep, next: str = "/ui/") -> HTMLResponse:
    return _login_page(request, templates, next)


@router.post("/ui/login")
async def login(request: Request, store: StoreWeb, templates: TemplatesDep) -> Response:
    values = await read_form(request)
    form = {k: v[0] for k, v in values.items() if v}
    if not csrf_matches(request.cookies.get(LOGIN_COOKIE) or "", form.get("csrf")):
        raise ForbiddenError(
            "the sign-in form expired or was not sent by this dashboard; reload it and try again"
        )
    next_path = _safe_next(form.get("next", "/ui/"))
    cookie = await run_in_threadpool(_sign_in, store, form.get("token", ""))
    if cookie is None:
        return _login_page(
            request, templates, next_path, "That token is unknown or revoked.", status=401
        )
    response = redirect(next_path)
    response.set_cookie(
        COOKIE, cookie, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")
    return response


def _sign_in(store: Store, secret: str) -> str | None:
    with store.session() as session:
        return sign_in(session, secret)


def _sign_out(store: Store, cookie: str | None) -> None:
    with store.session() as session:
        sign_out(session, cookie)


@router.post("/ui/logout")
async def logout(request: Request, form: FormDep, store: StoreWeb) -> Response:
    await run_in_threadpool(_sign_out, store, request.cookies.get(COOKIE))
    response = redirect("/ui/login")
    response.delete_cookie(COOKIE, path="/")
    return response
