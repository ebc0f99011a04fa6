from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.monitor.receivers import http_receiver, smtp_receiver
from vigil import monitor as monitors
from vigil.events.channels import CHANNELS
from vigil.events.channels.pagerduty import dedup_key
from vigil.monitor import Channel, Monitor, MonitorSettings
from vigil.outbound import OutboundAddressError, check_url
from vigil.store.core import Store


def _silence(store: Store, tmp_path: Path, channels: list[str]) -> None:
    """A no_data monitor that fires on hour 1 (data in hour 0 only) and clears in hour 2."""
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 1))
    log_hours(client, range(2, 3))
    client.close()
    monitors.save_monitor(
        store,
        Monitor.model_validate(
            {"name": "silence", "kind": "no_data", "target": {"model": "m"}, "channels": channels}
        ),
    )


def test_every_registered_channel_has_a_config_model() -> None:
    assert set(CHANNELS) == {"webhook", "slack", "email", "pagerduty"}
    for name in CHANNELS:
        channel = Channel.model_validate({"name": "c", "config": {"type": name, **_minimal(name)}})
        assert type(channel.config) is CHANNELS[name].config
        assert channel.config.type == name
    with pytest.raises(ValueError, match="'sms'"):
        Channel.model_validate({"name": "c", "config": {"type": "sms", "url": "http://x"}})


def _minimal(name: str) -> dict[str, object]:
    """The fewest fields each kind needs."""
    minimal: dict[str, dict[str, object]] = {
        "webhook": {"url": "http://x"},
        "slack": {"url": "http://x"},
        "email": {"host": "h", "sender": "a@b", "to": ["c@d"]},
        "pagerduty": {"routing_key": "k"},
    }
    return minimal[name]


def test_webhook_is_signed_and_resolve_follows_trigger(
    sqlite_store: Store, tmp_path: Path, settings: MonitorSettings
) -> None:
    with http_receiver() as receiver:
        monitors.save_channel(
            sqlite_store,
            Channel.model_validate(
                {"name": "hook", "config": {"type": "webhook", "url": receiver.url, "secret": "s3"}}
            ),
            policy=settings.outbound_policy(),
        )
        _silence(sqlite_store, tmp_path, ["hook"])
        monitors.backfill(sqlite_store, T0, T0 + 3 * HOUR, now=T0 + 3 * HOUR)
        stats = monitors.deliver_pending(sqlite_store, settings)
        assert stats.sent == 2
        trigger, resolve = receiver.requests
    assert trigger.json()["event"] == "trigger"
    assert trigger.json()["monitor"] == "silence"
    assert trigger.json()["last_window_start"] == "2026-01-05T01:00:00Z"
    assert resolve.json()["event"] == "resolve"
    expected = hmac.new(b"s3", trigger.body, hashlib.sha256).hexdigest()
    assert trigger.headers["X-Vigil-Signature"] == f"sha256={expected}"


