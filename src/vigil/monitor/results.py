"""Recording a monitor's results: each window's value against its bounds, stored (one upsert
for a monitor's windows), then its alert updated window by window."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vigil.monitor import alerts
from vigil.monitor.kinds import Measurement
from vigil.monitor.monitor_run import MonitorRun
from vigil.monitor.reader import ReadWindow
from vigil.monitor.thresholds import Bounds
from vigil.monitor.windows import Window
from vigil.store.monitor_tables import MonitorResultRow
from vigil.store.repositories import utcnow

SEEN_UPLOADS = "window_uploads"
"""The key of a result's details holding how many uploads its window had when measured."""

_RESULT_KEY = ("monitor_id", "window_start")
"""The stored results' unique key (`uq_monitor_result`)."""
_COLUMNS = (
    *_RESULT_KEY,
    *("window_end", "value", "lower", "upper", "breached", "message", "details", "evaluated_at"),
)
"""The columns a result writes (all but its id)."""


@dataclass(frozen=True)
class WindowResult:
    """One monitor evaluated on one window."""

    monitor: str
    window_start: dt.datetime
    window_end: dt.datetime
    value: float | None
    lower: float | None
    upper: float | None
    breached: bool
    message: str


def result_of(
    run: MonitorRun, window: Window, measurement: Measurement, bounds: Bounds | None
) -> WindowResult:
    """The result of one window: its value against its bounds."""
    value = measurement.value
    breached = value is not None and bounds is not None and bounds.breached(value)
    message = measurement.message
    if value is not None and bounds is None:
        message += " (too few baseline windows to learn a threshold)"
    return WindowResult(
        run.monitor.name,
        window.start,
        window.end,
        value,
        bounds.lower if bounds else None,
        bounds.upper if bounds else None,
        breached,
        message,
    )


def record(
    run: MonitorRun, measured: list[tuple[ReadWindow, Measurement, Bounds | None]]
) -> list[WindowResult]:
    """Store the results of a monitor's windows (one statement), then update its alert window
    by window, in time order (the write phase)."""
    results = [result_of(run, w, m, b) for w, m, b in measured]
    _store(
        run.session,
        run.row_id,
        [
            (result, dict(m.details), w.n_uploads)
            for result, (w, m, _) in zip(results, measured, strict=True)
        ],
    )
    for result, (window, measurement, bounds) in zip(results, measured, strict=True):
        alerts.record(
            run.session,
            run.row_id,
            run.monitor,
            window,
            breached=result.breached,
            value=result.value if bounds is not None else None,
            message=result.message,
            details={**dict(measurement.details), "lower": result.lower, "upper": result.upper},
        )
    return results


@functools.cache
def _upsert(dialect: str) -> Any:
    """The INSERT ... ON CONFLICT DO UPDATE of results on SQLite and PostgreSQL, else None: on
    the table (no ORM bulk machinery), built once per dialect (building `excluded` took as long
    as running the statement)."""
    table: Any = MonitorResultRow.__table__
    statement: Any
    if dialect == "sqlite":
        statement = sqlite_insert(table)
    elif dialect == "postgresql":
        statement = postgresql_insert(table)
    else:
        return None
    replaced = {key: statement.excluded[key] for key in _COLUMNS if key not in _RESULT_KEY}
    return statement.on_conflict_do_update(index_elements=list(_RESULT_KEY), set_=replaced)


def _store(
    session: Session, monitor_id: int, results: list[tuple[WindowResult, dict[str, object], int]]
) -> None:
    """Insert or replace the stored results (one per monitor and window start): one statement
    for all of them where the dialect has an upsert, else a read and a write per result."""
    if not results:
        return
    now = utcnow()
    rows = [
        {
            "monitor_id": monitor_id,
            "window_start": result.window_start,
            "window_end": result.window_end,
            "value": result.value,
            "lower": result.lower,
            "upper": result.upper,
            "breached": result.breached,
            "message": result.message,
            "details": {**details, SEEN_UPLOADS: n_uploads},
            "evaluated_at": now,
        }
        for result, details, n_uploads in results
    ]
    statement = _upsert(session.get_bind().dialect.name)
    if statement is not None:
        session.execute(statement, rows)
        return
    for row in rows:
        stored = session.scalars(
            select(MonitorResultRow).where(
                MonitorResultRow.monitor_id == monitor_id,
                MonitorResultRow.window_start == row["window_start"],
            )
        ).first()
        if stored is None:
            session.add(MonitorResultRow(**row))
        else:
            for key, value in row.items():
                setattr(stored, key, value)
    session.flush()
