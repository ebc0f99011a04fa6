"""The dashboard: server-rendered pages under /ui, signed in with an API token.

`install(app)` adds its routes and its error pages to a Vigil app; `warmer(...)` gives the app's
lifespan the background cache warmer to start. The pages call the same service functions as the
/api/v1 routes.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from vigil.config import DashboardSettings
from vigil.server.dashboard.drift_cache import DriftCache, Warmer
from vigil.server.dashboard.web import ForbiddenError, SignInRequiredError, Templates, redirect
from vigil.store.core import Store

logger = logging.getLogger("vigil.server.dashboard")


def warmer(app: FastAPI, store: Store, settings: DashboardSettings) -> Warmer | None:
    """Give `app` its drift cache on `store`, and the warmer that keeps it filled (not started:
    the app's lifespan starts and stops it), or None when `settings` turn it off."""
    cache = DriftCache(store)
    app.state.drift_cache = cache
    return Warmer(cache, settings.warm_seconds) if settings.warm_seconds > 0 else None


def _router() -> APIRouter:
    from vigil.server.dashboard.pages import (
        alerts,
        datasets,
        events,
        experiments,
        explanations,
        features,
        models,
        overview,
        registry,
        session,
        settings,
    )

    router = APIRouter(include_in_schema=False)
    for module in (
        session,
        overview,
        models,
        features,
        explanations,
        experiments,
        registry,
        datasets,
        alerts,
        events,
        settings,
    ):
        router.include_router(module.router)
    return router


def install(app: FastAPI) -> None:
    """Serve the dashboard from `app` (what `create_app` does)."""
    app.state.dashboard_templates = Templates()
    app.include_router(_router())

    async def sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequiredError)
        if exc.fragment:
            return JSONResponse({"error": "unauthenticated", "message": "sign in again"}, 401)
        from urllib.parse import quote

        return redirect(f"/ui/login?next={quote(exc.next_path, safe='')}")

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ForbiddenError)
        templates: Templates = request.app.state.dashboard_templates
        return templates.page(
            request,
            "error.html",
            {"title": "Not allowed", "message": exc.message, "code": "forbidden"},
            status_code=403,
        )

    app.add_exception_handler(SignInRequiredError, sign_in_required)
    app.add_exception_handler(ForbiddenError, forbidden)


__all__ = ["DashboardSettings", "install", "warmer"]