def test_a_failing_channel_keeps_the_alert_queued_until_it_succeeds(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = MonitorSettings(
        webhook_allow_loopback=True, delivery_backoff_seconds=60, delivery_max_attempts=5
    )
    with http_receiver() as receiver:
        monitors.save_channel(
            sqlite_store,
            Channel.model_validate(
                {"name": "hook", "config": {"type": "webhook", "url": receiver.url, "retries": 0}}
            ),
            policy=settings.outbound_policy(),
        )
        _silence(sqlite_store, tmp_path, ["hook"])
        monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
        receiver.fail_next = 2
        now = dt.datetime.now(dt.UTC)
        assert monitors.deliver_pending(sqlite_store, settings, now=now).retrying == 1
        # Not due yet: the retry waits 60 s, then 120 s.
        assert monitors.deliver_pending(sqlite_store, settings, now=now).retrying == 0
        later = now + dt.timedelta(seconds=61)
        assert monitors.deliver_pending(sqlite_store, settings, now=later).retrying == 1
        even_later = later + dt.timedelta(seconds=121)
        assert monitors.deliver_pending(sqlite_store, settings, now=even_later).sent == 1
        assert len(receiver.requests) == 1
    (delivery,) = monitors.list_deliveries(sqlite_store)
    assert delivery.state == "sent"
    assert delivery.attempts == 3


def test_loopback_and_private_addresses_are_refused_unless_allowed() -> None:
    strict = MonitorSettings().outbound_policy()
    with pytest.raises(OutboundAddressError, match="loopback"):
        check_url("http://127.0.0.1:9/x", strict)
    with pytest.raises(OutboundAddressError, match="private"):
        check_url("http://10.1.2.3/x", strict)
    check_url(
        "http://127.0.0.1:9/x", MonitorSettings(webhook_allow_loopback=True).outbound_policy()
    )
    check_url("http://10.1.2.3/x", MonitorSettings(webhook_allow_private=True).outbound_policy())
    check_url("http://10.1.2.3/x", MonitorSettings(outbound_allow="10.1.0.0/16").outbound_policy())


def test_refused_address_stays_pending_with_the_reason(sqlite_store: Store, tmp_path: Path) -> None:
    """An address allowed when configured and refused by the policy in force at delivery."""
    allowed = MonitorSettings(webhook_allow_loopback=True).outbound_policy()
    monitors.save_channel(
        sqlite_store,
        Channel.model_validate(
            {"name": "hook", "config": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}
        ),
        policy=allowed,
    )
    _silence(sqlite_store, tmp_path, ["hook"])
    monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
    assert monitors.deliver_pending(sqlite_store, MonitorSettings()).retrying == 1
    (delivery,) = monitors.list_deliveries(sqlite_store)
    assert delivery.state == "pending"
    assert "loopback" in delivery.last_error


def test_slack_pagerduty_and_email(
    sqlite_store: Store, tmp_path: Path, settings: MonitorSettings
) -> None:
    with http_receiver() as slack, http_receiver() as pagerduty, smtp_receiver() as smtp:
        for name, config in (
            ("slack", {"type": "slack", "url": slack.url}),
            ("pd", {"type": "pagerduty", "routing_key": "rk", "url": pagerduty.url}),
            (
                "mail",
                {
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "sender": "vigil@example.com",
                    "to": ["oncall@example.com"],
                },
            ),
        ):
            monitors.save_channel(
                sqlite_store,
                Channel.model_validate({"name": name, "config": config}),
                policy=settings.outbound_policy(),
            )
        _silence(sqlite_store, tmp_path, ["slack", "pd", "mail"])
        monitors.backfill(sqlite_store, T0, T0 + 3 * HOUR, now=T0 + 3 * HOUR)
        assert monitors.deliver_pending(sqlite_store, settings).sent == 6
        texts = [r.json()["text"] for r in slack.requests]
        events = [r.json() for r in pagerduty.requests]
        mails = list(smtp.messages)
    assert texts[0].startswith("[WARNING] silence on m: no data arrived")
    assert texts[1].startswith("[RESOLVED] silence on m")
    assert [e["event_action"] for e in events] == ["trigger", "resolve"]
    assert events[0]["dedup_key"] == events[1]["dedup_key"]
    assert events[0]["routing_key"] == "rk"
    assert events[0]["payload"]["severity"] == "warning"
    assert dedup_key({"id": 1}) == "vigil-alert-1"
    assert mails[0]["To"] == "oncall@example.com"
    assert "no data arrived" in mails[0]["Subject"]
    assert "RESOLVED" in mails[1]["Subject"]


def test_two_schedulers_never_send_a_delivery_twice(
    store: Store, tmp_path: Path, settings: MonitorSettings
) -> None:
    import threading

    with http_receiver() as receiver:
        monitors.save_channel(
            store,
            Channel.model_validate(
                {"name": "hook", "config": {"type": "webhook", "url": receiver.url}}
            ),
            policy=settings.outbound_policy(),
        )
        _silence(store, tmp_path, ["hook"])
        monitors.backfill(store, T0, T0 + 3 * HOUR, now=T0 + 3 * HOUR)
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def deliver() -> None:
            barrier.wait()
            try:
                monitors.deliver_pending(store, settings)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(r.json()["event"] for r in receiver.requests) == ["resolve", "trigger"]
