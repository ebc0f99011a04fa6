"""Secrets are write-only (issue 14, point 4): channel and subscription secrets never come back
from the API, the dashboard or the CLI (with a read or an admin token), nor appear in a delivery
error or a log line; writing back what was read keeps them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.monitor.receivers import http_receiver
from tests.server.conftest import auth, make_tokens
from tests.server.dashboard.conftest import sign_in
from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.events.channels import CHANNELS, redact_channel
from vigil.events.dispatch import deliver_events
from vigil.events.subscriptions import SubscriptionIn, create_subscription, list_deliveries
from vigil.monitor import Channel, Monitor, MonitorSettings
from vigil.server import Settings, create_app
from vigil.store.collab_tables import EventSubscriptionRow
from vigil.store.core import Store

SECRETS = {
    "path": "hookPATHkey0123",
    "query": "hookQUERYkey4567",
    "signing": "hookSIGNINGsecret89",
    "header": "headerBEARERsecret",
    "slack": "SLACKpathSECRETxyz",
    "routing": "pagerROUTINGkey42",
    "password": "smtpPASSWORDsecret",
    "userinfo": "urlUSERINFOpass",
    "sub_path": "subURLpathKEY77",
    "sub_signing": "subSIGNINGsecret",
}
CHANNEL_CONFIGS: dict[str, dict[str, Any]] = {
    "hook": {
        "type": "webhook",
        "url": f"https://ops:{SECRETS['userinfo']}@hooks.example.invalid/in/{SECRETS['path']}"
        f"?token={SECRETS['query']}",
        "secret": SECRETS["signing"],
        "headers": {"Authorization": f"Bearer {SECRETS['header']}"},
    },
    "slack": {
        "type": "slack",
        "url": f"https://hooks.slack.invalid/services/T0/B0/{SECRETS['slack']}",
    },
    "pd": {"type": "pagerduty", "routing_key": SECRETS["routing"]},
    "mail": {
        "type": "email",
        "host": "smtp.example.invalid",
        "sender": "vigil@example.com",
        "to": ["oncall@example.com"],
        "username": "vigil",
        "password": SECRETS["password"],
    },
}
SUBSCRIPTION = {
    "name": "deployer",
    "url": f"https://ci.example.invalid/hooks/{SECRETS['sub_path']}",
    "secret": SECRETS["sub_signing"],
    "types": [],
}


def _leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


def _stored_configs(store: Store) -> dict[str, dict[str, Any]]:
    return {c.name: c.config.model_dump(mode="json") for c in monitors.list_channels(store)}


def _app(store: Store) -> TestClient:
    settings = Settings(
        store_url="sqlite://",
        artifacts_url="x",
        monitor_scheduler=False,
        events_dispatcher=False,
        dashboard_warm_seconds=0,
        dashboard_page_budget=60,
    )
    return TestClient(create_app(settings, store=store))


def test_every_channel_kind_redacts_its_secrets() -> None:
    """The contract over the registry: a kind's `redact` leaves none of its secrets."""
    assert set(CHANNEL_CONFIGS[c]["type"] for c in CHANNEL_CONFIGS) == set(CHANNELS)
    for name, config in CHANNEL_CONFIGS.items():
        channel = Channel.model_validate({"name": name, "config": config})
        shown = redact_channel(channel).model_dump_json()
        assert _leaks(shown) == [], (name, shown)
        assert Channel.model_validate_json(shown).name == name  # still a valid channel


