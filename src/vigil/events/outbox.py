"""The one outbox: `emit` appends an event in the caller's transaction (so an event exists if and
only if its change was committed) and queues one delivery per subscriber: each active webhook
subscription that wants its type, and each alert channel the emitter names (a monitor's channels,
for the notification of its alert). `list_events` pages through the events with a cursor (the
event id). `vigil.events.delivery` sends the deliveries.

>>> page = list_events(session, after=120, types=["model.alias_moved"])   # doctest: +SKIP
>>> page.events[0].data["to_version"], page.next_cursor                    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.errors import InvalidInputError
from vigil.store.collab_tables import EventDeliveryRow, EventRow, EventSubscriptionRow
from vigil.store.repositories import utcnow

EventType = Literal[
    "model.version_created",
    "model.alias_moved",
    "model.alias_deleted",
    "model.version_retired",
    "model.version_restored",
    "model.degraded",
    "alert.opened",
    "alert.acknowledged",
    "alert.resolved",
    "monitor.created",
    "monitor.updated",
    "monitor.deleted",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
CHANNEL_EVENTS: Mapping[str, str] = MappingProxyType(
    {"alert.opened": "trigger", "alert.resolved": "resolve"}
)
"""The events alert channels receive, and the notification each is for them."""
MAX_PAGE = 1000


class Event(BaseModel):
    """One event as the API, the CLI and webhooks see it; `id` is the cursor."""

    model_config = ConfigDict(frozen=True)

    id: int
    type: str
    subject: str
    actor: str
    at: dt.datetime
    data: dict[str, Any]


class EventsPage(BaseModel):
    """Events after a cursor, oldest first; pass `next_cursor` as `after` for the next page (it
    is the last event's id, or the cursor given when there was nothing new)."""

    model_config = ConfigDict(frozen=True)

    events: list[Event]
    next_cursor: int
    has_more: bool


def check_types(types: Sequence[str] | None) -> list[str]:
    """The event types as given, or InvalidInputError naming an unknown one."""
    if not types:
        return []
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise InvalidInputError(
            f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}", types=unknown
        )
    return list(types)


def event_out(row: EventRow) -> Event:
    return Event(
        id=row.id, type=row.type, subject=row.subject, actor=row.actor, at=row.at, data=row.data
    )


def emit(
    session: Session,
    type: EventType,
    *,
    subject: str,
    actor: str,
    data: Mapping[str, Any],
    at: dt.datetime | None = None,
    channels: Sequence[str] = (),
) -> EventRow:
    """Append an event in the caller's transaction and queue one delivery per subscriber: each
    active subscription that wants its type, and each of `channels` (alert channels by name, for
    `alert.opened` and `alert.resolved` only). The caller commits."""
    if type not in EVENT_TYPES:
        raise InvalidInputError(f"unknown event type {type!r}; known: {', '.join(EVENT_TYPES)}")
    if channels and type not in CHANNEL_EVENTS:
        raise InvalidInputError(
            f"alert channels receive {' and '.join(CHANNEL_EVENTS)} only, not {type!r}"
        )
    now = at or utcnow()
    row = EventRow(type=type, subject=subject, actor=actor, at=now, data=dict(data))
    session.add(row)
    session.flush()
    subscriptions = session.execute(
        select(EventSubscriptionRow.id, EventSubscriptionRow.types).where(
            EventSubscriptionRow.active.is_(True)
        )
    ).all()
    subscribers: list[tuple[int | None, str | None]] = [
        (s, None) for s, types in subscriptions if not types or type in types
    ]
    subscribers += [(None, c) for c in dict.fromkeys(channels)]
    for subscription_id, channel in subscribers:
        session.add(
            EventDeliveryRow(
                event_id=row.id,
                subscription_id=subscription_id,
                channel=channel,
                state="pending",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
            )
        )
    return row


def list_events(
    session: Session,
    *,
    after: int = 0,
    types: Sequence[str] | None = None,
    subject: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> EventsPage:
    """Events with an id above `after`, oldest first, at most `limit` (1 to 1000)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"limit must be 1 to {MAX_PAGE}, got {limit}")
    if after < 0:
        raise InvalidInputError(f"the cursor `after` must be 0 or an event id, got {after}")
    wanted = check_types(types)
    query = select(EventRow).where(EventRow.id > after)
    if wanted:
        query = query.where(EventRow.type.in_(wanted))
    if subject is not None:
        query = query.where(EventRow.subject == subject)
    if actor is not None:
        query = query.where(EventRow.actor == actor)
    rows = session.scalars(query.order_by(EventRow.id).limit(limit + 1)).all()
    more = len(rows) > limit
    events = [event_out(r) for r in rows[:limit]]
    return EventsPage(events=events, next_cursor=events[-1].id if events else after, has_more=more)


def latest_event_id(session: Session) -> int:
    """The id of the newest event in the outbox (0 when empty): where a newest-first page of
    `list_events` starts."""
    return int(session.scalar(select(func.max(EventRow.id))) or 0)
