"""The one delivery worker and its one retry policy.

Every subscriber of the outbox (webhook subscriptions, alert channels) is sent to here: `deliver`
sends the due pending deliveries, oldest event first, each claimed before it is sent so that two
processes never send it twice, and each outcome recorded by `RetryPolicy`. A claim is a lease
(`delivery_lease_seconds`, longer than any send takes): a delivery whose sender died is sent by
another process once its lease ran out. A sender that outlived its lease records its success (the
receiver has the delivery), not its failure (the process that took it over owns the outcome). A failed delivery
waits `delivery_backoff_seconds * 2**(attempts-1)` (at most an hour) and is kept as `failed`
with its last error after `delivery_max_attempts`: nothing accepted is lost while it waits.
Sending happens outside any database transaction, never in ingestion.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from vigil.errors import VigilError
from vigil.events.outbox import CHANNEL_EVENTS
from vigil.events.settings import MonitorSettings
from vigil.events.subscribers import Subscriber, subscriber
from vigil.outbound import scrub
from vigil.store.collab_tables import EventDeliveryRow, EventRow, EventSubscriptionRow
from vigil.store.core import Store
from vigil.store.monitor_tables import ChannelRow
from vigil.store.repositories import utcnow

logger = logging.getLogger("vigil.events")
MAX_WAIT = dt.timedelta(hours=1)

Outcome = Literal["sent", "retrying", "failed"]


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed delivery is tried again, and when it is given up: the same for every
    subscriber."""

    max_attempts: int
    backoff: dt.timedelta
    max_wait: dt.timedelta = MAX_WAIT

    @classmethod
    def of(cls, settings: MonitorSettings) -> RetryPolicy:
        return cls(
            settings.delivery_max_attempts, dt.timedelta(seconds=settings.delivery_backoff_seconds)
        )

    def wait(self, attempts: int) -> dt.timedelta:
        """The wait after the `attempts`-th failed attempt: doubling, at most `max_wait`."""
        factor: int = 2 ** (attempts - 1)
        return min(self.backoff * factor, self.max_wait)

    def record(self, row: EventDeliveryRow, error: str | None, now: dt.datetime) -> Outcome:
        """Count one attempt on a delivery: sent; or failed for good after `max_attempts`; or
        retrying, the next attempt after `wait`."""
        row.attempts += 1
        if error is None:
            row.state, row.sent_at, row.last_error = "sent", utcnow(), ""
            return "sent"
        row.last_error = error
        if row.attempts >= self.max_attempts:
            row.state = "failed"
            return "failed"
        row.next_attempt_at = now + self.wait(row.attempts)
        return "retrying"


def record_attempt(
    row: EventDeliveryRow, error: str | None, now: dt.datetime, settings: MonitorSettings
) -> Outcome:
    """`RetryPolicy.record` with the policy of `settings`."""
    return RetryPolicy.of(settings).record(row, error, now)


@dataclass(frozen=True)
class DeliveryStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def _due(store: Store, now: dt.datetime, limit: int) -> list[tuple[int, Subscriber]]:
    """The due pending deliveries, oldest event first, each with its subscriber."""
    with store.read_session() as session:
        rows = session.execute(
            select(EventDeliveryRow, EventRow, EventSubscriptionRow)
            .join(EventRow, EventRow.id == EventDeliveryRow.event_id)
            .outerjoin(
                EventSubscriptionRow, EventSubscriptionRow.id == EventDeliveryRow.subscription_id
            )
            .where(EventDeliveryRow.state == "pending", EventDeliveryRow.next_attempt_at <= now)
            .order_by(EventDeliveryRow.event_id, EventDeliveryRow.id)
            .limit(limit)
        ).all()
        names = {d.channel for d, _, _ in rows if d.channel is not None}
        channels = {
            r.name: dict(r.definition)
            for r in session.scalars(select(ChannelRow).where(ChannelRow.name.in_(names)))
        }
        due = [(d.id, subscriber(d, e, s, channels)) for d, e, s in rows]
        session.rollback()  # end the read transaction before anything is sent
    return due


