"""/metrics and /openapi.json: both need a read token like the rest of the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vigil.server.deps import MetricsDep, ReadAccess, SessionDep
from vigil.store.repositories import WindowRepository

router = APIRouter(tags=["meta"])


@router.get("/metrics", response_class=Response)
def metrics(_: ReadAccess, session: SessionDep, metrics: MetricsDep) -> Response:
    """Prometheus exposition format. Last arrival times come from the store, so they are right
    after a restart and across several server processes."""
    try:
        arrivals = WindowRepository(session).last_arrivals()
    finally:
        session.rollback()
    for model, arrival in arrivals.items():
        metrics.last_arrival.labels(model).set(arrival.timestamp())
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json", include_in_schema=False)
def openapi(_: ReadAccess, request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)
