"""Webhook subscriptions to events: create, change, list, delete (and their deliveries).

A subscription names the event types it wants (none: all of them), a URL and an optional secret;
each delivery is signed like an alert webhook (`X-Vigil-Signature: sha256=<HMAC-SHA256 of the
body>`). The URL passes the outbound address policy when it is configured and again, pinned, when
each delivery is sent. The secret and the URL's path and query are write-only: shown back as
`has_secret` and a masked URL; an update that leaves them out (or sends the masked URL back)
keeps them.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import ConflictError, InvalidInputError, NotFoundError
from vigil.events.outbox import check_types
from vigil.outbound import OutboundPolicy, check_url, mask_url
from vigil.store.collab_tables import EventDeliveryRow, EventSubscriptionRow
from vigil.store.repositories import utcnow

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"


class SubscriptionIn(BaseModel):
    """A webhook subscription as a client sends it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    url: str = Field(pattern=r"^https?://", max_length=2000)
    secret: str = Field(default="", max_length=500)
    types: list[str] = Field(default_factory=list, max_length=50)
    active: bool = True


class Subscription(BaseModel):
    """A stored subscription; the secret is never shown back, only whether there is one, and the
    URL only with its path and query masked (they may hold a key)."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    url: str
    has_secret: bool
    types: list[str]
    active: bool
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class EventDelivery(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    event_id: int
    subscription: str
    state: str
    attempts: int
    last_error: str
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None


def _out(row: EventSubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        name=row.name,
        url=mask_url(row.url),
        has_secret=bool(row.secret),
        types=list(row.types),
        active=row.active,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _find(session: Session, name: str) -> EventSubscriptionRow | None:
    return session.scalars(
        select(EventSubscriptionRow).where(EventSubscriptionRow.name == name)
    ).one_or_none()


def _get(session: Session, name: str) -> EventSubscriptionRow:
    row = _find(session, name)
    if row is None:
        known = session.scalars(select(EventSubscriptionRow.name).order_by("name")).all()
        raise NotFoundError(
            f"no event subscription named {name!r} (subscriptions: {', '.join(known) or 'none'})",
            name=name,
        )
    return row


def create_subscription(
    session: Session, spec: SubscriptionIn, *, actor: str, policy: OutboundPolicy
) -> Subscription:
    """Subscribe a webhook; ConflictError when the name is taken, OutboundAddressError when its
    address is refused by `policy`. Commits."""
    check_types(spec.types)
    check_url(spec.url, policy)
    if _find(session, spec.name) is not None:
        raise ConflictError(
            f"an event subscription named {spec.name!r} exists; update or delete it",
            name=spec.name,
        )
    now = utcnow()
    row = EventSubscriptionRow(
        name=spec.name,
        url=spec.url,
        secret=spec.secret,
        types=list(spec.types),
        active=spec.active,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.commit()
    return _out(row)


def update_subscription(
    session: Session, name: str, spec: SubscriptionIn, *, policy: OutboundPolicy
) -> Subscription:
    """Replace a subscription's URL, secret, types and active flag (its name stays); a secret
    left out and a URL sent back masked keep their stored values. Commits."""
    check_types(spec.types)
    if spec.name != name:
        raise InvalidInputError(
            f"the body names subscription {spec.name!r} but the path names {name!r}"
        )
    row = _get(session, name)
    url = row.url if spec.url == mask_url(row.url) else spec.url
    check_url(url, policy)
    row.url, row.types, row.active = url, list(spec.types), spec.active
    if "secret" in spec.model_fields_set:
        row.secret = spec.secret
    row.updated_at = utcnow()
    session.commit()
    return _out(row)


def get_subscription(session: Session, name: str) -> Subscription:
    return _out(_get(session, name))


def list_subscriptions(session: Session) -> list[Subscription]:
    rows = session.scalars(select(EventSubscriptionRow).order_by(EventSubscriptionRow.name))
    return [_out(r) for r in rows]


def delete_subscription(session: Session, name: str) -> None:
    """Remove a subscription and its queued deliveries. Commits."""
    session.delete(_get(session, name))
    session.commit()


def list_deliveries(
    session: Session, *, subscription: str | None = None, limit: int = 100
) -> list[EventDelivery]:
    """The latest deliveries, newest first (of one subscription when named)."""
    query = select(EventDeliveryRow, EventSubscriptionRow.name).join(
        EventSubscriptionRow, EventSubscriptionRow.id == EventDeliveryRow.subscription_id
    )
    if subscription is not None:
        query = query.where(EventSubscriptionRow.id == _get(session, subscription).id)
    rows = session.execute(query.order_by(EventDeliveryRow.id.desc()).limit(limit)).all()
    return [
        EventDelivery(
            id=d.id,
            event_id=d.event_id,
            subscription=name,
            state=d.state,
            attempts=d.attempts,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at,
            sent_at=d.sent_at,
        )
        for d, name in rows
    ]
