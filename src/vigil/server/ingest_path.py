"""The ingestion routes' direct path: `POST /api/v1/models/{name}/log` (and `/labels`) are
called without the router's search through every route and without FastAPI's dependency
resolution, which together cost more event-loop time than the route's own work on a small upload.

The direct path runs the same checks, in the same order, with the same code: the app's JSON-body
guard, the bearer token parse (the route's `HTTPBearer`), the route's `ScopeRequirement`, then the
route's work (`FAST_ROUTES`). Errors go to the app's own exception handlers, as the router would
send them (an unexpected error goes on up to the server-error handler, as before). It sits inside
the body-size, time-limit and metrics middlewares, so those apply as to any request, and it sets
the matched route in the scope (the metrics count requests by its path template).

The routes stay declared as usual (OpenAPI, the route tests); any request the direct path does
not recognise exactly, and every request while a test overrides a dependency, goes to the app.
`create_app` checks when it builds the app that each route's dependencies are exactly those the
direct path runs, so a dependency added to one of them later cannot be skipped silently.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from vigil.server.deps import ScopeRequirement, _bearer
from vigil.server.json_body import guard_json_body
from vigil.server.routers.ingest import FAST_ROUTES

Work = Callable[[Request, str], Awaitable[Response]]


@dataclass(frozen=True)
class DirectRoute:
    """One route the direct path serves: the declared route, its scope check and its work."""

    route: APIRoute
    requirement: ScopeRequirement
    work: Work


def _calls(dependant: Any) -> list[Any]:
    """Every callable in a dependency tree, depth first."""
    found = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(_calls(sub))
    return found


def direct_routes(app: FastAPI) -> tuple[DirectRoute, ...]:
    """The routes of `app` the direct path serves, checked: the app's only own dependency is the
    JSON-body guard, and each route's are its bearer token and one `ScopeRequirement`."""
    app_dependencies = [d.dependency for d in app.router.dependencies]
    if app_dependencies != [guard_json_body]:
        raise RuntimeError(
            f"the app's dependencies are {app_dependencies}; the ingestion routes' direct path "
            "runs only guard_json_body (vigil.server.ingest_path): update it"
        )
    found = []
    for route in _api_routes(app):
        work = FAST_ROUTES.get(route.endpoint)
        if work is None:
            continue
        calls = [c for c in _calls(route.dependant) if c is not guard_json_body]
        requirements = [c for c in calls if isinstance(c, ScopeRequirement)]
        others = [c for c in calls if c is not _bearer and not isinstance(c, ScopeRequirement)]
        if len(requirements) != 1 or others or route.methods != {"POST"}:
            raise RuntimeError(
                f"route {route.path} depends on {calls} with methods {route.methods}; its direct "
                "path (vigil.server.ingest_path) runs one ScopeRequirement for POST: update it"
            )
        found.append(DirectRoute(route, requirements[0], work))
    return tuple(found)


def _api_routes(app: FastAPI) -> list[APIRoute]:
    """The app's APIRoutes, also those of included routers."""
    routes: list[APIRoute] = []
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            routes.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's record of an included router
            pending.extend(route.original_router.routes)
    return routes


class IngestionPath:
    """ASGI middleware: the direct path of `routes` (see the module docstring)."""

    def __init__(self, app: ASGIApp, owner: FastAPI, routes: tuple[DirectRoute, ...]) -> None:
        self.app = app
        self.owner = owner
        self.routes = routes
        self.prefix = _common_prefix([r.route.path for r in routes])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(self.prefix)
            or self.owner.dependency_overrides
        ):
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope)
        for direct in self.routes:
            match = direct.route.path_regex.match(path)
            if match is not None:
                break
        else:
            await self.app(scope, receive, send)
            return
        route = direct.route
        params = {
            key: route.param_convertors[key].convert(value)
            for key, value in match.groupdict().items()
        }
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            await guard_json_body(request)
            credentials = await _bearer(request)
            await direct.requirement(request, credentials)
            response = await direct.work(request, params["name"])
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise  # the server-error handler answers it, as for any route
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable[..., Any] | None:
        """The app's handler for `exc`, looked up as Starlette's exception middleware does (by
        status for an HTTPException, then by class); the catch-all (Exception, 500) excluded."""
        handlers = self.owner.exception_handlers
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            handler: Callable[..., Any] = handlers[exc.status_code]
            return handler
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None


def _common_prefix(paths: list[str]) -> str:
    """The literal start all `paths` share, up to their first parameter."""
    literal = [p.split("{", 1)[0] for p in paths]
    prefix = literal[0] if literal else "/"
    for item in literal[1:]:
        while not item.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
