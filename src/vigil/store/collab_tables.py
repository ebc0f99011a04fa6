"""Tables of collaboration and the model lifecycle (the `collab` migration branch).

`events` is the one outbox: registry changes, monitor changes and alert changes append one row in
the same transaction as the change, and its integer id is the cursor other systems page with.
`event_subscriptions` are webhooks that want some event types. `event_deliveries` is the one
delivery queue: one row per event and subscriber (a webhook subscription, or an alert channel a
monitor names), retried with one backoff until the receiver accepts it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base, UTCDateTime


class EventRow(Base):
    """One event for other systems (`model.version_created`, `alert.opened`, ...), never updated."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_id", "type", "id"),
        Index("ix_events_subject_id", "subject", "id"),
        Index("ix_events_actor_id", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    """What the event is about: a model name, or a monitor name for monitor changes."""
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventSubscriptionRow(Base):
    """A webhook receiving the events of some types (all when `types` is empty)."""

    __tablename__ = "event_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text, default="")
    types: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class EventDeliveryRow(Base):
    """One event to send to one subscriber: a webhook subscription (`subscription_id`) or an
    alert channel (`channel`, by name like monitors name it); pending ones are retried with
    doubling waits."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        Index("ix_event_deliveries_state_next", "state", "next_attempt_at"),
        CheckConstraint("(subscription_id IS NULL) <> (channel IS NULL)", name="one_subscriber"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_subscriptions.id", ondelete="CASCADE"), index=True, nullable=True
    )
    channel: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The notification as it was queued before alert notifications went through the outbox
    (revision 1510 moved them here); None for every later row, whose body is rendered from its
    event."""