def test_no_route_page_or_command_shows_a_secret(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = make_tokens(sqlite_store)
    admin, read = auth(tokens[Scope.ADMIN]), auth(tokens[Scope.READ])
    bodies: list[str] = []
    with _app(sqlite_store) as api:
        for name, config in CHANNEL_CONFIGS.items():
            answer = api.put(
                f"/api/v1/channels/{name}", json={"name": name, "config": config}, headers=admin
            )
            assert answer.status_code == 200, answer.text
            bodies.append(answer.text)
        created = api.post("/api/v1/events/subscriptions", json=SUBSCRIPTION, headers=admin)
        assert created.status_code == 201, created.text
        bodies.append(created.text)
        monitor = {"name": "silence", "kind": "no_data", "target": {"model": "m"}}
        monitor["channels"] = list(CHANNEL_CONFIGS)
        put = api.put("/api/v1/monitors/silence", json=monitor, headers=admin)
        assert put.status_code == 200, put.text

        for headers in (read, admin):
            for path in (
                "/api/v1/channels",
                "/api/v1/events/subscriptions",
                "/api/v1/events/subscriptions/deployer",
                "/api/v1/events",
                "/api/v1/events/deliveries",
                "/api/v1/monitors",
            ):
                answer = api.get(path, headers=headers)
                assert answer.status_code == 200, (path, answer.text)
                bodies.append(answer.text)
        channels = api.get("/api/v1/channels", headers=read).json()
        hook = next(c for c in channels if c["name"] == "hook")["config"]
        assert hook["url"] == "https://hooks.example.invalid/***"
        assert (hook["secret"], hook["headers"]) == ("***set***", {"Authorization": "***set***"})
        mail = next(c for c in channels if c["name"] == "mail")["config"]
        assert (mail["password"], mail["username"]) == ("***set***", "vigil")
        subscription = api.get("/api/v1/events/subscriptions/deployer", headers=read).json()
        assert (subscription["url"], subscription["has_secret"]) == (
            "https://ci.example.invalid/***",
            True,
        )

        for token in (tokens[Scope.READ], tokens[Scope.ADMIN]):
            sign_in(api, token)
            for page in ("/ui/settings", "/ui/events"):
                answer = api.get(page)
                assert answer.status_code == 200, page
                bodies.append(answer.text)
            assert "hooks.example.invalid/***" in api.get("/ui/settings").text
            api.cookies.clear()

    where = ["--store", str(sqlite_store.engine.url), "--artifacts", sqlite_store.artifacts.url]
    for command in (
        ["events", "subscriptions"],
        ["events", "subscriptions", "--json"],
        ["events", "deliveries"],
        ["events", "list"],
        ["monitors", "list"],
    ):
        assert main([*command, *where]) == 0, command
        out = capsys.readouterr()
        bodies.append(out.out + out.err)
    assert "https://ci.example.invalid/***" in bodies[-5]

    assert [(i, _leaks(body)) for i, body in enumerate(bodies) if _leaks(body)] == []
    # What was written is what is stored (the redaction is only of what is shown).
    assert _stored_configs(sqlite_store)["hook"]["secret"] == SECRETS["signing"]


def test_writing_back_what_was_read_keeps_the_secrets(sqlite_store: Store) -> None:
    tokens = make_tokens(sqlite_store)
    admin = auth(tokens[Scope.ADMIN])
    with _app(sqlite_store) as api:
        for name, config in CHANNEL_CONFIGS.items():
            body = {"name": name, "config": config}
            assert api.put(f"/api/v1/channels/{name}", json=body, headers=admin).status_code == 200
        stored = _stored_configs(sqlite_store)
        shown = api.get("/api/v1/channels", headers=admin).json()
        for channel in shown:  # the redacted form, sent back as it is
            answer = api.put(f"/api/v1/channels/{channel['name']}", json=channel, headers=admin)
            assert answer.json()["action"] == "unchanged", answer.text
        # Secrets left out are kept; a changed header is changed, the others kept.
        hook = {"type": "webhook", "url": shown[0]["config"]["url"], "timeout": 9}
        assert shown[0]["name"] == "hook"
        answer = api.put(
            "/api/v1/channels/hook", json={"name": "hook", "config": hook}, headers=admin
        )
        assert answer.json()["fields"] == ["config"], answer.text
        mail = {**CHANNEL_CONFIGS["mail"]}
        del mail["password"]
        api.put("/api/v1/channels/mail", json={"name": "mail", "config": mail}, headers=admin)
        after = _stored_configs(sqlite_store)
        assert after["hook"] == {**stored["hook"], "timeout": 9.0}
        assert after["mail"] == stored["mail"]
        # A secret sent explicitly replaces the stored one.
        explicit = {**hook, "secret": None}
        api.put("/api/v1/channels/hook", json={"name": "hook", "config": explicit}, headers=admin)
        assert _stored_configs(sqlite_store)["hook"]["secret"] is None

        assert api.post("/api/v1/events/subscriptions", json=SUBSCRIPTION, headers=admin)
        read_back = api.get("/api/v1/events/subscriptions/deployer", headers=admin).json()
        update = {"name": "deployer", "url": read_back["url"], "types": [], "active": False}
        answer = api.put("/api/v1/events/subscriptions/deployer", json=update, headers=admin)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["has_secret"], answer.json()["active"]) == (True, False)
    with sqlite_store.session() as session:
        row = session.query(EventSubscriptionRow).one()
        assert (row.url, row.secret) == (SUBSCRIPTION["url"], SUBSCRIPTION["secret"])


