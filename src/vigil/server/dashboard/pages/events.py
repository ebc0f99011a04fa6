"""Events: what happened across registry and monitoring (versions created, aliases moved,
versions retired, alerts opened and resolved...), newest first, filtered by type and actor; the
same outbox `GET /api/v1/events` pages through with a cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from vigil.errors import VigilError
from vigil.events.outbox import EVENT_TYPES, list_events
from vigil.monitor.reading import latest_event_id
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)
PAGE = 100


@dataclass
class EventList:
    events: list[Any] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    older: int | None = None


def load_events(store: Store, type_: str, actor: str, before: int | None) -> EventList:
    with store.read_session() as session:
        try:
            if before is None:
                before = latest_event_id(session) + 1
            # The outbox pages forward from a cursor; this page shows the PAGE before `before`.
            after = max(0, before - 1 - PAGE * 20 if (type_ or actor) else before - 1 - PAGE)
            page = list_events(
                session,
                after=after,
                types=[type_] if type_ else None,
                actor=actor or None,
                limit=1000,
            )
        finally:
            session.rollback()
    events = [e for e in page.events if e.id < before][-PAGE:]
    events.reverse()
    older = events[-1].id if events and events[-1].id > 1 else None
    return EventList(events, list(EVENT_TYPES), older)


@router.get("/ui/events")
async def events_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    type: str = "",
    actor: str = "",
    before: int | None = None,
) -> HTMLResponse:
    try:
        data = await run_in_threadpool(load_events, store, type, actor, before)
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    older_url = ""
    if data.older is not None:
        older_url = "/ui/events?" + urlencode({"type": type, "actor": actor, "before": data.older})
    return templates.page(
        request,
        "events.html",
        {"title": "Events", "data": data, "type": type, "actor": actor, "older_url": older_url},
        viewer=viewer,
    )
