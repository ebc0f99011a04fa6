"""Alerts: one per monitor and target while open or acknowledged, with a history of its states.

open -> acknowledged -> resolved; an alert resolves by itself when a later window of its monitor
no longer breaches, and a person may acknowledge or resolve it (`actor` is kept in the history).
Each change writes one event to the outbox (`vigil.events`); when it opens (outside the cooldown)
or resolves a notified alert, that event also goes to the monitor's channels.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from vigil.analysis.onset import MAX_POINTS, Onset, estimate_onset
from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.events.findings import ONSET_KEY, AlertFields, record_alert_event, split_onset
from vigil.monitor.definitions import Monitor
from vigil.monitor.kinds import get_kind
from vigil.monitor.windows import Window
from vigil.store.monitor_tables import AlertEventRow, AlertRow, MonitorResultRow, MonitorRow
from vigil.store.repositories import utcnow

AlertState = Literal["open", "acknowledged", "resolved"]
ACTIVE: tuple[str, ...] = ("open", "acknowledged")
SYSTEM_ACTOR = "vigil"


class AlertEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    event: str
    state: AlertState
    actor: str
    note: str


# The fields are the outbox's `AlertFields`, so that a channel's notification and the API's alert
# cannot drift apart; the docstring is the OpenAPI description.
class Alert(AlertFields):
    """An alert as the API, the CLI and the channels see it."""

    state: AlertState
    history: tuple[AlertEvent, ...] = ()


def alert_out(session: Session, row: AlertRow, *, history: bool = True) -> Alert:
    events: tuple[AlertEvent, ...] = ()
    if history:
        rows = session.scalars(
            select(AlertEventRow).where(AlertEventRow.alert_id == row.id).order_by(AlertEventRow.id)
        ).all()
        events = tuple(
            AlertEvent(at=e.at, event=e.event, state=e.state, actor=e.actor, note=e.note)  # type: ignore[arg-type]
            for e in rows
        )
    details, onset = split_onset(row.details)
    return Alert(
        id=row.id,
        monitor=row.monitor_name,
        target=row.target,
        kind=row.kind,
        severity=row.severity,
        state=row.state,  # type: ignore[arg-type]
        message=row.message,
        value=row.value,
        first_window_start=row.first_window_start,
        last_window_start=row.last_window_start,
        n_windows=row.n_windows,
        details=details,
        onset=onset,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        history=events,
    )


def _event(
    session: Session,
    alert: AlertRow,
    event: str,
    actor: str,
    note: str = "",
    channels: tuple[str, ...] = (),
) -> None:
    """Keep the change in the alert's history and write its outbox event, delivered to
    `channels` too (those notified of it); an opening also raises `model.degraded` when its kind
    says so."""
    session.add(
        AlertEventRow(
            alert_id=alert.id, at=utcnow(), event=event, state=alert.state, actor=actor, note=note
        )
    )
    degrades = event == "opened" and get_kind(alert.kind).degrades_model
    record_alert_event(
        session, alert, event, actor, note, channels=channels, degrades_model=degrades
    )


def active_alert(session: Session, monitor_id: int, target: str) -> AlertRow | None:
    """The monitor's open or acknowledged alert on `target` (the latest, should there be two)."""
    found: AlertRow | None = session.scalars(
        _active_statement(), {"monitor_id": monitor_id, "target": target}
    ).first()
    return found


@functools.cache
def _active_statement() -> Select[AlertRow]:
    """`active_alert`'s statement, built once (a tick asks it of every monitor it records, and
    building it took as long as running it). Parameters: monitor_id, target."""
    return (
        select(AlertRow)
        .where(
            AlertRow.monitor_id == bindparam("monitor_id"),
            AlertRow.target == bindparam("target"),
            AlertRow.state.in_(ACTIVE),
        )
        .order_by(AlertRow.id.desc())
        .limit(1)
    )


def series_onset(session: Session, monitor_id: int, until: dt.datetime) -> Onset:
    """When the change in the monitor's stored values up to the window at `until` (included)
    most likely began: its latest `MAX_POINTS` results, with the window being recorded."""
    rows = session.execute(
        select(MonitorResultRow.window_start, MonitorResultRow.value)
        .where(MonitorResultRow.monitor_id == monitor_id, MonitorResultRow.window_start <= until)
        .order_by(MonitorResultRow.window_start.desc())
        .limit(MAX_POINTS)
    ).all()
    return estimate_onset([r.window_start for r in rows], [r.value for r in rows])


def _told(message: str, details: dict[str, Any], onset: Onset | None) -> tuple[str, dict[str, Any]]:
    """The alert's message and details with its onset: the sentence in the message (when there
    is an onset), the estimate in the details."""
    if onset is None:
        return message, details
    if onset.found:
        message = f"{message}; {onset.sentence()}"
    return message, {**details, ONSET_KEY: onset.to_dict()}