def test_delivery_errors_and_logs_never_hold_a_secret(
    sqlite_store: Store,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A receiver answering 503, and a channel failing with an exception that quotes its URL:
    the stored errors, the API's delivery lists and the log name the host only."""
    settings = MonitorSettings(outbound_allow="127.0.0.0/8", delivery_backoff_seconds=0)
    policy = settings.outbound_policy()
    caplog.set_level(logging.DEBUG)
    with http_receiver() as receiver:
        base = receiver.url.removeprefix("http://").removesuffix("/hook")
        hook_url = (
            f"http://ops:{SECRETS['userinfo']}@{base}/in/{SECRETS['path']}?t={SECRETS['query']}"
        )
        hook = {"type": "webhook", "url": hook_url, "secret": SECRETS["signing"], "retries": 0}
        slack = {"type": "slack", "url": f"http://{base}/services/{SECRETS['slack']}"}
        for name, config in (("hook", hook), ("slack", slack)):
            monitors.save_channel(
                sqlite_store,
                Channel.model_validate({"name": name, "config": config}),
                policy=policy,
            )
        with sqlite_store.session() as session:
            spec = SubscriptionIn(
                name="ci", url=f"http://{base}/{SECRETS['sub_path']}", secret=SECRETS["sub_signing"]
            )
            create_subscription(session, spec, actor="ana", policy=policy)
        client = client_for(sqlite_store, tmp_path)
        create_model(client)
        log_hours(client, range(0, 1))
        client.close()
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {
                    "name": "silence",
                    "kind": "no_data",
                    "target": {"model": "m"},
                    "channels": ["hook", "slack"],
                }
            ),
        )
        monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)

        receiver.fail_next = 10
        # One worker: both channels and the subscription (monitor.created, alert.opened).
        first = monitors.deliver_pending(sqlite_store, settings)
        assert (first.sent, first.retrying) == (0, 4)

        def boom(self: Any, config: Any, payload: Any, settings: Any) -> None:
            raise RuntimeError(f"cannot post to {config.url} ({config.url.split('/')[-1]})")

        monkeypatch.setattr(type(CHANNELS["slack"]), "send", boom)
        assert deliver_events(sqlite_store, settings).retrying == 4

    errors = [d.last_error for d in monitors.list_deliveries(sqlite_store)]
    with sqlite_store.session() as session:
        errors += [d.last_error for d in list_deliveries(session)]
    assert any("HTTP 503" in e for e in errors), errors
    assert any("RuntimeError: cannot post to" in e for e in errors), errors
    assert any("failed" in r.getMessage() for r in caplog.records)
    assert [e for e in errors if _leaks(e)] == []
    assert _leaks(caplog.text) == [], caplog.text
