from __future__ import annotations

import datetime as dt
from pathlib import Path

from vigil.client import Client
from vigil.demo.data import DRIFT_DAY, production_week, training_set
from vigil.monitor.demo import run_demo_monitors
from vigil.profile import profile
from vigil.store.core import Store


def test_demo_monitors_alert_on_the_demo_drift_and_not_before(
    sqlite_store: Store, tmp_path: Path
) -> None:
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    client = Client.local(url, str(tmp_path / "artifacts"))
    week = production_week(rows_per_day=600, seed=0)
    client.create_model(
        "churn",
        features=[
            c
            for c in week[0][1].column_names
            if c not in {"customer_id", "seen_at", "churn_score", "churn_predicted", "churned"}
        ],
        predictions=["churn_predicted"],
        scores=["churn_score"],
        id_column="customer_id",
        timestamp_column="seen_at",
    )
    for _, table in week:
        client.log("churn", table.drop_columns(["churned"]), version="v1")
    client.close()
    reference = profile(training_set(3000, 0))
    start, end = week[0][0], week[-1][0] + dt.timedelta(days=1)
    alerts, text = run_demo_monitors(sqlite_store, "churn", reference, start, end)
    drift_day = week[DRIFT_DAY][0]
    assert alerts
    assert all(a.first_window_start >= drift_day for a in alerts)
    assert "churn-data-drift" in {a.monitor for a in alerts}
    assert "churn-data-drift" in text
