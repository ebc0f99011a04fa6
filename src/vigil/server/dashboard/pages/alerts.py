"""Alerts (list, filter, one alert with its history, acknowledge, resolve) and monitors."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from vigil.api.specs import Scope
from vigil.errors import NotFoundError, VigilError
from vigil.monitor import alerts as alert_service
from vigil.monitor import api as monitor_api
from vigil.monitor.alerts import Alert
from vigil.monitor.reading import alert_facets, find_alerts, monitor_states
from vigil.server.dashboard.alert_view import load_alert_view
from vigil.server.dashboard.web import (
    FormDep,
    StoreWeb,
    TemplatesDep,
    ViewerDep,
    error_page,
    redirect,
)
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)

StateQ = Literal["", "open", "acknowledged", "resolved", "active"]
SeverityQ = Literal["", "info", "warning", "critical"]
DONE = {"ack": "acknowledged", "resolve": "resolved"}


@dataclass(frozen=True)
class AlertList:
    alerts: list[Alert]
    counts: Counter[str]
    monitors: list[str]
    models: list[str]


def load_alerts(
    store: Store,
    state: str,
    severity: str,
    monitor: str,
    model: str,
    actor: str = "",
    limit: int = 300,
) -> AlertList:
    states = alert_service.ACTIVE if state == "active" else (state,) if state else ()
    with store.read_session() as session:
        try:
            alerts = find_alerts(
                session,
                states=states,
                severity=severity,
                monitor=monitor,
                actor=actor,
                model=model,
                limit=limit,
            )
            facets = alert_facets(session)
        finally:
            session.rollback()
    return AlertList(alerts, facets.states, facets.monitors, facets.models)


@router.get("/ui/alerts")
async def alerts_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    state: StateQ = "active",
    severity: SeverityQ = "",
    monitor: str = "",
    model: str = "",
    actor: str = "",
    done: str = "",
) -> HTMLResponse:
    data = await run_in_threadpool(load_alerts, store, state, severity, monitor, model, actor)
    filters = {
        "state": state,
        "severity": severity,
        "monitor": monitor,
        "model": model,
        "actor": actor,
    }
    return templates.page(
        request,
        "alerts.html",
        {
            "title": "Alerts",
            "data": data,
            "filters": filters,
            "back": "/ui/alerts?" + urlencode(filters),
            "done": done,
        },
        viewer=viewer,
    )


@router.get("/ui/alerts/{alert_id}")
async def alert_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    alert_id: str,
    done: str = "",
) -> HTMLResponse:
    """One alert: its value over time against its threshold, its details, links to what it
    concerns, acknowledge and resolve, and its history."""
    try:
        view = await run_in_threadpool(load_alert_view, store, _alert_id(alert_id))
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.page(
        request,
        "alert.html",
        {"title": f"Alert #{view.alert.id}", "v": view, "alert": view.alert, "done": done},
        viewer=viewer,
    )


def _alert_id(value: str) -> int:
    """The alert id of a page's path: a page saying there is no such alert (404), not a
    validation body, when it is not a number."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFoundError(
            f"no alert with id {value[:40]!r}: alert ids are whole numbers; see /ui/alerts"
        )
    return int(value)


def _act(store: Store, action: str, alert_id: int, actor: str, note: str) -> Alert:
    with store.session() as session:
        if action == "ack":
            return alert_service.acknowledge(session, alert_id, actor, note)
        return alert_service.resolve(session, alert_id, actor, note)


def _back(form_value: str, fallback: str) -> str:
    return (
        form_value
        if form_value.startswith("/ui/") and not form_value.startswith("//")
        else fallback
    )


@router.post("/ui/alerts/{alert_id}/{action}")
async def alert_action(
    request: Request,
    form: FormDep,
    store: StoreWeb,
    templates: TemplatesDep,
    alert_id: str,
    action: str,
) -> Response:
    """Acknowledge or resolve (write scope); the viewer's token owner goes into the history."""
    try:
        number = _alert_id(alert_id)
        if action not in DONE:
            raise NotFoundError(
                f"no action {action[:40]!r} on an alert; the actions are {sorted(DONE)}"
            )
        form.require(Scope.WRITE)
        await run_in_threadpool(
            _act, store, action, number, form.viewer.actor, form.get("note")[:2000]
        )
    except VigilError as exc:
        return error_page(request, templates, form.viewer, exc)
    back = _back(form.get("back"), f"/ui/alerts/{number}")
    separator = "&" if "?" in back else "?"
    return redirect(f"{back}{separator}done={DONE[action]}+%23{number}")


@dataclass(frozen=True)
class MonitorLine:
    name: str
    kind: str
    target: str
    window: str
    severity: str
    channels: str
    evaluated_until: str
    active_alerts: int


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "never"


def load_monitors(store: Store) -> list[MonitorLine]:
    monitors = monitor_api.list_monitors(store)
    with store.read_session() as session:
        try:
            states = monitor_states(session)
        finally:
            session.rollback()
    lines = []
    for m in monitors:
        body = m.model_dump(mode="json")
        target = body.get("target") or {}
        state = states.get(m.name)
        lines.append(
            MonitorLine(
                name=m.name,
                kind=str(body.get("kind", "")),
                target=", ".join(f"{k}={v}" for k, v in target.items() if v is not None),
                window=str(body.get("window", "")),
                severity=str(body.get("severity", "")),
                channels=", ".join(body.get("channels") or []),
                evaluated_until=_when(state.evaluated_until if state else None),
                active_alerts=state.active_alerts if state else 0,
            )
        )
    return lines


@router.get("/ui/monitors")
async def monitors_page(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep
) -> HTMLResponse:
    lines = await run_in_threadpool(load_monitors, store)
    return templates.page(
        request, "monitors.html", {"title": "Monitors", "monitors": lines}, viewer=viewer
    )
