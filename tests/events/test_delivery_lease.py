"""A claimed delivery is a lease: it runs from the claim, another worker takes the delivery over
once it ran out, and the worker that outlived its lease records nothing."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from tests.monitor.conftest import settings, sqlite_store
from vigil.events.delivery import claim_due, deliver
from vigil.events.outbox import emit
from vigil.events.subscriptions import SubscriptionIn, create_subscription
from vigil.monitor import MonitorSettings
from vigil.store.collab_tables import EventDeliveryRow
from vigil.store.core import Store
from vigil.store.repositories import utcnow

__all__ = ["settings", "sqlite_store"]


def _one_delivery(store: Store, url: str, at: dt.datetime | None = None) -> int:
    policy = MonitorSettings(webhook_allow_loopback=True).outbound_policy()
    with store.session() as session:
        create_subscription(session, SubscriptionIn(name="all", url=url), actor="a", policy=policy)
        emit(session, "monitor.created", subject="m", actor="a", data={}, at=at)
        session.commit()
        return int(session.scalars(select(EventDeliveryRow.id)).one())


def _row(store: Store, delivery_id: int) -> EventDeliveryRow:
    with store.session() as session:
        row = session.get(EventDeliveryRow, delivery_id)
        assert row is not None
        session.expunge(row)
        return row


def test_the_lease_runs_from_the_claim_not_from_the_round(sqlite_store: Store) -> None:
    """A round that started long ago (its `now`) still reserves the delivery for a full lease."""
    long_ago = utcnow() - dt.timedelta(hours=2)
    delivery_id = _one_delivery(sqlite_store, "http://127.0.0.1:9/hook", at=long_ago)
    lease = dt.timedelta(minutes=10)
    held = claim_due(sqlite_store, delivery_id, long_ago + dt.timedelta(hours=1), lease=lease)
    assert held is not None
    assert held > utcnow() + lease / 2
    assert claim_due(sqlite_store, delivery_id, utcnow(), lease=lease) is None  # still held


def _slow_receiver(store: Store, first: int) -> ThreadingHTTPServer:
    """A receiver whose first answer (`first`) comes after another worker (the first sender's
    lease run out) sent the same delivery, answered 503: a sender that outlived its lease."""
    got: list[str] = []
    takeover = MonitorSettings(webhook_allow_loopback=True, delivery_lease_seconds=60)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            got.append(self.headers["X-Vigil-Delivery"])
            status = 503
            if len(got) == 1:
                assert deliver(store, takeover).retrying == 1
                status = first
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.got = got  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(("first", "recorded"), [(200, ("sent", 2)), (503, ("pending", 1))])
def test_a_sender_that_outlived_its_lease_records_its_success_not_its_failure(
    sqlite_store: Store, first: int, recorded: tuple[str, int]
) -> None:
    server = _slow_receiver(sqlite_store, first)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        delivery_id = _one_delivery(sqlite_store, url)
        short = MonitorSettings(webhook_allow_loopback=True, delivery_lease_seconds=1e-6)
        stats = deliver(sqlite_store, short)
        assert server.got == [str(delivery_id)] * 2  # type: ignore[attr-defined]
        assert (stats.sent, stats.retrying) == (int(first == 200), 0)
        row = _row(sqlite_store, delivery_id)
        assert (row.state, row.attempts) == recorded
    finally:
        server.shutdown()
        server.server_close()
