"""Reads of what was ingested that the dashboard's pages and the API share, beside
`vigil.ingestion.service` (which the /api/v1 model routes call): where a model's traffic begins
and ends, its segments' volumes and the versions its KPIs were logged for. None reads a profile.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.api.specs import DailyVolume
from vigil.store.core import Store
from vigil.store.models import Kpi, ProfileWindow
from vigil.store.repositories import ModelRepository


def _model_id(session: Session, model: str) -> int:
    return ModelRepository(session).get(model).id


def traffic_span(session: Session, model: str) -> tuple[dt.datetime, dt.datetime] | None:
    """Starts of the model's first and latest windows of the whole traffic (None: no data)."""
    first, last = session.execute(
        select(func.min(ProfileWindow.start), func.max(ProfileWindow.start)).where(
            ProfileWindow.model_id == _model_id(session, model), ProfileWindow.segment == ""
        )
    ).one()
    return None if first is None else (first, last)


def latest_start(session: Session, model: str) -> dt.datetime | None:
    """Start of the model's latest window of the whole traffic (None: no data)."""
    span = traffic_span(session, model)
    return None if span is None else span[1]


def first_start(session: Session, model: str) -> dt.datetime | None:
    """Start of the model's first window of the whole traffic (None: no data)."""
    span = traffic_span(session, model)
    return None if span is None else span[0]


def segment_volumes(session: Session, model: str) -> list[tuple[str, int]]:
    """(segment key, rows) of each segment the model logged, by key."""
    return [
        (key, int(n))
        for key, n in session.execute(
            select(ProfileWindow.segment, func.sum(ProfileWindow.n_rows))
            .where(ProfileWindow.model_id == _model_id(session, model), ProfileWindow.segment != "")
            .group_by(ProfileWindow.segment)
            .order_by(ProfileWindow.segment)
        )
    ]


def kpi_versions(session: Session, model: str) -> dict[str, dict[str, dt.datetime]]:
    """{KPI name: {model version: its latest value's time}} of the model's KPIs."""
    latest: dict[str, dict[str, dt.datetime]] = {}
    for name, version, at in session.execute(
        select(Kpi.name, Kpi.version, func.max(Kpi.timestamp))
        .where(Kpi.model_id == _model_id(session, model))
        .group_by(Kpi.name, Kpi.version)
    ):
        latest.setdefault(name, {})[version] = at
    return latest


def prediction_volume(
    store: Store, model: str, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[DailyVolume]:
    """Prediction rows per day in [start, end), and how many of them have a label."""
    with store.read_session() as session:
        try:
            model_id = _model_id(session, model)
        finally:
            session.rollback()
    return store.predictions.daily_volume(model_id, start, end)
