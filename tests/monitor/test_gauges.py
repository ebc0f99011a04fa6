"""/metrics exposes the latest drift figures of each drift monitor and the open alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.server.conftest import auth, make_tokens
from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.monitor import Monitor
from vigil.server import Settings, create_app
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertRow, MonitorResultRow


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_metrics_carry_the_latest_drift_per_column_and_open_alerts(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 24), rows=100)
    log_hours(client, range(24, 25), rows=300, shift=2.0, seed=1)
    client.close()
    baseline = {"type": "period", "start": T0.isoformat(), "end": (T0 + 24 * HOUR).isoformat()}
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {"name": "drift", "kind": "data_drift", "target": {"model": "m"}, "baseline": baseline}
        ),
    )
    results = monitors.backfill(sqlite_store, T0 + 23 * HOUR, T0 + 25 * HOUR, now=T0 + 25 * HOUR)
    latest = next(r for r in results if r.window_start == T0 + 24 * HOUR)
    assert latest.breached

    tokens = make_tokens(sqlite_store)
    settings = Settings(store_url="sqlite://", artifacts_url="unused", monitor_scheduler=False)
    app = create_app(settings, store=sqlite_store)
    with TestClient(app) as api:
        text = api.get("/metrics", headers=auth(tokens[Scope.READ])).text
    samples = _samples(text)
    assert samples["vigil_drift_share"] == {
        (("model", "m"), ("monitor", "drift")): pytest.approx(1 / 3)
    }
    detected = samples["vigil_drift_detected"]
    assert detected[(("column", "x"), ("model", "m"), ("monitor", "drift"))] == 1.0
    assert detected[(("column", "y"), ("model", "m"), ("monitor", "drift"))] == 0.0
    by_column = {dict(k)["column"]: v for k, v in samples["vigil_drift_statistic"].items()}
    assert set(by_column) == {"x", "y", "city"}
    stored, severity = _stored(sqlite_store)
    assert by_column == pytest.approx({c: f["statistic"] for c, f in stored["columns"].items()})
    assert samples["vigil_alerts_open"] == {(("severity", severity), ("target", "m")): 1.0}


def _stored(store: Store) -> tuple[dict[str, Any], str]:
    """The latest window's stored result details, and the open alert's severity."""
    with store.session() as session:
        details = session.scalars(
            select(MonitorResultRow.details).order_by(MonitorResultRow.window_start.desc())
        ).first()
        severity = session.scalars(select(AlertRow.severity)).one()
    assert details is not None
    return details, severity
