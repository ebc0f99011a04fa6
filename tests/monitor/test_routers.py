from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tests.monitor.conftest import client_for, create_model
from tests.monitor.receivers import http_receiver
from tests.server.conftest import auth, make_tokens
from vigil.api.specs import Scope
from vigil.monitor import MonitorSettings
from vigil.server import Settings, create_app
from vigil.store.core import Store

FILE = """
channels:
  - name: hook
    config: {{type: webhook, url: "{url}", secret: topsecret}}
monitors:
  - name: silence
    kind: no_data
    target: {{model: m}}
    channels: [hook]
"""


def test_the_server_scheduler_catches_silence_and_alerts_are_acknowledged_over_the_api(
    sqlite_store: Store, tmp_path: Path
) -> None:
    tokens = make_tokens(sqlite_store)
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    three_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    client.log("m", {"x": [1.0, 2.0]}, timestamp=three_hours_ago)
    client.close()
    monitor = MonitorSettings(
        monitor_interval_seconds=0.2, webhook_allow_loopback=True, delivery_backoff_seconds=0
    )
    settings = Settings(store_url="sqlite://", artifacts_url="unused", monitor=monitor)
    app = create_app(settings, store=sqlite_store)
    with http_receiver() as receiver, TestClient(app) as api:
        admin, write, read = (auth(tokens[s]) for s in (Scope.ADMIN, Scope.WRITE, Scope.READ))
        body = {"yaml": FILE.format(url=receiver.url), "dry_run": False}
        assert api.post("/api/v1/monitors/apply", json=body, headers=write).status_code == 403
        plan = api.post("/api/v1/monitors/apply", json=body, headers=admin).json()
        assert [c["action"] for c in plan["changes"]] == ["create", "create"]
        (channel,) = api.get("/api/v1/channels", headers=read).json()
        assert channel["config"]["secret"] == "***set***"
        assert api.get("/api/v1/monitors/silence", headers=read).json()["kind"] == "no_data"
        deadline = time.monotonic() + 20
        alerts: list[dict[str, object]] = []
        while time.monotonic() < deadline and not (alerts and receiver.requests):
            time.sleep(0.1)
            alerts = api.get("/api/v1/alerts?state=open", headers=read).json()
        assert len(alerts) == 1
        assert receiver.requests[0].json()["monitor"] == "silence"
        alert_id = alerts[0]["id"]
        acked = api.post(f"/api/v1/alerts/{alert_id}/ack", json={"note": "on it"}, headers=write)
        assert acked.status_code == 200
        assert acked.json()["state"] == "acknowledged"
        assert acked.json()["history"][-1]["actor"].startswith("token:")
        again = api.post(f"/api/v1/alerts/{alert_id}/ack", headers=write)
        assert again.status_code == 409
        assert api.post(f"/api/v1/alerts/{alert_id}/resolve", headers=read).status_code == 403
        resolved = api.post(f"/api/v1/alerts/{alert_id}/resolve", headers=write).json()
        assert resolved["state"] == "resolved"
        assert api.get("/api/v1/alerts/999", headers=read).status_code == 404
        scheduler = app.state.monitor_scheduler
        assert scheduler is not None
        assert scheduler.ticks >= 1
    assert app.state.monitor_scheduler._thread is None  # stopped with the app


def test_the_scheduler_is_off_when_disabled(sqlite_store: Store) -> None:
    settings = Settings(store_url="sqlite://", artifacts_url="unused", monitor_scheduler=False)
    app = create_app(settings, store=sqlite_store)
    with TestClient(app):
        assert app.state.monitor_scheduler is None
