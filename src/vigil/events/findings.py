"""Monitoring events for the outbox: an alert opened, acknowledged or resolved, and — when an
alert opens on the model that holds the `production` alias in the registry — `model.degraded`,
the finding a CI/CD system reacts to (retrain, roll back).

Infrastructure kinds (no data, volume, frequency) say nothing about the model's quality, so they
never raise `model.degraded`. Called by `vigil.monitor.alerts` inside its transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.events.outbox import EventType, emit
from vigil.store.models import MonitoredModel
from vigil.store.monitor_tables import AlertRow, MonitorRow
from vigil.store.registry_tables import RegisteredModel, RegistryAlias

PRODUCTION_ALIAS = "production"
INFRASTRUCTURE_KINDS = frozenset({"no_data", "volume", "frequency"})
_ALERT_EVENTS: dict[str, EventType] = {
    "opened": "alert.opened",
    "acknowledged": "alert.acknowledged",
    "resolved": "alert.resolved",
}


def _alert_data(alert: AlertRow, note: str) -> dict[str, Any]:
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
        "note": note,
    }


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
    session: Session, alert: AlertRow, event: str, actor: str, note: str = ""
) -> None:
    """Write the outbox events of one change of an alert (the caller commits)."""
    published = _ALERT_EVENTS.get(event)
    if published is None:
        return
    data = _alert_data(alert, note)
    emit(session, published, subject=alert.target, actor=actor, data=data)
    if event != "opened" or alert.kind in INFRASTRUCTURE_KINDS:
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
