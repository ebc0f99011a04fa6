"""Events end to end: a real server's delivery worker sends a teammate's alias move to a webhook
on loopback, signed, and an alert's notifications to a channel (its scheduler off: the one worker
sends both); the CLI subscribes, lists and unsubscribes, on a server and on a store."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.commands import table
from tests.e2e.live import LiveServer
from tests.monitor.conftest import HOUR, T0, create_model, log_hours
from tests.monitor.receivers import http_receiver
from tests.waits import wait_until
from vigil.api.specs import Scope
from vigil.cli import main
from vigil.client import Client
from vigil.client.registry.remote import RemoteRegistry
from vigil.store.core import Store


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """One server for the module's two server tests (a start costs ~5 s of CPU): the webhook test
    runs first and ends with no subscription left; the alert test uses its own model, channel
    and monitor, and no event subscription."""
    tmp_path = tmp_path_factory.mktemp("served")
    store_url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")
    store = Store.open(store_url, artifacts)
    tokens = {w: store.create_token(Scope.WRITE, name=w, owner=w) for w in ("alice", "bob")}
    tokens["carol"] = store.create_token(Scope.ADMIN, name="ops", owner="carol")
    store.close()
    env = {
        "VIGIL_WEBHOOK_ALLOW_LOOPBACK": "true",
        "VIGIL_EVENTS_INTERVAL_SECONDS": "0.1",
        "VIGIL_MONITOR_SCHEDULER": "false",
    }
    server = LiveServer(store_url, artifacts, tmp_path / "server.log", env=env).start()
    try:
        yield server, tokens
    finally:
        server.stop()


def test_the_server_sends_signed_events_to_a_subscribed_webhook(
    served: tuple[LiveServer, dict[str, str]],
    tmp_path: Path,
    model_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, tokens = served
    remote = ["--url", server.url, "--token", tokens["carol"]]
    monkeypatch.setenv("HOOK_SECRET", "topsecret")
    with http_receiver() as receiver:
        assert (
            main(
                [
                    "events",
                    "subscribe",
                    "ci",
                    receiver.url,
                    "--type",
                    "model.alias_moved",
                    "--secret-env",
                    "HOOK_SECRET",
                    *remote,
                ]
            )
            == 0
        )
        assert "subscribed ci: model.alias_moved ->" in capsys.readouterr().out
        registry = RemoteRegistry(server.url, tokens["alice"])
        registry.register("churn", model_file)
        registry.set_alias("churn", "production", 1)
        registry.close()
        assert wait_until(lambda: receiver.requests, 20)
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(b"topsecret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Vigil-Signature"] == expected
    assert request.headers["X-Vigil-Event"] == "model.alias_moved"
    event = request.json()
    assert (event["actor"], event["subject"], event["data"]["to_version"]) == ("alice", "churn", 1)

    assert main(["events", "list", "--type", "model.alias_moved", "--json", *remote]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["id"] for line in captured.out.splitlines()] == [event["id"]]
    assert captured.err.strip() == f"next cursor: {event['id']}"
    assert main(["events", "deliveries", *remote]) == 0
    rows = table(capsys.readouterr().out)
    assert rows[0] == ["ID", "EVENT", "SUBSCRIPTION", "STATE", "ATTEMPTS", "LAST ERROR"]
    assert rows[1][2:5] == ["ci", "sent", "1"]
    assert main(["events", "subscriptions", *remote]) == 0
    assert table(capsys.readouterr().out)[1][:3] == ["ci", "active", "model.alias_moved"]
    bob = ["--url", server.url, "--token", tokens["bob"]]
    assert main(["events", "unsubscribe", "ci", *bob]) == 2  # admin only
    assert "scope 'admin'" in capsys.readouterr().err
    assert main(["events", "unsubscribe", "ci", *remote]) == 0
    assert main(["events", "subscriptions", *remote]) == 0
    assert capsys.readouterr().out == "unsubscribed ci\nno subscriptions\n"


def test_the_servers_worker_sends_alert_notifications_to_channels(
    served: tuple[LiveServer, dict[str, str]], tmp_path: Path
) -> None:
    """The scheduler is off: the notifications of a backfill's alert (queued by the request)
    reach the channel through the same worker as the events."""
    server, tokens = served
    client = Client.local(server.store_url, server.artifacts_url)
    create_model(client)
    log_hours(client, range(0, 1))
    log_hours(client, range(2, 3))
    client.close()
    admin = {"Authorization": f"Bearer {tokens['carol']}"}
    with http_receiver() as receiver, httpx.Client(base_url=server.url, headers=admin) as api:
        channel = {"name": "hook", "config": {"type": "webhook", "url": receiver.url}}
        assert api.put("/api/v1/channels/hook", json=channel).status_code == 200
        monitor = {"name": "silence", "kind": "no_data", "target": {"model": "m"}}
        monitor["channels"] = ["hook"]
        assert api.put("/api/v1/monitors/silence", json=monitor).status_code == 200
        span = {"start": T0.isoformat(), "end": (T0 + 3 * HOUR).isoformat()}
        ran = api.post("/api/v1/monitors/run", json=span)
        assert ran.json()["breached"] == 1, ran.text
        assert wait_until(lambda: len(receiver.requests) == 2, 20)
    assert [r.json()["event"] for r in receiver.requests] == ["trigger", "resolve"]
    assert {r.json()["monitor"] for r in receiver.requests} == {"silence"}


def test_events_cli_on_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--store", f"sqlite:///{tmp_path / 'v.db'}", "--artifacts", str(tmp_path / "a")]
    assert main(["events", "subscribe", "x", "ftp://nope", *where]) == 2
    assert "url" in capsys.readouterr().err
    assert (
        main(["events", "subscribe", "x", "https://example.com/h", "--type", "nope", *where]) == 2
    )
    assert "unknown event types ['nope']" in capsys.readouterr().err
    assert main(["events", "list", "--type", "model.promoted", *where]) == 2
    assert main(["events", "list", *where]) == 0
    assert capsys.readouterr().err.endswith("next cursor: 0\n")
    assert main(["events", "deliver", *where]) == 0
    assert capsys.readouterr().out == "sent 0, retrying 0, failed 0\n"
