"""The FastAPI app factory: `create_app(settings)` builds an app from the one `Settings`; it owns
its store, its metrics and its background workers (the monitor scheduler, the event dispatcher,
the dashboard's cache warmer), which its lifespan starts and stops, and nothing else does."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.config import Settings
from vigil.errors import InvalidInputError, PayloadTooLargeError, VigilError
from vigil.events.dispatch import Dispatcher
from vigil.ingestion.compactor import Compactor
from vigil.ingestion.group_commit import GroupCommit
from vigil.ingestion.retention_worker import RetentionWorker
from vigil.monitor.scheduler import Scheduler
from vigil.server.dashboard import install as install_dashboard
from vigil.server.dashboard import warmer as dashboard_warmer
from vigil.server.deps import TokenCache, get_settings
from vigil.server.error_paths import without_paths
from vigil.server.error_schema import ERROR_RESPONSES, validation_message
from vigil.server.ingest_path import IngestionPath, direct_routes
from vigil.server.json_body import guard_json_body, too_deep
from vigil.server.limits import BodySizeLimit, RequestTimeLimit, guard_queries
from vigil.server.metrics import Metrics, RequestMetrics
from vigil.server.mlflow.errors import is_mlflow_path, route_error
from vigil.server.routers import (
    alerts,
    comparisons,
    datasets,
    events,
    explain,
    health,
    ingest,
    kpis,
    lifecycle,
    meta,
    mlflow_artifacts,
    mlflow_registry,
    mlflow_tracking,
    models,
    monitors,
    performance,
    registry,
    retention,
    runs,
    tokens,
)
from vigil.store.artifact_check import artifacts_problem
from vigil.store.core import Store
from vigil.store.db import has_read_engine
from vigil.store.db_errors import classify, is_bind_overflow
from vigil.store.repositories import TokenRepository

logger = logging.getLogger("vigil.server")

# Routers carry their full paths (no include prefix), so a route's `path` is its URL template.
ROUTERS = (
    health.router,
    meta.router,
    models.router,
    ingest.router,
    kpis.router,
    tokens.router,
    runs.router,
    datasets.router,
    registry.router,
    monitors.router,
    alerts.router,
    events.router,
    lifecycle.router,
    explain.router,
    mlflow_tracking.router,
    mlflow_registry.router,
    mlflow_artifacts.router,
    comparisons.router,
    performance.router,
    retention.router,
)

INGEST_THREADS = 40
"""Worker threads of the log route (uploads wait on the store and the artifact store there)."""

FIRST_TOKEN_HINT = (
    "Vigil: the store has no admin API token yet. Create one with\n"
    "    vigil token create --scope admin --store {store_url}\n"
    "and send it as 'Authorization: Bearer <token>'."
)


def _json_error(status_code: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status_code)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VigilError)
    async def vigil_error(request: Request, exc: VigilError) -> JSONResponse:
        return _json_error(exc.status_code, without_paths(request, exc.to_dict()))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        body = {
            "error": "invalid_input",
            "message": validation_message(errors),
            "details": {"errors": errors},
        }
        return _json_error(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, RecursionError):  # FastAPI's JSON parse of a body
            deep = too_deep()
            return _json_error(deep.status_code, deep.to_dict())
        if exc.status_code in (404, 405) and is_mlflow_path(request.url.path):  # MLflow's shape
            return _json_error(*route_error(exc.status_code, request.method, request.url.path))
        codes = {404: "not_found", 405: "method_not_allowed", 413: PayloadTooLargeError.code}
        code = codes.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code in (404, 405) and message in ("Not Found", "Method Not Allowed"):
            message = (
                f"{message}: no route {request.method} {request.url.path}; "
                "the API is described at /openapi.json"
            )
        return _json_error(exc.status_code, {"error": code, "message": message})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        body = {
            "error": "internal_error",
            "message": f"the server failed ({type(exc).__name__}); nothing was stored; "
            "see the server log",
        }
        return _json_error(500, body)

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        if not is_bind_overflow(exc):
            return await internal_error(request, exc)
        logger.warning("store refused %s %s: %s", request.method, request.url.path, exc)
        error = InvalidInputError(
            "a number in the request does not fit in a 64-bit integer "
            "(-9223372036854775808 to 9223372036854775807)"
        )
        return _json_error(error.status_code, error.to_dict())

    @app.exception_handler(StatementError)
    async def store_error(request: Request, exc: StatementError) -> JSONResponse:
        # Retry-After only for contention: a request the store refuses would fail again.
        kind = classify(exc)
        if kind == "contention":
            logger.warning("store error: %s", exc.orig)
            body = {
                "error": "store_unavailable",
                "message": "the store is busy or down; retry later",
            }
            return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})
        if kind == "request":
            logger.warning("store refused %s %s: %s", request.method, request.url.path, exc.orig)
            reason = str(exc.orig).splitlines()[0][:200] if str(exc.orig) else "out of range"
            error = InvalidInputError(
                f"the store cannot run this request ({reason}); ask for less, or use values "
                "that fit 64-bit integers and the store's column sizes",
            )
            return _json_error(error.status_code, error.to_dict())
        return await internal_error(request, exc)


class Worker(Protocol):
    """A background worker: a thread started with the app and stopped (joined) with it."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


