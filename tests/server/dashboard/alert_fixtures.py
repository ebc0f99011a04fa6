"""A private copy of the demo's store with three more monitors, so that the alert page is tried
on a drift alert about one feature, a performance alert on a segment, and a volume alert (no
feature) with a learned band (the demo's own alerts are all whole-traffic drift alerts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from tests.server.dashboard.conftest import Demo, copy_demo
from vigil.monitor import api as monitor_api
from vigil.monitor.definitions import Monitor
from vigil.monitor.evaluate import backfill
from vigil.monitor.specs import LearnedThreshold, StaticThreshold, Target, TrailingBaseline
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertRow

UTC = dt.UTC
MONITORS = (
    Monitor(
        name="charges-drift",
        kind="data_drift",
        target=Target(model="churn"),
        window="day",
        threshold=StaticThreshold(upper=0.5),
        options={"columns": ["monthly_charges"]},
    ),
    Monitor(
        name="north-accuracy",
        kind="realized_performance",
        target=Target(model="churn", segment={"region": "north"}),
        window="day",
        threshold=StaticThreshold(lower=0.99),
        severity="critical",
    ),
    Monitor(
        name="hourly-volume",
        kind="volume",
        target=Target(model="churn"),
        window="hour",
        threshold=LearnedThreshold(k=1.0),
        baseline=TrailingBaseline(windows=6),
    ),
)


@dataclass(frozen=True)
class Alerts:
    demo: Demo
    ids: dict[str, int]
    """The latest alert of each monitor, by monitor name."""


def seed_alerts(demo: Demo, folder: Path) -> Alerts:
    """A copy of the demo in `folder` with `MONITORS` evaluated over the demo's week (the
    hourly one from its fifth day): their alerts, and the demo's."""
    copy = copy_demo(demo, folder)
    store = Store.open(copy.store_url, copy.artifacts_url)
    try:
        for monitor in MONITORS:
            monitor_api.save_monitor(store, monitor, actor="tester")
        week = dt.datetime(2026, 11, 2, tzinfo=UTC), dt.datetime(2026, 11, 9, tzinfo=UTC)
        backfill(store, *week, monitors=["charges-drift", "north-accuracy"])
        backfill(store, dt.datetime(2026, 11, 6, tzinfo=UTC), week[1], monitors=["hourly-volume"])
        with store.session() as session:
            ids = {
                name: alert_id
                for name, alert_id in session.execute(
                    select(AlertRow.monitor_name, AlertRow.id).order_by(AlertRow.id)
                )
            }
    finally:
        store.close()
    assert {m.name for m in MONITORS} <= set(ids), ids
    return Alerts(copy, ids)
