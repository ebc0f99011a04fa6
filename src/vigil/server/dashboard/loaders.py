"""Small reads shared by several pages: a model's windows without their profiles, its alerts,
its production version. Profiles are never decoded here (the drift cache does that)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from vigil.monitor.alerts import ACTIVE
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.monitor_tables import AlertRow
from vigil.store.repositories import ModelRepository, WindowRepository


@dataclass(frozen=True)
class WindowRow:
    start: dt.datetime
    version: str
    n_rows: int
    n_uploads: int
    first_arrival: dt.datetime
    last_arrival: dt.datetime


def latest_start(session: Session, model_id: int) -> dt.datetime | None:
    return session.scalar(
        select(func.max(ProfileWindow.start)).where(
            ProfileWindow.model_id == model_id, ProfileWindow.segment == ""
        )
    )


def window_rows(
    session: Session,
    model_id: int,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[WindowRow]:
    """The model's windows (every version, the whole traffic), oldest first, without profiles."""
    query = select(
        ProfileWindow.start,
        ProfileWindow.version,
        ProfileWindow.n_rows,
        ProfileWindow.n_uploads,
        ProfileWindow.first_arrival,
        ProfileWindow.last_arrival,
    ).where(ProfileWindow.model_id == model_id, ProfileWindow.segment == "")
    if start is not None:
        query = query.where(ProfileWindow.start >= start)
    if end is not None:
        query = query.where(ProfileWindow.start < end)
    return [WindowRow(*row) for row in session.execute(query.order_by(ProfileWindow.start))]


def daily_rows(rows: list[WindowRow]) -> list[tuple[dt.datetime, int]]:
    days: dict[dt.datetime, int] = {}
    for row in rows:
        day = row.start.replace(hour=0, minute=0, second=0, microsecond=0)
        days[day] = days.get(day, 0) + row.n_rows
    return sorted(days.items())


def targets_model(target: str, model: str) -> bool:
    """Whether an alert's target key (`model` or `model@version`) is about `model`."""
    return target == model or target.startswith(f"{model}@")


def targets_model_sql(model: str) -> ColumnElement[bool]:
    """`targets_model` as a SQL condition on AlertRow.target (LIKE may ignore case: re-check)."""
    return (AlertRow.target == model) | AlertRow.target.startswith(f"{model}@", autoescape=True)


def active_alert_counts(session: Session) -> dict[str, Counter[str]]:
    """{target key: Counter(severity)} of open and acknowledged alerts."""
    out: dict[str, Counter[str]] = {}
    for target, severity, n in session.execute(
        select(AlertRow.target, AlertRow.severity, func.count())
        .where(AlertRow.state.in_(ACTIVE))
        .group_by(AlertRow.target, AlertRow.severity)
    ):
        out.setdefault(target, Counter())[severity] += n
    return out


def counts_for(model: str, counts: dict[str, Counter[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for target, counter in counts.items():
        if targets_model(target, model):
            total.update(counter)
    return total


def monitored_models(session: Session) -> list[MonitoredModel]:
    return list(ModelRepository(session).list())


def find_monitored(session: Session, name: str) -> MonitoredModel | None:
    return ModelRepository(session).find(name)


def segment_keys(session: Session, model_id: int) -> list[str]:
    """The model's stored segment keys (`"<column>=<value>"`), sorted."""
    return sorted(WindowRepository(session).segments(model_id))