async def _settings_in_force(app: FastAPI, given: Settings) -> Settings:
    """`given`, unless a test overrides `get_settings` (`app.dependency_overrides`, with a
    function of no arguments): then what the override gives, so that the workers, the request
    limits and the routes all see the same settings."""
    override = app.dependency_overrides.get(get_settings)
    if override is None:
        return given
    settings = override()
    if inspect.isawaitable(settings):
        settings = await settings
    if not isinstance(settings, Settings):
        raise TypeError(
            f"the override of get_settings gave {type(settings).__name__}, not Settings"
        )
    return settings


def _workers(app: FastAPI, store: Store, settings: Settings) -> list[Worker]:
    """The app's background workers, each unless its setting turns it off. The scheduler and
    the dispatcher are also on `app.state` (monitor_scheduler, event_dispatcher; None when off)."""
    scheduler = Scheduler(store, settings.monitor) if settings.monitor.monitor_scheduler else None
    events = settings.events
    dispatcher = (
        Dispatcher(store, settings.monitor, events.events_interval_seconds)
        if events.events_dispatcher
        else None
    )
    app.state.monitor_scheduler = scheduler
    app.state.event_dispatcher = dispatcher
    warmer = dashboard_warmer(app, store, settings.dashboard)
    # Background jobs run where the scheduler does; retention is one of them.
    keeper = (
        RetentionWorker(store, settings.monitor.retention_interval_seconds)
        if settings.monitor.monitor_scheduler
        else None
    )
    # Every process folds window parts that log calls append (reads of a window stay bounded).
    compactor = app.state.compactor = Compactor(store)
    return [w for w in (scheduler, dispatcher, warmer, keeper, compactor) if w is not None]


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """A Vigil server app built from `settings` (by default: from the VIGIL_* variables).

    Its lifespan opens (and migrates) the store unless `store` is given, then starts the
    background workers; on shutdown it stops them, then closes the store it opened.
    """
    if settings is None:
        settings = Settings.from_env()
    elif not isinstance(settings, Settings):
        raise TypeError(
            f"create_app takes a vigil.config.Settings, not {type(settings).__name__} "
            "(e.g. Settings(store_url=..., max_request_bytes=...))"
        )
    given = settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = await _settings_in_force(app, given)
        app.state.settings = settings
        app.state.token_cache = TokenCache(settings.server.token_cache_seconds)
        app.state.outbound_policy = settings.monitor.outbound_policy()
        opened = store or Store.open(
            settings.store.store_url,
            settings.store.artifacts_url,
            s3_endpoint_url=settings.store.s3_endpoint_url,
            migrate=settings.store.migrate,
        )
        app.state.store = opened
        # The log route's worker threads (see `vigil.server.routers.ingest`): as many as anyio's
        # default thread pool, which the route used before; started on demand.
        ingest_threads = ThreadPoolExecutor(INGEST_THREADS, thread_name_prefix="vigil-ingest")
        app.state.ingest_executor = ingest_threads
        # The log route's small uploads are committed in groups by one writer thread, and on
        # SQLite (one writer at a time) its other concurrent batches join the groups
        # (`vigil.ingestion.group_commit`); PostgreSQL writes those side by side.
        app.state.ingest_group = GroupCommit(opened)
        started: list[Worker] = []
        try:
            guard_queries(opened.engine, settings.server.request_timeout_seconds)
            if has_read_engine(opened.engine.url):  # else read sessions share the engine's pool
                guard_queries(opened.read_engine, settings.server.request_timeout_seconds)
            with opened.session() as session:
                if TokenRepository(session).count_admins() == 0:
                    logger.warning(FIRST_TOKEN_HINT.format(store_url=settings.store.store_url))
            app.state.artifacts_problem = artifacts_problem(opened)  # a banner on every page
            if app.state.artifacts_problem:
                logger.warning("Vigil: %s", app.state.artifacts_problem)
            for worker in _workers(app, opened, settings):
                worker.start()
                started.append(worker)
            yield
        finally:
            for worker in reversed(started):
                worker.stop()
            ingest_threads.shutdown(wait=False)  # the server has waited for open requests
            if app.state.ingest_group is not None:
                app.state.ingest_group.close()  # its writer has written what it was handed
            if store is None:
                opened.close()

    app = FastAPI(
        title="Vigil",
        summary="Monitoring for machine-learning models in production.",
        version="1",
        lifespan=lifespan,
        dependencies=[Depends(guard_json_body)],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    metrics = Metrics()
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.token_cache = TokenCache(settings.server.token_cache_seconds)
    _install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    install_dashboard(app)  # the /ui pages: sessions, not API tokens (see vigil.server.dashboard)
    # The app's lifespan is the only one that runs: it starts every background worker. (Including
    # a router merges the router's own lifespan into the app's; those are not run.)
    app.router.lifespan_context = lifespan
    # The last added is outermost: metrics see every answer, 413s from the size limit included.
    # The limits are read per request from the settings in force. Innermost, the ingestion
    # routes' direct path (past every limit, before the router; see vigil.server.ingest_path).
    app.add_middleware(IngestionPath, owner=app, routes=direct_routes(app))
    app.add_middleware(BodySizeLimit, limit=lambda: app.state.settings.server.max_request_bytes)
    app.add_middleware(
        RequestTimeLimit, seconds=lambda: app.state.settings.server.request_timeout_seconds
    )
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app


def serve(settings: Settings, *, log_level: str = "info") -> None:
    """Run a server with `settings` until interrupted (what `vigil server` does)."""
    from vigil.server.shutdown import run

    run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_level=log_level,
        graceful_seconds=settings.server.shutdown_timeout_seconds,
    )