def record(
    session: Session,
    monitor_id: int,
    monitor: Monitor,
    window: Window,
    *,
    breached: bool,
    value: float | None,
    message: str,
    details: dict[str, Any],
) -> AlertRow | None:
    """Open, update or resolve the monitor's alert after one window was evaluated (the window's
    result is already in the session). An alert of a kind with `onset` estimates, when it
    opens, when its change began, and keeps that estimate while it stays active."""
    target = monitor.target.key
    kind = get_kind(monitor.kind)
    alert = active_alert(session, monitor_id, target)
    now = utcnow()
    if breached:
        if alert is not None:
            if window.start > alert.last_window_start:  # not a re-evaluation of a past window
                _, onset = split_onset(alert.details)
                alert.last_window_start = window.start
                alert.message, alert.details = _told(message, details, onset)
                alert.value = value
                alert.n_windows += 1
                alert.updated_at = now
            return alert
        onset = series_onset(session, monitor_id, window.start) if kind.onset else None
        message, details = _told(message, details, onset)
        alert = AlertRow(
            monitor_id=monitor_id,
            monitor_name=monitor.name,
            target=target,
            kind=monitor.kind,
            severity=monitor.severity,
            state="open",
            message=message,
            value=value,
            first_window_start=window.start,
            last_window_start=window.start,
            n_windows=1,
            details=details,
            opened_at=now,
            updated_at=now,
        )
        session.add(alert)
        session.flush()
        last = session.scalar(
            select(func.max(AlertRow.notified_at)).where(
                AlertRow.monitor_id == monitor_id, AlertRow.target == target
            )
        )
        if last is not None and now - last < monitor.cooldown:
            _event(session, alert, "opened", SYSTEM_ACTOR, "not notified: within the cooldown")
        else:
            alert.notified_at = now
            _event(session, alert, "opened", SYSTEM_ACTOR, message, monitor.channels)
        return alert
    if alert is not None and value is not None and window.start >= alert.last_window_start:
        _resolve(session, alert, monitor.channels, SYSTEM_ACTOR, f"cleared: {message}")
    return alert


def _resolve(
    session: Session, alert: AlertRow, channels: tuple[str, ...], actor: str, note: str
) -> None:
    now = utcnow()
    alert.state = "resolved"
    alert.resolved_at = now
    alert.updated_at = now
    notified = channels if alert.notified_at is not None else ()
    _event(session, alert, "resolved", actor, note, notified)


def _get(session: Session, alert_id: int) -> AlertRow:
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        raise NotFoundError(f"no alert with id {alert_id}; list them with `vigil alerts list`")
    return alert


def acknowledge(session: Session, alert_id: int, actor: str, note: str = "") -> Alert:
    """Mark an open alert as seen by `actor` (it stays active until resolved)."""
    if not actor:
        raise InvalidInputError("acknowledging an alert needs an actor (who acknowledges it)")
    alert = _get(session, alert_id)
    if alert.state != "open":
        raise ConflictError(
            f"alert {alert_id} is {alert.state}; only an open alert is acknowledged"
        )
    alert.state = "acknowledged"
    alert.updated_at = utcnow()
    _event(session, alert, "acknowledged", actor, note)
    session.commit()
    return alert_out(session, alert)


def resolve(session: Session, alert_id: int, actor: str, note: str = "") -> Alert:
    """Resolve an active alert by hand."""
    if not actor:
        raise InvalidInputError("resolving an alert needs an actor (who resolves it)")
    alert = _get(session, alert_id)
    if alert.state == "resolved":
        raise ConflictError(f"alert {alert_id} is already resolved")
    monitor = session.get(MonitorRow, alert.monitor_id)
    channels = tuple(monitor.definition.get("channels", ())) if monitor is not None else ()
    _resolve(session, alert, channels, actor, note)
    session.commit()
    return alert_out(session, alert)


def get_alert(session: Session, alert_id: int) -> Alert:
    return alert_out(session, _get(session, alert_id))


def list_alerts(
    session: Session,
    *,
    state: AlertState | None = None,
    monitor: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Alerts, newest first; `actor`: only those someone acknowledged or resolved by hand."""
    query = select(AlertRow)
    if state is not None:
        query = query.where(AlertRow.state == state)
    if monitor is not None:
        query = query.where(AlertRow.monitor_name == monitor)
    if actor is not None:
        acted = select(AlertEventRow.alert_id).where(AlertEventRow.actor == actor)
        query = query.where(AlertRow.id.in_(acted))
    rows = session.scalars(query.order_by(AlertRow.id.desc()).limit(limit)).all()
    return [alert_out(session, r) for r in rows]
