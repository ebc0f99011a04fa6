"""Events for other systems: the outbox with a cursor, and signed, retried webhook deliveries to
a real HTTP receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.collab.conftest import auth, upload_version
from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.monitor.receivers import http_receiver
from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.errors import ConflictError, InvalidInputError
from vigil.events.dispatch import deliver_events
from vigil.events.outbox import list_events
from vigil.events.subscriptions import SubscriptionIn, create_subscription, list_deliveries
from vigil.monitor import Monitor, MonitorSettings
from vigil.registry import Registry
from vigil.store.core import Store

LOOPBACK = MonitorSettings(webhook_allow_loopback=True, delivery_backoff_seconds=0)


def _types(store: Store, after: int = 0) -> list[tuple[str, str, str]]:
    with store.session() as session:
        page = list_events(session, after=after, limit=1000)
    return [(e.type, e.subject, e.actor) for e in page.events]


def test_registry_changes_are_events_in_the_same_transaction(
    store: Store, model_file: Path
) -> None:
    alice, bob = Registry(store, actor="alice"), Registry(store, actor="bob")
    alice.register("churn", model_file)
    bob.register("churn", model_file)
    alice.set_alias("churn", "production", 1)
    bob.set_alias("churn", "production", 2)
    alice.retire_version("churn", 1)
    # Refused changes leave no event: the transaction that would have written it rolled back.
    with pytest.raises(ConflictError):
        bob.set_alias("churn", "staging", 1)
    with pytest.raises(ConflictError):
        bob.retire_version("churn", 2)
    assert _types(store) == [
        ("model.version_created", "churn", "alice"),
        ("model.version_created", "churn", "bob"),
        ("model.alias_moved", "churn", "alice"),
        ("model.alias_moved", "churn", "bob"),
        ("model.version_retired", "churn", "alice"),
    ]
    with store.session() as session:
        moved = list_events(session, types=["model.alias_moved"]).events
        assert [(e.data["from_version"], e.data["to_version"]) for e in moved] == [
            (None, 1),
            (1, 2),
        ]
        # The cursor: the next page starts after the last event seen.
        first = list_events(session, limit=2)
        assert (len(first.events), first.has_more, first.next_cursor) == (
            2,
            True,
            first.events[-1].id,
        )
        rest = list_events(session, after=first.next_cursor)
        assert [e.type for e in rest.events] == [
            "model.alias_moved",
            "model.alias_moved",
            "model.version_retired",
        ]
        assert list_events(session, after=rest.next_cursor).events == []
        assert list_events(session, after=rest.next_cursor).next_cursor == rest.next_cursor
        assert [e.actor for e in list_events(session, actor="bob").events] == ["bob", "bob"]
        with pytest.raises(InvalidInputError, match=r"unknown event types \['model.promoted'\]"):
            list_events(session, types=["model.promoted"])


def test_alerts_and_a_degraded_production_model_are_events(
    sqlite_store: Store, tmp_path: Path, model_file: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    Registry(sqlite_store, actor="alice").register("m", model_file)
    Registry(sqlite_store, actor="alice").set_alias("m", "production", 1)
    log_hours(client, range(0, 2))
    log_hours(client, range(2, 4), missing=0.6, seed=1)
    log_hours(client, range(4, 6), seed=2)
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {"name": "gaps", "kind": "missing_values", "target": {"model": "m"}}
        ),
        actor="bob",
    )
    cursor = _types(sqlite_store)
    monitors.backfill(sqlite_store, T0, T0 + 6 * HOUR, now=T0 + 6 * HOUR)
    events = _types(sqlite_store)[len(cursor) :]
    assert events == [
        ("alert.opened", "m", "vigil"),
        ("model.degraded", "m", "vigil"),
        ("alert.resolved", "m", "vigil"),
    ]
    with sqlite_store.session() as session:
        degraded = list_events(session, types=["model.degraded"]).events[0]
    assert (degraded.data["version"], degraded.data["alias"], degraded.data["kind"]) == (
        1,
        "production",
        "missing_values",
    )
    assert ("monitor.created", "gaps", "bob") in cursor
    client.close()


def test_webhook_receives_signed_events_retried_and_guarded(
    sqlite_store: Store, model_file: Path
) -> None:
    with http_receiver() as receiver:
        with sqlite_store.session() as session:
            create_subscription(
                session,
                SubscriptionIn(
                    name="ci",
                    url=receiver.url,
                    secret="s3cret",
                    types=["model.alias_moved", "model.version_retired"],
                ),
                actor="alice",
                policy=LOOPBACK.outbound_policy(),
            )
            create_subscription(
                session,
                SubscriptionIn(name="all", url=receiver.url),
                actor="bob",
                policy=LOOPBACK.outbound_policy(),
            )
        registry = Registry(sqlite_store, actor="alice")
        registry.register("churn", model_file)
        registry.set_alias("churn", "production", 1)

        # Without the loopback permission the policy refuses, and the deliveries stay queued.
        guarded = deliver_events(sqlite_store, MonitorSettings(delivery_backoff_seconds=0))
        assert (guarded.sent, guarded.retrying) == (0, 3)
        with sqlite_store.session() as session:
            errors = {d.last_error for d in list_deliveries(session)}
        assert errors == {
            "outbound address refused (loopback): '127.0.0.1' is 127.0.0.1; an admin can allow "
            "its network with VIGIL_OUTBOUND_ALLOW (a CIDR list)"
        }
        assert receiver.requests == []

        receiver.fail_next = 1  # the first POST gets a 503: retried at the next round
        first = deliver_events(sqlite_store, LOOPBACK)
        assert (first.sent, first.retrying) == (2, 1)
        second = deliver_events(sqlite_store, LOOPBACK)
        assert (second.sent, second.retrying) == (1, 0)
        assert deliver_events(sqlite_store, LOOPBACK).sent == 0  # nothing is sent twice

    bodies = sorted((r.headers["X-Vigil-Event"], r.body) for r in receiver.requests)
    assert [b[0] for b in bodies] == [
        "model.alias_moved",
        "model.alias_moved",
        "model.version_created",
    ]
    signed = [r for r in receiver.requests if "X-Vigil-Signature" in r.headers]
    assert len(signed) == 1  # only the "ci" subscription has a secret
    expected = "sha256=" + hmac.new(b"s3cret", signed[0].body, hashlib.sha256).hexdigest()
    assert signed[0].headers["X-Vigil-Signature"] == expected
    payload = json.loads(signed[0].body)
    assert (payload["type"], payload["actor"], payload["data"]["to_version"]) == (
        "model.alias_moved",
        "alice",
        1,
    )
    with sqlite_store.session() as session:
        states = sorted((d.subscription, d.state, d.attempts) for d in list_deliveries(session))
    assert [s[1] for s in states] == ["sent"] * 3
    assert sum(s[2] for s in states) == 3 + 3 + 1  # guarded round, first round, one retry


def test_events_and_subscriptions_over_the_api(
    api: TestClient, server_store: Store, teammates: dict[str, str]
) -> None:
    admin = auth(server_store.create_token(Scope.ADMIN, name="ops", owner="carol"))
    alice, bob = auth(teammates["alice"]), auth(teammates["bob"])
    upload_version(api, teammates["alice"], "fraud")
    upload_version(api, teammates["bob"], "fraud")
    base = "/api/v1/registry/models/fraud"
    assert api.put(f"{base}/aliases/production", json={"version": 2}, headers=bob).is_success

    page = api.get("/api/v1/events", headers=alice).json()
    assert [(e["type"], e["actor"]) for e in page["events"]] == [
        ("model.version_created", "alice"),
        ("model.version_created", "bob"),
        ("model.alias_moved", "bob"),
    ]
    after = page["events"][0]["id"]
    only = api.get(
        "/api/v1/events", params={"after": after, "types": "model.alias_moved"}, headers=alice
    ).json()
    assert [e["data"]["to_version"] for e in only["events"]] == [2]
    assert only["next_cursor"] == only["events"][-1]["id"]
    mine = api.get("/api/v1/events", params={"actor": "alice"}, headers=bob).json()
    assert [e["type"] for e in mine["events"]] == ["model.version_created"]
    bad = api.get("/api/v1/events", params={"types": "model.promoted"}, headers=alice)
    assert bad.status_code == 422
    assert "model.promoted" in bad.json()["message"]

    # Registry actor filters: versions created by one teammate, events of one teammate.
    by_bob = api.get(f"{base}/versions", params={"actor": "bob"}, headers=alice).json()
    assert [v["version"] for v in by_bob] == [2]
    bob_events = api.get(f"{base}/events", params={"actor": "bob"}, headers=alice).json()
    assert [e["kind"] for e in bob_events] == ["version_created", "alias_set"]

    spec = {
        "name": "deployer",
        "url": "https://ci.example.com/hook",
        "secret": "x",
        "types": ["model.alias_moved"],
    }
    assert api.post("/api/v1/events/subscriptions", json=spec, headers=alice).status_code == 403
    created = api.post("/api/v1/events/subscriptions", json=spec, headers=admin)
    assert created.status_code == 201, created.text
    assert (created.json()["created_by"], created.json()["has_secret"]) == ("carol", True)
    assert "secret" not in created.json()
    again = api.post("/api/v1/events/subscriptions", json=spec, headers=admin)
    assert again.status_code == 409
    wrong = api.post(
        "/api/v1/events/subscriptions", json={**spec, "name": "x", "types": ["nope"]}, headers=admin
    )
    assert wrong.status_code == 422
    updated = api.put(
        "/api/v1/events/subscriptions/deployer", json={**spec, "active": False}, headers=admin
    )
    assert updated.json()["active"] is False
    listed = api.get("/api/v1/events/subscriptions", headers=bob).json()
    assert [s["name"] for s in listed] == ["deployer"]
    assert api.delete("/api/v1/events/subscriptions/deployer", headers=admin).status_code == 204
    missing = api.get("/api/v1/events/subscriptions/deployer", headers=bob)
    assert missing.status_code == 404
