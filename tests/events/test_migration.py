"""Revision 1510 moves the alert notifications queued in `alert_deliveries` into the one delivery
queue: nothing accepted is lost, and a pending one still goes out as it was queued."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, text

from tests.monitor.receivers import http_receiver
from vigil import monitor as monitors
from vigil.events.delivery import deliver
from vigil.events.subscriptions import list_deliveries
from vigil.monitor import Channel, MonitorSettings
from vigil.store.core import Store
from vigil.store.db import (
    alembic_config,
    create_store_engine,
    current_revision,
    head_revision,
    upgrade,
)

T = dt.datetime(2026, 1, 5, 1)  # naive UTC, as the store keeps it on SQLite
QUEUED = {
    "id": 1,
    "monitor": "silence",
    "target": "m",
    "severity": "warning",
    "message": "no data arrived",
    "last_window_start": "2026-01-05T01:00:00Z",
    "details": {"rows": 0},
    "event": "trigger",
}


def _insert(connection, table: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    columns = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)


def _store_at_0500_with_notifications(url: str) -> None:
    engine = create_store_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # start from an empty schema
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine, "0500")
    times = {"created_at": T, "updated_at": T}
    with engine.begin() as c:
        _insert(c, "monitors", name="silence", definition="{}", **times)
        alert = {
            "monitor_id": 1,
            "monitor_name": "silence",
            "target": "m",
            "kind": "no_data",
            "severity": "warning",
            "state": "resolved",
            "message": "no data arrived",
            "first_window_start": T,
            "last_window_start": T,
            "n_windows": 1,
            "details": "{}",
            "opened_at": T,
            "updated_at": T,
        }
        _insert(c, "alerts", **alert)
        opened = json.dumps({"alert_id": 1, "monitor": "silence", "target": "m", "note": ""})
        _insert(c, "events", type="alert.opened", subject="m", actor="vigil", at=T, data=opened)
        subscription = {"url": "https://ci.example.com/h", "secret": "", "types": "[]"}
        _insert(
            c, "event_subscriptions", name="ci", active=True, created_by="", **subscription, **times
        )
        queue = {"attempts": 2, "next_attempt_at": T, "last_error": "HTTP 503", "created_at": T}
        _insert(c, "event_deliveries", event_id=1, subscription_id=1, state="pending", **queue)
        # A pending trigger (its alert.opened event exists) and a sent resolve queued before
        # the outbox had alert events (it has none).
        trigger = {"event": "trigger", "payload": json.dumps(QUEUED), "state": "pending"}
        resolve = {"event": "resolve", "payload": json.dumps({**QUEUED, "event": "resolve"})}
        _insert(c, "alert_deliveries", alert_id=1, channel="hook", **trigger, **queue)
        _insert(c, "alert_deliveries", alert_id=1, channel="hook", state="sent", **resolve, **queue)
    engine.dispose()


def test_queued_alert_notifications_move_to_the_one_queue(
    store_url: str, tmp_path: Path, settings: MonitorSettings
) -> None:
    _store_at_0500_with_notifications(store_url)
    store = Store.open(store_url, str(tmp_path / "artifacts"))  # upgrades to the head
    try:
        assert current_revision(store.engine) == head_revision()
        with store.session() as session:
            (kept,) = list_deliveries(session)
            assert (kept.id, kept.event_id, kept.subscription) == (1, 1, "ci")
            events = session.execute(text("SELECT id, type FROM events ORDER BY id")).all()
        # The resolve had no event: one is written for it, dated when it was queued.
        assert [tuple(e) for e in events] == [(1, "alert.opened"), (2, "alert.resolved")]
        moved = monitors.list_deliveries(store, alert_id=1)
        assert [(d.channel, d.event, d.state, d.attempts, d.last_error) for d in moved] == [
            ("hook", "trigger", "pending", 2, "HTTP 503"),
            ("hook", "resolve", "sent", 2, "HTTP 503"),
        ]
        assert monitors.list_deliveries(store, alert_id=2) == []

        with http_receiver() as receiver:
            channel = {"name": "hook", "config": {"type": "webhook", "url": receiver.url}}
            monitors.save_channel(
                store, Channel.model_validate(channel), policy=settings.outbound_policy()
            )
            with store.session() as session:  # the subscription's receiver is not reachable
                session.execute(text("UPDATE event_subscriptions SET active = :no"), {"no": False})
                session.execute(text("DELETE FROM event_deliveries WHERE subscription_id = 1"))
                session.commit()
            assert deliver(store, settings).sent == 1
            (received,) = receiver.requests
        assert received.json() == QUEUED  # as it was queued

        # Downgrading moves the notifications back, as they stand now.
        _downgrade(store.engine, "0500")
        with store.engine.connect() as connection:
            back = connection.execute(
                text("SELECT alert_id, channel, event, state, payload FROM alert_deliveries")
            ).all()
            left = connection.execute(text("SELECT count(*) FROM event_deliveries")).scalar()
        assert sorted((a, c, e, s) for a, c, e, s, _ in back) == [
            (1, "hook", "resolve", "sent"),
            (1, "hook", "trigger", "sent"),
        ]
        payloads = {e: p if isinstance(p, dict) else json.loads(p) for _, _, e, _, p in back}
        assert payloads["trigger"] == QUEUED
        assert left == 0
        upgrade(store.engine)
        assert len(monitors.list_deliveries(store, alert_id=1)) == 2
    finally:
        store.close()


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
