"""The monitoring state Prometheus scrapes: the latest drift figures of each drift monitor, and
the open alerts per model and severity (for `/metrics`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.monitor.kinds import kinds_with_gauge
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow


def drift_kinds() -> tuple[str, ...]:
    """The kinds whose latest measurement is exported as drift gauges (a fact of each kind)."""
    return kinds_with_gauge("vigil_drift_share")


@dataclass(frozen=True)
class DriftReading:
    """One column's drift in the latest evaluated window of one drift monitor."""

    model: str
    monitor: str
    column: str
    method: str
    statistic: float
    p_value: float | None
    drifted: bool


@dataclass(frozen=True)
class DriftShare:
    model: str
    monitor: str
    share: float


def latest_drift(session: Session) -> tuple[list[DriftShare], list[DriftReading]]:
    """Per drift monitor, its latest evaluated window: the share of drifted columns, and each
    column's statistic."""
    latest = (
        select(MonitorResultRow.monitor_id, func.max(MonitorResultRow.window_start).label("start"))
        .where(MonitorResultRow.value.is_not(None))
        .group_by(MonitorResultRow.monitor_id)
        .subquery()
    )
    rows = session.execute(
        select(
            MonitorRow.name, MonitorRow.definition, MonitorResultRow.value, MonitorResultRow.details
        )
        .join(MonitorResultRow, MonitorResultRow.monitor_id == MonitorRow.id)
        .join(
            latest,
            (latest.c.monitor_id == MonitorResultRow.monitor_id)
            & (latest.c.start == MonitorResultRow.window_start),
        )
    ).all()
    shares: list[DriftShare] = []
    readings: list[DriftReading] = []
    kinds = drift_kinds()
    for name, definition, value, details in rows:
        if definition.get("kind") not in kinds:
            continue
        model = str(definition.get("target", {}).get("model", ""))
        shares.append(DriftShare(model, name, float(value)))
        for column, figures in (details or {}).get("columns", {}).items():
            statistic = figures.get("statistic")
            if statistic is None:
                continue
            p_value = figures.get("p_value")
            readings.append(
                DriftReading(
                    model=model,
                    monitor=name,
                    column=column,
                    method=str(figures.get("method", "")),
                    statistic=float(statistic),
                    p_value=None if p_value is None else float(p_value),
                    drifted=bool(figures.get("drifted")),
                )
            )
    return shares, readings


def open_alerts(session: Session) -> dict[tuple[str, str], int]:
    """Alerts not yet resolved (open or acknowledged), per (target, severity)."""
    rows = session.execute(
        select(AlertRow.target, AlertRow.severity, func.count())
        .where(AlertRow.state != "resolved")
        .group_by(AlertRow.target, AlertRow.severity)
    ).all()
    return {(target, severity): int(count) for target, severity, count in rows}
