"""One notification pipeline: each alert change is one event in the outbox and one delivery per
subscriber (webhook subscriptions that want its type, the monitor's channels when it is notified),
sent by one worker with one retry policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.monitor.receivers import http_receiver
from vigil import monitor as monitors
from vigil.errors import InvalidInputError
from vigil.events.delivery import RetryPolicy, deliver
from vigil.events.outbox import emit, latest_event_id
from vigil.events.subscriptions import SubscriptionIn, create_subscription
from vigil.monitor import Channel, Monitor, MonitorSettings
from vigil.monitor.alerts import acknowledge, get_alert, list_alerts
from vigil.store.collab_tables import EventDeliveryRow, EventRow, EventSubscriptionRow
from vigil.store.core import Store


def _subscribe(store: Store, name: str, url: str, types: list[str], active: bool = True) -> None:
    policy = MonitorSettings(webhook_allow_loopback=True).outbound_policy()
    with store.session() as session:
        spec = SubscriptionIn(name=name, url=url, types=types, active=active)
        create_subscription(session, spec, actor="ana", policy=policy)


def _channel(store: Store, name: str, url: str) -> None:
    policy = MonitorSettings(webhook_allow_loopback=True).outbound_policy()
    config = {"type": "webhook", "url": url}
    monitors.save_channel(
        store, Channel.model_validate({"name": name, "config": config}), policy=policy
    )


def _silence(store: Store, tmp_path: Path, channels: list[str], hours: range) -> None:
    """A no_data monitor on model m with data in `hours` (it opens on an hour without data)."""
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, hours)
    client.close()
    monitor = {"name": "silence", "kind": "no_data", "target": {"model": "m"}, "channels": channels}
    monitors.save_monitor(store, Monitor.model_validate(monitor))


def _last_event(store: Store) -> int:
    with store.session() as session:
        latest = latest_event_id(session)
        assert latest == max(session.scalars(select(EventRow.id)).all(), default=0)
        return latest


def _written(store: Store, after: int) -> list[tuple[str, list[str]]]:
    """The events after `after`, each with the subscribers of its delivery rows."""
    with store.session() as session:
        events = session.scalars(select(EventRow).where(EventRow.id > after).order_by(EventRow.id))
        written = []
        for event in events:
            rows = session.execute(
                select(EventDeliveryRow, EventSubscriptionRow.name)
                .outerjoin(
                    EventSubscriptionRow,
                    EventSubscriptionRow.id == EventDeliveryRow.subscription_id,
                )
                .where(EventDeliveryRow.event_id == event.id)
            ).all()
            names = sorted(name or f"channel {d.channel}" for d, name in rows)
            written.append((event.type, names))
        return written


def test_each_alert_change_is_one_event_and_one_delivery_per_subscriber(
    sqlite_store: Store, tmp_path: Path
) -> None:
    assert _last_event(sqlite_store) == 0
    url = "https://hooks.example.com/in"
    _subscribe(sqlite_store, "all", url, [])
    _subscribe(sqlite_store, "alerts", url, ["alert.opened", "alert.resolved"])
    _subscribe(sqlite_store, "registry", url, ["model.alias_moved"])
    _subscribe(sqlite_store, "paused", url, [], active=False)
    _channel(sqlite_store, "hook", url)
    _channel(sqlite_store, "team", url)
    # Data in hours 0, 2 and 4: the alert opens on hour 1, resolves on 2, reopens on 3 (within
    # the cooldown: not notified) and resolves on 4.
    _silence(sqlite_store, tmp_path, ["hook", "team"], range(0, 5, 2))
    notified = ["alerts", "all", "channel hook", "channel team"]

    cursor = _last_event(sqlite_store)
    monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
    assert _written(sqlite_store, cursor) == [("alert.opened", notified)]

    cursor = _last_event(sqlite_store)
    with sqlite_store.session() as session:
        (alert,) = list_alerts(session)
        acknowledge(session, alert.id, "ana", "looking")
    assert _written(sqlite_store, cursor) == [("alert.acknowledged", ["all"])]

    cursor = _last_event(sqlite_store)
    monitors.backfill(sqlite_store, T0 + 2 * HOUR, T0 + 3 * HOUR, now=T0 + 3 * HOUR)
    assert _written(sqlite_store, cursor) == [("alert.resolved", notified)]

    # Within the cooldown the change is still an event, but no channel is notified of it.
    cursor = _last_event(sqlite_store)
    monitors.backfill(sqlite_store, T0 + 3 * HOUR, T0 + 5 * HOUR, now=T0 + 5 * HOUR)
    assert _written(sqlite_store, cursor) == [
        ("alert.opened", ["alerts", "all"]),
        ("alert.resolved", ["alerts", "all"]),
    ]


def test_a_channel_receives_the_alert_as_the_api_shows_it(
    sqlite_store: Store, tmp_path: Path, settings: MonitorSettings
) -> None:
    with http_receiver() as receiver:
        _channel(sqlite_store, "hook", receiver.url)
        _silence(sqlite_store, tmp_path, ["hook"], range(0, 1))
        monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
        assert deliver(sqlite_store, settings).sent == 1
        (received,) = receiver.requests
    with sqlite_store.session() as session:
        (alert,) = list_alerts(session)
        shown = get_alert(session, alert.id).model_dump(mode="json")
    assert received.json() == {**shown, "history": [], "event": "trigger"}
    assert received.json()["last_window_start"] == "2026-01-05T01:00:00Z"


def test_a_failing_webhook_and_a_failing_channel_back_off_the_same_way(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = MonitorSettings(
        webhook_allow_loopback=True, delivery_backoff_seconds=60, delivery_max_attempts=3
    )
    with http_receiver() as receiver:
        _subscribe(sqlite_store, "ci", receiver.url, ["alert.opened"])
        _channel(sqlite_store, "hook", receiver.url)
        _silence(sqlite_store, tmp_path, ["hook"], range(0, 1))
        monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
        receiver.fail_next = 100
        now = dt.datetime.now(dt.UTC)
        rounds = [
            (now, (0, 2, 0)),
            (now + dt.timedelta(seconds=59), (0, 0, 0)),  # not due: the first wait is 60 s
            (now + dt.timedelta(seconds=60), (0, 2, 0)),
            (now + dt.timedelta(seconds=179), (0, 0, 0)),  # the second is 120 s
            (now + dt.timedelta(seconds=180), (0, 0, 2)),  # the third attempt is the last
        ]
        seen = []
        for at, expected in rounds:
            stats = deliver(sqlite_store, settings, now=at)
            assert (stats.sent, stats.retrying, stats.failed) == expected, at
            with sqlite_store.session() as session:
                rows = session.scalars(select(EventDeliveryRow).order_by(EventDeliveryRow.id))
                seen.append(
                    {
                        "channel" if r.channel else "subscription": (
                            r.state,
                            r.attempts,
                            r.next_attempt_at,
                            r.last_error,
                        )
                        for r in rows
                    }
                )
        # One request per attempt: the webhook channel does not retry inside an attempt.
        assert receiver.fail_next == 100 - 3 * 2
        assert receiver.requests == []
    for state in seen:
        assert state["channel"] == state["subscription"]
    assert seen[0]["channel"][:3] == ("pending", 1, now + dt.timedelta(seconds=60))
    assert seen[-1]["channel"][:2] == ("failed", 3)
    assert seen[-1]["channel"][3].startswith("POST to 127.0.0.1 failed: HTTP 503")


def test_the_retry_policy_doubles_up_to_an_hour() -> None:
    policy = RetryPolicy.of(MonitorSettings(delivery_backoff_seconds=30, delivery_max_attempts=12))
    waits = [policy.wait(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_only_alert_openings_and_resolutions_go_to_channels(sqlite_store: Store) -> None:
    with sqlite_store.session() as session:
        with pytest.raises(InvalidInputError, match="alert channels receive"):
            emit(
                session,
                "alert.acknowledged",
                subject="m",
                actor="ana",
                data={},
                channels=["hook"],
            )
        session.rollback()


def test_a_delivery_to_a_channel_that_is_gone_stays_queued_with_the_reason(
    sqlite_store: Store, tmp_path: Path, settings: MonitorSettings
) -> None:
    _channel(sqlite_store, "hook", "https://hooks.example.com/in")
    _silence(sqlite_store, tmp_path, ["hook"], range(0, 1))
    monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
    monitors.delete_channel(sqlite_store, "hook")
    assert deliver(sqlite_store, settings).retrying == 1
    (delivery,) = monitors.list_deliveries(sqlite_store)
    assert (delivery.state, delivery.event, delivery.channel) == ("pending", "trigger", "hook")
    assert delivery.last_error == "no channel named 'hook' is defined"
