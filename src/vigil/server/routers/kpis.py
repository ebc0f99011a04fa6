"""/api/v1/kpis: log business KPI values, list them, their series per version and window, and two
versions compared over a period."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from vigil import kpi
from vigil.api.specs import KpiIn, KpiOut
from vigil.caps import MAX_PAGE
from vigil.ingestion import service
from vigil.server.deps import MetricsDep, ReadAccess, SessionDep, WriteAccess
from vigil.server.pages import Limit, time_page

router = APIRouter(tags=["kpis"])


@router.post("/api/v1/kpis", status_code=status.HTTP_201_CREATED)
def log_kpi(principal: WriteAccess, kpi: KpiIn, session: SessionDep, metrics: MetricsDep) -> KpiOut:
    """Record one value of a business KPI, optionally for a model and version, as logged by the
    token's owner."""
    started = time.perf_counter()
    out = service.log_kpi(session, kpi, actor=principal.actor)
    metrics.latency.labels("kpi").observe(time.perf_counter() - started)
    return out


@router.get("/api/v1/kpis")
def list_kpis(
    _: ReadAccess,
    session: SessionDep,
    response: Response,
    name: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: Limit = MAX_PAGE,
) -> list[KpiOut]:
    """KPI values in time order: at most `limit`; when more follow, the `X-Vigil-Next-Start`
    header holds the `start` of the next page."""
    kpis = service.read_only(
        session,
        lambda s: service.list_kpis(
            s, name=name, model=model, start=start, end=end, limit=limit + 1
        ),
    )
    return time_page(kpis, limit, lambda k: k.timestamp, response)


@router.get("/api/v1/kpis/series")
def kpi_series(
    _: ReadAccess,
    session: SessionDep,
    name: Annotated[str, Query(max_length=200)],
    model: Annotated[str, Query(max_length=200)],
    version: Annotated[str | None, Query(max_length=200)] = None,
    window: Annotated[
        str,
        Query(
            max_length=100,
            description="hour, day, week, month, quarter, year, a length (6h) or a period "
            "<start>/<end>; calendar units in the model's time zone unless one is named (@zone).",
        ),
    ] = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[str, Any]:
    """The KPI of `model` per version (or one `version`) and window: count, sum, mean, std, min,
    max of the values logged in each window."""
    return service.read_only(
        session,
        lambda s: kpi.series(
            s, name, model, version=version, window=window, start=start, end=end
        ).to_dict(),
    )


@router.get("/api/v1/kpis/compare")
def kpi_compare(
    _: ReadAccess,
    session: SessionDep,
    name: Annotated[str, Query(max_length=200)],
    model: Annotated[str, Query(max_length=200)],
    a: Annotated[str, Query(max_length=200, description="The reference version.")],
    b: Annotated[str, Query(max_length=200, description="The version compared with `a`.")],
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[str, Any]:
    """Version `b` against `a` over [start, end): difference and relative change of the means,
    and Welch's t-test p-value."""
    return service.read_only(
        session, lambda s: kpi.compare(s, name, model, a, b, start=start, end=end).to_dict()
    )