def deliver(
    store: Store, settings: MonitorSettings, *, now: dt.datetime | None = None, limit: int = 200
) -> DeliveryStats:
    """Send the due pending deliveries to every kind of subscriber; record each outcome."""
    now = now or utcnow()
    policy = RetryPolicy.of(settings)
    lease = dt.timedelta(seconds=settings.delivery_lease_seconds)
    sent = retrying = failed = 0
    for delivery_id, target in _due(store, now, limit):
        # The lease runs from the claim, not from the start of the round: sends before it in
        # this round may have taken longer than a lease.
        held_until = claim_due(store, delivery_id, now, lease=lease)
        if held_until is None:
            continue  # another process took it
        error = _send(target, settings)
        with store.session() as session:
            row = session.scalars(
                select(EventDeliveryRow)
                .where(EventDeliveryRow.id == delivery_id, EventDeliveryRow.state == "pending")
                .with_for_update()
            ).first()
            if row is None:  # its subscription was deleted, or another process sent it
                continue
            if error is not None and row.next_attempt_at != held_until:
                # Our lease ran out and another process took the delivery over: its outcome
                # counts. (A success is recorded all the same: the receiver has it.)
                logger.warning(
                    "delivery %s to %s failed after its lease ran out: %s",
                    delivery_id,
                    target.label,
                    error,
                )
                continue
            outcome = policy.record(row, error, now)
            if outcome == "sent":
                sent += 1
            elif outcome == "failed":
                failed += 1
                logger.error("delivery %s to %s failed for good: %s", row.id, target.label, error)
            else:
                retrying += 1
                logger.warning("delivery %s to %s failed: %s", row.id, target.label, error)
            session.commit()
    return DeliveryStats(sent, retrying, failed)


deliver_pending = deliver
"""The name alert deliveries were sent by (the scheduler, `vigil monitors run`)."""


def _send(target: Subscriber, settings: MonitorSettings) -> str | None:
    """Send one delivery; the error (stored, listed by the API, logged) with the subscriber's
    secrets scrubbed from it."""
    try:
        target.send(settings)
    except VigilError as exc:
        return scrub(exc.message, target.secrets)
    except Exception as exc:  # one receiver's failure must not stop the others
        error = scrub(f"{type(exc).__name__}: {exc}", target.secrets)
        logger.error("%s raised %s", target.label, error)  # no traceback: it may hold a secret
        return error
    return None


def claim_due(
    store: Store, delivery_id: int, now: dt.datetime, *, lease: dt.timedelta
) -> dt.datetime | None:
    """Take a due pending delivery for this process: push its next attempt past the lease,
    atomically, so that two workers (two server processes) never send it at once. Returns the
    end of the lease (the claim's token: a failure is recorded only while the delivery still
    has it), or None when the delivery was not due or another process took it."""
    held_until = max(now, utcnow()) + lease
    with store.session() as session:
        claimed = session.execute(
            update(EventDeliveryRow)
            .where(
                EventDeliveryRow.id == delivery_id,
                EventDeliveryRow.state == "pending",
                EventDeliveryRow.next_attempt_at <= now,
            )
            .values(next_attempt_at=held_until)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return held_until if getattr(claimed, "rowcount", 0) == 1 else None


class Delivery(BaseModel):
    """A notification of an alert to a channel, as `vigil.monitors.list_deliveries` lists it."""

    model_config = ConfigDict(frozen=True)

    id: int
    alert_id: int
    channel: str
    event: str
    state: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


def list_deliveries(store: Store, *, alert_id: int | None = None) -> list[Delivery]:
    """The deliveries to alert channels, oldest first (of one alert when given)."""
    with store.read_session() as session:
        query = (
            select(EventDeliveryRow, EventRow.type, EventRow.data)
            .join(EventRow, EventRow.id == EventDeliveryRow.event_id)
            .where(EventDeliveryRow.channel.is_not(None))
            .order_by(EventDeliveryRow.id)
        )
        if alert_id is not None:
            query = query.where(EventRow.data["alert_id"].as_integer() == alert_id)
        return [_delivery_out(d, type_, data) for d, type_, data in session.execute(query).all()]


def _delivery_out(row: EventDeliveryRow, type_: str, data: dict[str, Any]) -> Delivery:
    return Delivery(
        id=row.id,
        alert_id=int(data.get("alert_id", 0)),
        channel=row.channel or "",
        event=CHANNEL_EVENTS.get(type_, type_),
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
