"""Issue 6's end-to-end test for the data-side kinds: thirty days of hourly traffic; drift from
day 20, a feature 40% missing from day 25, six silent hours on day 27. Each raises its alert
within one window of its onset, through a real webhook receiver and a real SMTP server; days 1
to 19 raise nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tests.monitor.conftest import T0
from tests.monitor.receivers import http_receiver, smtp_receiver
from vigil import monitor as monitors
from vigil.client import Client
from vigil.monitor import MonitorSettings
from vigil.store.core import Store

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
ROWS = 40


def _day(n: int) -> dt.datetime:
    """Start of day n (day 1 is the first)."""
    return T0 + (n - 1) * DAY


DRIFT_ON, MISSING_ON = _day(20), _day(25)
SILENT = (_day(27) + 10 * HOUR, _day(27) + 16 * HOUR)


def _traffic(client: Client, hour: dt.datetime, rng: np.random.Generator) -> None:
    if SILENT[0] <= hour < SILENT[1]:
        return
    shift = 1.0 if hour >= DRIFT_ON else 0.0
    x = rng.normal(shift, 1.0, ROWS)
    if hour >= MISSING_ON:
        x[rng.permutation(ROWS)[: int(0.4 * ROWS)]] = np.nan
    data = {
        "x": x,
        "y": rng.normal(shift, 1.0, ROWS),
        "city": rng.choice(["a", "b", "c"], ROWS, p=[0.5, 0.3, 0.2]),
        "score": rng.random(ROWS),
    }
    client.log("m", data, timestamp=hour + dt.timedelta(minutes=20))


def _file(hook: str, smtp_port: int) -> str:
    return f"""
channels:
  - name: hook
    config: {{type: webhook, url: "{hook}", secret: e2e}}
  - name: mail
    config: {{type: email, host: 127.0.0.1, port: {smtp_port}, sender: vigil@example.com,
             to: [oncall@example.com]}}
monitors:
  - name: drift
    kind: data_drift
    target: {{model: m}}
    window: day
    baseline: {{type: period, start: "{_day(1).isoformat()}", end: "{_day(8).isoformat()}"}}
    threshold: {{type: static, upper: 0.5}}
    channels: [hook, mail]
  - name: missing
    kind: missing_values
    target: {{model: m}}
    window: hour
    channels: [hook, mail]
  - name: silence
    kind: no_data
    target: {{model: m}}
    window: hour
    severity: critical
    channels: [hook, mail]
"""


@pytest.mark.slow
def test_thirty_days_raise_each_alert_within_one_window(store: Store, tmp_path: Path) -> None:
    settings = MonitorSettings(webhook_allow_loopback=True, delivery_backoff_seconds=0)
    url = store.engine.url.render_as_string(hide_password=False)
    client = Client.local(url, str(tmp_path / "artifacts"))
    client.create_model("m", features=["x", "y", "city"], scores=["score"])
    rng = np.random.default_rng(6)
    with http_receiver() as hook, smtp_receiver() as smtp:
        monitors.apply(store, _file(hook.url, smtp.port), policy=settings.outbound_policy())
        for day in range(1, 31):
            for h in range(24):
                _traffic(client, _day(day) + h * HOUR, rng)
            monitors.tick(store, settings, now=_day(day + 1) + dt.timedelta(minutes=5))
            if day == 19:
                assert hook.requests == []
                assert smtp.messages == []
        triggers = {
            r.json()["monitor"]: r.json() for r in hook.requests if r.json()["event"] == "trigger"
        }
        mails = [m["Subject"] for m in smtp.messages]
    client.close()

    assert set(triggers) == {"drift", "missing", "silence"}
    with store.session() as session:
        alerts = monitors.list_alerts(session)
    assert all(a.first_window_start >= DRIFT_ON for a in alerts)
    # Each fired for the window of its onset (within one window of it).
    first = {
        name: dt.datetime.fromisoformat(t["first_window_start"]) for name, t in triggers.items()
    }
    assert first["drift"] == DRIFT_ON
    assert MISSING_ON <= first["missing"] <= MISSING_ON + HOUR
    assert first["silence"] == SILENT[0]
    # One alert per condition: deduplicated while it lasts; silence resolved when data returned.
    by_monitor = {a.monitor: a for a in alerts}
    assert len(alerts) == 3
    assert by_monitor["silence"].state == "resolved"
    assert by_monitor["silence"].n_windows == 6
    assert by_monitor["drift"].state == "open"
    assert by_monitor["missing"].state == "open"
    assert any("no data arrived" in s for s in mails)
    assert sum("RESOLVED" in s for s in mails) == 1
    assert len(mails) == 4
