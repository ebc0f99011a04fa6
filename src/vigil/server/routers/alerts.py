"""/api/v1/alerts: list, read, acknowledge and resolve alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vigil.ingestion import service
from vigil.monitor import alerts
from vigil.monitor.alerts import Alert, AlertState
from vigil.server.deps import ReadAccess, SessionDep, WriteAccess
from vigil.server.params import IdPath

router = APIRouter(tags=["alerts"])


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=2000)


@router.get("/api/v1/alerts")
def list_alerts(
    _: ReadAccess,
    session: SessionDep,
    state: AlertState | None = None,
    monitor: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Alert]:
    """Alerts, newest first; `actor=`: those this person acknowledged or resolved."""
    return service.read_only(
        session,
        lambda s: alerts.list_alerts(s, state=state, monitor=monitor, actor=actor, limit=limit),
    )


@router.get("/api/v1/alerts/{alert_id}")
def get_alert(_: ReadAccess, session: SessionDep, alert_id: IdPath) -> Alert:
    return service.read_only(session, lambda s: alerts.get_alert(s, alert_id))


@router.post("/api/v1/alerts/{alert_id}/ack")
def acknowledge(
    principal: WriteAccess, session: SessionDep, alert_id: IdPath, body: NoteIn | None = None
) -> Alert:
    """Acknowledge an open alert; the token's owner is recorded in its history."""
    return alerts.acknowledge(session, alert_id, principal.actor, body.note if body else "")


@router.post("/api/v1/alerts/{alert_id}/resolve")
def resolve(
    principal: WriteAccess, session: SessionDep, alert_id: IdPath, body: NoteIn | None = None
) -> Alert:
    return alerts.resolve(session, alert_id, principal.actor, body.note if body else "")
