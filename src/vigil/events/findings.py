"""Monitoring events for the outbox: an alert opened, acknowledged or resolved, and — when an
alert opens on the model that holds the `production` alias in the registry — `model.degraded`,
the finding a CI/CD system reacts to (retrain, roll back).

An alert event carries the alert as it was after the change, so that the notification a channel
receives (`notification`) is rendered from the event alone. Whether an opening raises
`model.degraded` is a fact of the monitor kind (`MonitorKind.degrades_model`: infrastructure
kinds say nothing about the model's quality), which the caller passes down. Called by
`vigil.monitor.alerts` inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.analysis.onset import Onset
from vigil.events.outbox import CHANNEL_EVENTS, EventType, emit
from vigil.store.models import MonitoredModel
from vigil.store.monitor_tables import AlertRow, MonitorRow
from vigil.store.registry_tables import RegisteredModel, RegistryAlias

PRODUCTION_ALIAS = "production"
_ALERT_EVENTS: dict[str, EventType] = {
    "opened": "alert.opened",
    "acknowledged": "alert.acknowledged",
    "resolved": "alert.resolved",
}


ONSET_KEY = "onset"
"""Where an alert row's details keep its onset (computed once, when it opened)."""


def split_onset(details: Mapping[str, Any]) -> tuple[dict[str, Any], Onset | None]:
    """An alert row's stored details without the onset, and the onset (None: not estimated)."""
    rest = {k: v for k, v in details.items() if k != ONSET_KEY}
    stored = details.get(ONSET_KEY)
    return rest, Onset.model_validate(stored) if stored is not None else None


def _alert_data(alert: AlertRow, note: str) -> dict[str, Any]:
    details, onset = split_onset(alert.details)
    return {
        "alert_id": alert.id,
        "monitor": alert.monitor_name,
        "target": alert.target,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "message": alert.message,
        "value": alert.value,
        "first_window_start": alert.first_window_start.isoformat(),
        "last_window_start": alert.last_window_start.isoformat(),
        "n_windows": alert.n_windows,
        "details": details,
        "onset": onset.to_dict() if onset is not None else None,
        "opened_at": alert.opened_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "note": note,
    }


class AlertFields(BaseModel):
    """An alert's fields, as the API shows an alert (`vigil.monitor.alerts.Alert` adds its
    history) and as a channel receives it (`Notification`): written once, here, below both."""

    model_config = ConfigDict(frozen=True)

    id: int
    monitor: str
    target: str
    kind: str
    severity: str
    state: str
    message: str
    value: float | None
    first_window_start: dt.datetime
    last_window_start: dt.datetime
    n_windows: int
    details: dict[str, Any]
    onset: Onset | None = None
    """When the change that raised it most likely began, estimated once when it opened, from
    the monitor's own series of values (kinds with `onset`); None for other kinds."""
    opened_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None


class Notification(AlertFields):
    """What an alert channel receives: the alert as `GET /api/v1/alerts/{id}` shows it (with an
    empty `history`, as channels have always received it) and `event`, "trigger" when it opened
    or "resolve" when it resolved."""

    history: tuple[Any, ...] = ()
    event: Literal["trigger", "resolve"]


def notification(type_: str, at: dt.datetime, data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON a channel receives for an `alert.opened` or `alert.resolved` event (`at` stands
    in for the times an event written before they were recorded lacks)."""
    fields = {k: data[k] for k in Notification.model_fields if k in data}
    fields.setdefault("n_windows", 1)
    fields.setdefault("details", {})
    fields.setdefault("opened_at", at)
    fields.setdefault("updated_at", at)
    notice = Notification.model_validate(
        {**fields, "id": data["alert_id"], "event": CHANNEL_EVENTS[type_]}
    )
    return notice.model_dump(mode="json")


def production_version(session: Session, monitor: MonitorRow) -> tuple[str, int] | None:
    """(registered model, version) when the monitor watches the registry's `@production`
    version: its monitored model's registry model (or the same name) has that alias, and the
    monitor targets no other version or alias."""
    target = dict(monitor.definition.get("target") or {})
    name = str(target.get("model", ""))
    alias = target.get("alias")
    if alias is not None and alias != PRODUCTION_ALIAS:
        return None
    monitored = session.scalars(
        select(MonitoredModel.registry_model).where(MonitoredModel.name == name)
    ).first()
    registered = monitored or name
    held = session.scalar(
        select(RegistryAlias.version)
        .join(RegisteredModel, RegisteredModel.id == RegistryAlias.model_id)
        .where(RegisteredModel.name == registered, RegistryAlias.alias == PRODUCTION_ALIAS)
    )
    if held is None:
        return None
    version = target.get("version")
    if version is not None and str(version).lstrip("v") != str(held):
        return None
    return registered, held


def record_alert_event(
    session: Session,
    alert: AlertRow,
    event: str,
    actor: str,
    note: str = "",
    *,
    channels: Sequence[str] = (),
    degrades_model: bool = False,
) -> None:
    """Write the outbox events of one change of an alert (the caller commits): one event, with
    one delivery per webhook subscription that wants it and per channel in `channels` (the
    monitor's channels, when the change is notified); and `model.degraded` when the alert opens
    on the `@production` version and its kind `degrades_model`."""
    published = _ALERT_EVENTS.get(event)
    if published is None:
        return
    data = _alert_data(alert, note)
    emit(session, published, subject=alert.target, actor=actor, data=data, channels=channels)
    if event != "opened" or not degrades_model:
        return
    monitor = session.get(MonitorRow, alert.monitor_id)
    found = production_version(session, monitor) if monitor is not None else None
    if found is not None:
        model, version = found
        emit(
            session,
            "model.degraded",
            subject=model,
            actor=actor,
            data={**data, "model": model, "alias": PRODUCTION_ALIAS, "version": version},
        )
