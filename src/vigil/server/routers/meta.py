"""/metrics and /openapi.json: both need a read token like the rest of the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vigil.monitor.gauges import latest_drift, open_alerts
from vigil.server.deps import MetricsDep, ReadAccess, SessionDep
from vigil.store.repositories import WindowRepository
from vigil.store.stored_profiles import undecodable_by_model

router = APIRouter(tags=["meta"])


@router.get("/metrics", response_class=Response)
def metrics(_: ReadAccess, session: SessionDep, metrics: MetricsDep) -> Response:
    """Prometheus exposition format. Last arrival times come from the store, so they are right
    after a restart and across several server processes."""
    try:
        arrivals = WindowRepository(session).last_arrivals()
        shares, readings = latest_drift(session)
        alerts = open_alerts(session)
        metrics.undecodable_windows.counts = undecodable_by_model(session)
    finally:
        session.rollback()
    for model, arrival in arrivals.items():
        metrics.last_arrival.labels(model).set(arrival.timestamp())
    # Monitoring state is re-read on each scrape: series of deleted monitors disappear.
    for gauge in (
        metrics.drift_share,
        metrics.drift_statistic,
        metrics.drift_p_value,
        metrics.drift_detected,
        metrics.open_alerts,
    ):
        gauge.clear()
    for share in shares:
        metrics.drift_share.labels(share.model, share.monitor).set(share.share)
    for r in readings:
        metrics.drift_statistic.labels(r.model, r.monitor, r.column, r.method).set(r.statistic)
        if r.p_value is not None:
            metrics.drift_p_value.labels(r.model, r.monitor, r.column, r.method).set(r.p_value)
        metrics.drift_detected.labels(r.model, r.monitor, r.column).set(int(r.drifted))
    for (target, severity), count in alerts.items():
        metrics.open_alerts.labels(target, severity).set(count)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json", include_in_schema=False)
def openapi(_: ReadAccess, request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)
