"""The dashboard's web plumbing: templates, the signed-in viewer, CSRF-checked forms, and the
headers every page carries (a strict Content-Security-Policy: our own scripts and styles only)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from vigil.api.specs import Scope
from vigil.errors import VigilError
from vigil.server.dashboard.auth import COOKIE, Viewer, csrf_matches, viewer_of
from vigil.store.core import Store

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 64 * 1024


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ms(value: int | None) -> str:
    if value is None:
        return "-"
    return _when(dt.datetime.fromtimestamp(value / 1000, dt.UTC))


def _ago(value: dt.datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (dt.datetime.now(dt.UTC) - value).total_seconds()
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return "just now"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("vigil.server.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when, ms=_ms, ago=_ago, num=_num, pct=_pct, urlq=lambda v: quote(str(v), safe="")
    )
    return env


class Templates:
    def __init__(self) -> None:
        self.env = make_environment()

    def page(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any],
        *,
        status_code: int = 200,
        viewer: Viewer | None = None,
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(
            request=request, viewer=viewer, path=request.url.path, **context
        )
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    def fragment(self, name: str, context: Mapping[str, Any]) -> HTMLResponse:
        html = self.env.get_template(name).render(**context)
        return HTMLResponse(html, headers=SECURITY_HEADERS)


class SignInRequiredError(Exception):
    """Raised by the viewer dependency; the handler answers with a redirect to the sign-in page
    (or 401 for the page's own background requests)."""

    def __init__(self, next_path: str, fragment: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.fragment = fragment


class ForbiddenError(Exception):
    """A state-changing request without the right CSRF value, or without the scope it needs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def templates_of(request: Request) -> Templates:
    templates: Templates = request.app.state.dashboard_templates
    return templates


def _lookup(store: Store, cookie: str | None) -> Viewer | None:
    with store.read_session() as session:
        try:
            return viewer_of(session, cookie)
        finally:
            session.rollback()


async def current_viewer(request: Request) -> Viewer:
    viewer = await run_in_threadpool(_lookup, store_of(request), request.cookies.get(COOKIE))
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        fragment = request.headers.get("X-Requested-With") == "vigil"
        raise SignInRequiredError(target, fragment)
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
StoreWeb = Annotated[Store, Depends(store_of)]
TemplatesDep = Annotated[Templates, Depends(templates_of)]


async def read_form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ForbiddenError(
            f"the form is {len(body)} bytes; at most {MAX_FORM_BYTES} are accepted"
        )
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


class Form:
    """A posted form whose CSRF value matched the viewer's session."""

    def __init__(self, values: dict[str, list[str]], viewer: Viewer) -> None:
        self.values = values
        self.viewer = viewer

    def get(self, name: str, default: str = "") -> str:
        found = self.values.get(name)
        return found[0].strip() if found else default

    def require(self, scope: Scope) -> None:
        if not self.viewer.can(scope):
            raise ForbiddenError(
                f"this action needs a token with scope {scope.value!r}; you signed in with a "
                f"{self.viewer.scope.value!r} token"
            )


async def checked_form(request: Request, viewer: ViewerDep) -> Form:
    values = await read_form(request)
    given = (values.get("csrf") or [""])[0] or request.headers.get("X-CSRF-Token")
    if not csrf_matches(viewer.csrf, given):
        raise ForbiddenError(
            "the form's CSRF value is missing or does not match your session; reload the page "
            "and try again"
        )
    return Form(values, viewer)


FormDep = Annotated[Form, Depends(checked_form)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def error_page(
    request: Request, templates: Templates, viewer: Viewer | None, error: VigilError
) -> HTMLResponse:
    return templates.page(
        request,
        "error.html",
        {"title": "Error", "message": error.message, "code": error.code},
        status_code=error.status_code,
        viewer=viewer,
    )
