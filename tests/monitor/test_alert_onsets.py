"""An alert of a KPI, performance or drift-score monitor says when its change most likely began:
estimated once, when it opens, from the monitor's own stored values (`vigil.analysis.onset`),
kept while it stays active, in its message, the API's JSON, the channels' notification and the
dashboard's alert page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.server.dashboard.conftest import sign_in
from vigil import monitor as monitors
from vigil.analysis.onset import estimate_onset
from vigil.api.specs import Scope
from vigil.events.channels.base import summary
from vigil.events.findings import notification
from vigil.monitor import Monitor
from vigil.monitor.kinds import KINDS
from vigil.server import Settings, create_app
from vigil.store.collab_tables import EventRow
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertRow, MonitorResultRow

DAY = dt.timedelta(days=1)
STEP = 20  # the KPI's mean moves from 100 to 103 on day 20


def _log(store: Store, tmp_path: Path, days: int) -> None:
    client = client_for(store, tmp_path)
    client.create_model("m", features=["x"])
    rng = np.random.default_rng(11)
    for day in range(days):
        mean = 100.0 if day < STEP else 103.0
        for i, value in enumerate(rng.normal(mean, 1.0, 8).round(3).tolist()):
            at = T0 + day * DAY + dt.timedelta(hours=2 * i + 1)
            client.log_kpi("revenue", value, timestamp=at, model="m", version="1")
    client.close()


def _monitor(upper: float) -> Monitor:
    return Monitor.model_validate(
        {
            "name": "revenue",
            "kind": "kpi_change",
            "target": {"model": "m"},
            "window": "day",
            "options": {"kpi": "revenue"},
            "threshold": {"type": "static", "upper": upper},
        }
    )


def _tightened(store: Store, tmp_path: Path) -> None:
    """30 days evaluated under a loose threshold (no alert), then tightened: day 29 opens the
    alert, nine days after the KPI moved."""
    _log(store, tmp_path, 31)
    monitors.save_monitor(store, _monitor(upper=150.0))
    assert not any(r.breached for r in monitors.backfill(store, T0, T0 + 29 * DAY))
    monitors.save_monitor(store, _monitor(upper=101.5))
    (result,) = monitors.backfill(store, T0 + 29 * DAY, T0 + 30 * DAY, now=T0 + 31 * DAY)
    assert result.breached


def test_the_alert_says_when_the_kpi_moved(store: Store, tmp_path: Path) -> None:
    _tightened(store, tmp_path)
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
        stored = session.execute(
            select(MonitorResultRow.window_start, MonitorResultRow.value)
            .where(MonitorResultRow.window_start <= T0 + 29 * DAY)
            .order_by(MonitorResultRow.window_start)
        ).all()
    assert alert.first_window_start == T0 + 29 * DAY
    onset = alert.onset
    assert onset is not None
    assert onset.start == T0 + STEP * DAY
    assert onset.low is not None
    assert onset.high is not None
    assert onset.low <= T0 + STEP * DAY <= onset.high
    assert onset.high - onset.low <= 2 * DAY
    assert onset.n_points == 30
    # The estimate is the analysis' on the stored values, nothing else.
    assert onset == estimate_onset([r[0] for r in stored], [r[1] for r in stored])
    assert alert.message.endswith(f"; {onset.sentence()}")
    assert "most likely began at 2026-01-25 (between " in alert.message
    assert "onset" not in alert.details  # its own field, not a copy in the details
    as_json = alert.model_dump(mode="json")
    assert as_json["onset"]["start"].startswith("2026-01-25T00:00:00")
    assert as_json["onset"]["before"] == pytest.approx(onset.before)


def test_the_onset_is_kept_while_the_alert_stays_open(store: Store, tmp_path: Path) -> None:
    _tightened(store, tmp_path)
    with store.session() as session:
        (opened,) = monitors.list_alerts(session)
    (result,) = monitors.backfill(store, T0 + 30 * DAY, T0 + 31 * DAY, now=T0 + 32 * DAY)
    assert result.breached
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.n_windows == 2
    assert alert.onset == opened.onset
    assert alert.message.startswith(result.message)
    assert alert.message.endswith(f"; {opened.onset.sentence()}")  # type: ignore[union-attr]


def test_the_notification_says_when_it_began(store: Store, tmp_path: Path) -> None:
    _tightened(store, tmp_path)
    with store.session() as session:
        event = session.scalars(select(EventRow).where(EventRow.type == "alert.opened")).one()
        payload = notification(event.type, event.at, event.data)
    assert payload["onset"]["start"].startswith("2026-01-25")
    assert "onset" not in payload["details"]
    text = summary(payload)
    assert "revenue on m: " in text
    assert "most likely began at 2026-01-25 (between " in text


def test_too_short_a_history_gives_the_reason_and_no_sentence(
    sqlite_store: Store, tmp_path: Path
) -> None:
    _log(sqlite_store, tmp_path, 3)
    monitors.save_monitor(sqlite_store, _monitor(upper=99.0))
    monitors.backfill(sqlite_store, T0, T0 + DAY)
    with sqlite_store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.onset is not None
    assert not alert.onset.found
    assert alert.onset.reason == "1 values; an onset needs at least 4"
    assert "began" not in alert.message


def test_kinds_without_a_level_have_no_onset(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x"])
    client.log("m", {"x": [1.0, 2.0]}, timestamp=T0 + dt.timedelta(minutes=5))
    client.close()
    silence = Monitor.model_validate(
        {"name": "silence", "kind": "no_data", "target": {"model": "m"}, "window": "hour"}
    )
    monitors.save_monitor(sqlite_store, silence)
    monitors.backfill(sqlite_store, T0, T0 + 5 * dt.timedelta(hours=1))
    with sqlite_store.session() as session:
        (alert,) = monitors.list_alerts(session)
        row = session.get(AlertRow, alert.id)
        assert row is not None
        assert "onset" not in row.details
    assert alert.onset is None
    assert "began" not in alert.message


def test_the_kinds_with_onsets() -> None:
    assert sorted(name for name, kind in KINDS.items() if kind.onset) == [
        "attribution_drift",
        "data_drift",
        "estimated_performance",
        "fairness",
        "kpi_change",
        "prediction_drift",
        "realized_performance",
        "training_data_drift",
    ]


def test_the_alert_page_and_the_api_show_the_onset(sqlite_store: Store, tmp_path: Path) -> None:
    _tightened(sqlite_store, tmp_path)
    token = sqlite_store.create_token(Scope.READ, name="reader", owner="ana")
    settings = Settings(
        store_url=str(sqlite_store.engine.url),
        artifacts_url=str(tmp_path / "artifacts"),
        dashboard_warm_seconds=0,
        monitor_scheduler=False,
    )
    with sqlite_store.session() as session:
        (alert,) = monitors.list_alerts(session)
    with TestClient(create_app(settings, store=sqlite_store)) as web:
        served = web.get(
            f"/api/v1/alerts/{alert.id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        sign_in(web, token)
        page = web.get(f"/ui/alerts/{alert.id}").text
    assert served["onset"] == alert.model_dump(mode="json")["onset"]
    assert served["onset"]["start"].startswith("2026-01-25")
    assert "onset" not in served["details"]
    assert "<dt>Began</dt>" in page
    assert "most likely 2026-01-25 00:00 UTC, between 2026-01-2" in page


def test_a_drift_alert_says_when_the_feature_moved(sqlite_store: Store, tmp_path: Path) -> None:
    """Feature x moves at hour 20; a drift monitor that only alerts on more than half the
    columns drifting says nothing until its threshold is tightened at hour 35."""
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(20), seed=1)
    log_hours(client, range(20, 36), shift=2.0, seed=2)
    client.close()

    def drift(upper: float) -> Monitor:
        return Monitor.model_validate(
            {
                "name": "drift",
                "kind": "data_drift",
                "target": {"model": "m"},
                "window": "hour",
                "baseline": {"type": "period", "start": T0, "end": T0 + 10 * HOUR},
                "threshold": {"type": "static", "upper": upper},
            }
        )

    monitors.save_monitor(sqlite_store, drift(upper=0.5))
    monitors.backfill(sqlite_store, T0 + 10 * HOUR, T0 + 35 * HOUR, now=T0 + 40 * HOUR)
    with sqlite_store.session() as session:
        assert not monitors.list_alerts(session)
    monitors.save_monitor(sqlite_store, drift(upper=0.0))
    monitors.backfill(sqlite_store, T0 + 35 * HOUR, T0 + 36 * HOUR, now=T0 + 40 * HOUR)
    with sqlite_store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.first_window_start == T0 + 35 * HOUR
    assert alert.onset is not None
    assert alert.onset.start == T0 + 20 * HOUR
    assert alert.onset.n_points == 26
    assert alert.onset.before is not None
    assert alert.onset.after is not None
    assert alert.onset.before < alert.onset.after
    assert "most likely began at 2026-01-05 20:00" in alert.message
