"""The delivery queue: notifications wait in the store until their channel accepts them.

A failing channel never loses an alert: its delivery stays pending and is retried with doubling
waits (`MonitorSettings.delivery_backoff_seconds`) until `delivery_max_attempts`, then is kept as
failed. Sending happens outside any database transaction, in the scheduler, never in ingestion.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update

from vigil.errors import VigilError
from vigil.events.channels import get_sender, secret_values
from vigil.events.channels.definitions import Channel
from vigil.events.settings import MonitorSettings
from vigil.outbound import scrub
from vigil.store.core import Store
from vigil.store.monitor_tables import ChannelRow, DeliveryRow
from vigil.store.repositories import utcnow

logger = logging.getLogger("vigil.monitor")
MAX_WAIT = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=5)
"""How long a delivery being sent is reserved for the process sending it."""


@dataclass(frozen=True)
class DeliveryStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class Delivery(BaseModel):
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


def deliver_pending(
    store: Store,
    settings: MonitorSettings,
    *,
    now: dt.datetime | None = None,
    limit: int = 200,
) -> DeliveryStats:
    """Send the pending deliveries that are due; record each outcome."""
    now = now or utcnow()
    with store.session() as session:
        due = [
            (d.id, d.channel, dict(d.payload))
            for d in session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= now)
                .order_by(DeliveryRow.id)
                .limit(limit)
            ).all()
        ]
        channels = {r.name: dict(r.definition) for r in session.scalars(select(ChannelRow)).all()}
        session.rollback()
    sent = retrying = failed = 0
    for delivery_id, channel_name, payload in due:
        if not claim_due(store, DeliveryRow, delivery_id, now):
            continue  # another process took it
        error = _send(channels.get(channel_name), channel_name, payload, settings)
        with store.session() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None:  # its alert was deleted meanwhile
                continue
            outcome = record_attempt(row, error, now, settings)
            if outcome == "sent":
                sent += 1
            elif outcome == "failed":
                failed += 1
                logger.error("delivery %s to %s failed for good: %s", row.id, channel_name, error)
            else:
                retrying += 1
                logger.warning("delivery %s to %s failed: %s", row.id, channel_name, error)
            session.commit()
    return DeliveryStats(sent, retrying, failed)


def claim_due(store: Store, table: Any, delivery_id: int, now: dt.datetime) -> bool:
    """Take a due pending delivery (a row of `table`: alert deliveries, or event deliveries) for
    this process: push its next attempt past the lease, atomically, so that two schedulers (two
    server processes) never send it twice."""
    with store.session() as session:
        claimed = session.execute(
            update(table)
            .where(table.id == delivery_id, table.state == "pending", table.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return bool(getattr(claimed, "rowcount", 0) == 1)


Outcome = Literal["sent", "retrying", "failed"]


def record_attempt(
    row: Any, error: str | None, now: dt.datetime, settings: MonitorSettings
) -> Outcome:
    """Count one attempt on a delivery row (alert or event delivery): sent; or failed for good
    after `delivery_max_attempts`; or retrying, the next attempt after an exponential backoff of
    at most MAX_WAIT."""
    row.attempts += 1
    if error is None:
        row.state, row.sent_at, row.last_error = "sent", utcnow(), ""
        return "sent"
    row.last_error = error
    if row.attempts >= settings.delivery_max_attempts:
        row.state = "failed"
        return "failed"
    wait = dt.timedelta(seconds=settings.delivery_backoff_seconds * 2 ** (row.attempts - 1))
    row.next_attempt_at = now + min(wait, MAX_WAIT)
    return "retrying"


def _send(
    definition: dict[str, Any] | None,
    name: str,
    payload: dict[str, Any],
    settings: MonitorSettings,
) -> str | None:
    """Send one notification; the error (stored, listed by the API, logged) with the channel's
    secrets scrubbed from it."""
    if definition is None:
        return f"no channel named {name!r} is defined"
    try:
        channel = Channel.model_validate(definition)
    except ValueError:
        return f"channel {name!r} has a definition this version cannot read; apply it again"
    try:
        get_sender(channel.config.type).send(channel.config, payload, settings)
    except VigilError as exc:
        return scrub(exc.message, secret_values(channel.config))
    except Exception as exc:  # a channel's bug must not stop the other deliveries
        error = scrub(f"{type(exc).__name__}: {exc}", secret_values(channel.config))
        logger.error("channel %s raised %s", name, error)  # no traceback: it may hold a secret
        return error
    return None


def list_deliveries(store: Store, *, alert_id: int | None = None) -> list[Delivery]:
    with store.session() as session:
        query = select(DeliveryRow).order_by(DeliveryRow.id)
        if alert_id is not None:
            query = query.where(DeliveryRow.alert_id == alert_id)
        return [
            Delivery(
                id=d.id,
                alert_id=d.alert_id,
                channel=d.channel,
                event=d.event,
                state=d.state,
                attempts=d.attempts,
                last_error=d.last_error,
                created_at=d.created_at,
                sent_at=d.sent_at,
            )
            for d in session.scalars(query).all()
        ]
