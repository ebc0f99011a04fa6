"""The dashboard: server-rendered pages under /ui, signed in with an API token.

`install(app)` adds its routes, its error pages and its background cache warmer to a Vigil app;
the pages call the same service functions as the /api/v1 routes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.server.dashboard.drift_cache import DriftCache, Warmer
from vigil.server.dashboard.web import ForbiddenError, SignInRequiredError, Templates, redirect

logger = logging.getLogger("vigil.server.dashboard")


class DashboardSettings(BaseSettings):
    """`VIGIL_DASHBOARD_WARM_SECONDS`: how often the background thread computes drift cells
    (0 turns it off; pages then compute what they show, within `VIGIL_DASHBOARD_PAGE_BUDGET`)."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_DASHBOARD_")

    warm_seconds: float = 300.0
    page_budget: float = 0.4


@asynccontextmanager
async def dashboard_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: DashboardSettings = (
        getattr(app.state, "dashboard_settings", None) or DashboardSettings()
    )
    app.state.dashboard_settings = settings
    cache = DriftCache(app.state.store)
    app.state.drift_cache = cache
    warmer = None
    if settings.warm_seconds > 0:
        warmer = Warmer(cache, settings.warm_seconds)
        warmer.start()
    try:
        yield
    finally:
        if warmer is not None:
            warmer.stop()


def _router() -> APIRouter:
    from vigil.server.dashboard.pages import (
        alerts,
        datasets,
        events,
        experiments,
        features,
        models,
        overview,
        registry,
        session,
        settings,
    )

    router = APIRouter(include_in_schema=False, lifespan=dashboard_lifespan)
    for module in (
        session,
        overview,
        models,
        features,
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


__all__ = ["DashboardSettings", "install"]
