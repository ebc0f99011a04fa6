"""What an alert's page shows beside the alert: the monitor that raised it and the values it
stored for the windows around the alert (each with the bounds it was judged against), read as
they were stored; nothing here measures again.

>>> context = alert_context(session, 12)  # doctest: +SKIP
>>> [(p.start, p.value, p.lower, p.upper, p.breached) for p in context.results]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import NotFoundError
from vigil.monitor.definitions import Monitor
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow

WINDOWS_BEFORE = 48
"""Results read before the alert's first window: enough to see the level it left."""
WINDOWS_AFTER = 24
"""Results read after its last window (what happened since, when the alert is resolved)."""
MAX_DURING = 500
"""At most this many of the alert's own windows (the latest, when it lasted longer)."""


@dataclass(frozen=True)
class ResultPoint:
    """One stored evaluation: the window, the monitor's value and the bounds it was judged by
    (None: no value, or no bound on that side)."""

    start: dt.datetime
    end: dt.datetime
    value: float | None
    lower: float | None
    upper: float | None
    breached: bool
    message: str


@dataclass(frozen=True)
class AlertContext:
    """The alert's monitor (None when it was deleted or no longer validates) and its stored
    results around the alert, oldest first."""

    monitor: Monitor | None
    results: tuple[ResultPoint, ...]


def _points(rows: list[MonitorResultRow]) -> list[ResultPoint]:
    return [
        ResultPoint(r.window_start, r.window_end, r.value, r.lower, r.upper, r.breached, r.message)
        for r in rows
    ]


def alert_context(session: Session, alert_id: int) -> AlertContext:
    """The monitor and the results of `WINDOWS_BEFORE` windows before the alert's first window,
    of its windows (the latest `MAX_DURING`) and of `WINDOWS_AFTER` windows after its last."""
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        raise NotFoundError(f"no alert with id {alert_id}; list them with `vigil alerts list`")
    of_monitor = MonitorResultRow.monitor_id == alert.monitor_id
    start = MonitorResultRow.window_start
    before = session.scalars(
        select(MonitorResultRow)
        .where(of_monitor, start < alert.first_window_start)
        .order_by(start.desc())
        .limit(WINDOWS_BEFORE)
    ).all()
    during = session.scalars(
        select(MonitorResultRow)
        .where(of_monitor, start >= alert.first_window_start, start <= alert.last_window_start)
        .order_by(start.desc())
        .limit(MAX_DURING)
    ).all()
    after = session.scalars(
        select(MonitorResultRow)
        .where(of_monitor, start > alert.last_window_start)
        .order_by(start)
        .limit(WINDOWS_AFTER)
    ).all()
    results = _points([*reversed(before), *reversed(during), *after])
    row = session.get(MonitorRow, alert.monitor_id)
    monitor = None
    if row is not None:
        try:
            monitor = Monitor.model_validate(row.definition)
        except ValidationError:  # a definition of an older Vigil: the page still shows values
            monitor = None
    return AlertContext(monitor, tuple(results))
