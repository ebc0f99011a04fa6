from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

from fastapi import APIRouter, Query, status

from vigil.server.deps import MetricsDep, ReadAccess, SessionDep, WriteAccess
from vigil.store import service
from vigil.store.specs import KpiIn, KpiOut

router = APIRouter(tags=["kpis"])


@router.post("/api/v1/kpis", status_code=status.HTTP_201_CREATED)
def log_kpi(_: WriteAccess, kpi: KpiIn, session: SessionDep, metrics: MetricsDep) -> KpiOut:
    """Record one value of a business KPI, optionally for a model and version."""
    started = time.perf_counter()
    out = service.log_kpi(session, kpi)
    metrics.latency.labels("kpi").observe(time.perf_counter() - started)
    return out


@router.get("/api/v1/kpis")
def list_kpis(
    _: ReadAccess,
    session: SessionDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[KpiOut]:
    return service.read_only(
        session, lambda s: service.list_kpis(s, name=name, model=model, start=start, end=end)
    )
