"""Sending queued events to their webhooks, with the alert webhooks' signing and POST through the
outbound address policy (`vigil.events.channels`, `vigil.outbound`), and their retry policy: a failed delivery waits
`delivery_backoff_seconds * 2**(attempts-1)` (at most an hour) and is kept as `failed` after
`delivery_max_attempts`. Nothing is sent inside a database transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select

from vigil.errors import VigilError
from vigil.events.channels.base import post
from vigil.events.channels.webhook import SIGNATURE_HEADER, sign
from vigil.events.delivery import claim_due, record_attempt
from vigil.events.outbox import event_out
from vigil.events.settings import MonitorSettings
from vigil.outbound import scrub
from vigil.store.collab_tables import EventDeliveryRow, EventRow, EventSubscriptionRow
from vigil.store.core import Store
from vigil.store.repositories import utcnow

logger = logging.getLogger("vigil.events")
TIMEOUT_SECONDS = 10.0
EVENT_HEADER = "X-Vigil-Event"
DELIVERY_HEADER = "X-Vigil-Delivery"


@dataclass(frozen=True)
class DispatchStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def body_of(event: EventRow) -> bytes:
    """The JSON body a webhook receives: the event as `GET /api/v1/events` lists it."""
    return json.dumps(event_out(event).model_dump(mode="json"), sort_keys=True).encode()


def deliver_events(
    store: Store, settings: MonitorSettings, *, now: dt.datetime | None = None, limit: int = 200
) -> DispatchStats:
    """Send the due pending deliveries, oldest event first; record each outcome."""
    now = now or utcnow()
    with store.session() as session:
        due = [
            (d.id, s.url, s.secret, e.type, body_of(e))
            for d, s, e in session.execute(
                select(EventDeliveryRow, EventSubscriptionRow, EventRow)
                .join(
                    EventSubscriptionRow,
                    EventSubscriptionRow.id == EventDeliveryRow.subscription_id,
                )
                .join(EventRow, EventRow.id == EventDeliveryRow.event_id)
                .where(EventDeliveryRow.state == "pending", EventDeliveryRow.next_attempt_at <= now)
                .order_by(EventDeliveryRow.event_id, EventDeliveryRow.id)
                .limit(limit)
            ).all()
        ]
        session.rollback()
    policy = settings.outbound_policy()
    sent = retrying = failed = 0
    for delivery_id, url, secret, type_, body in due:
        if not claim_due(store, EventDeliveryRow, delivery_id, now):
            continue  # another process took it
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: type_,
            DELIVERY_HEADER: str(delivery_id),
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        error: str | None = None
        try:
            post(url, body, headers, policy, timeout=TIMEOUT_SECONDS, retries=0)
        except VigilError as exc:
            error = scrub(exc.message, [url, secret])
        except Exception as exc:  # one receiver's failure must not stop the others
            error = scrub(f"{type(exc).__name__}: {exc}", [url, secret])
            logger.error("event delivery %s raised %s", delivery_id, error)  # no traceback
        with store.session() as session:
            row = session.get(EventDeliveryRow, delivery_id)
            if row is None:  # its subscription was deleted meanwhile
                continue
            outcome = record_attempt(row, error, now, settings)
            if outcome == "sent":
                sent += 1
            elif outcome == "failed":
                failed += 1
                logger.error("event delivery %s failed for good: %s", delivery_id, error)
            else:
                retrying += 1
                logger.warning("event delivery %s failed: %s", delivery_id, error)
            session.commit()
    return DispatchStats(sent, retrying, failed)


class Dispatcher:
    """Runs `deliver_events` every `interval` seconds in a daemon thread until `stop`."""

    def __init__(self, store: Store, settings: MonitorSettings, interval: float) -> None:
        self.store = store
        self.settings = settings
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vigil-events", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_events(self.store, self.settings)
            except Exception:  # keep running: the store may be back at the next round
                logger.exception("event dispatch failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


class EventSettings(BaseSettings):
    """The server's event dispatcher (VIGIL_* environment variables). Addresses, attempts and
    backoff follow `MonitorSettings`, the same as alert deliveries."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_", extra="ignore", frozen=True)

    events_dispatcher: bool = Field(
        default=True, description="Send events to subscribed webhooks from inside the server."
    )
    events_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often the server sends pending event deliveries."
    )
