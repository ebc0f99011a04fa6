"""The write phase (`vigil.monitor.recording`): on SQLite a model's monitors are recorded in one
write transaction (up to `WINDOWS_PER_TRANSACTION` windows), on PostgreSQL each monitor in its
own under its lock. The store ends as it does when each monitor is written on its own (results,
alerts, alert events, outbox events: the same rows, the same ids); a monitor whose writes fail
loses only its own results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select

from tests.monitor.conftest import HOUR, T0, client_for
from vigil import monitor as monitors
from vigil.client import Client
from vigil.monitor import Monitor, recording
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.results import record
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorRow

MODELS = ("m", "n")
TABLES = ("monitor_results", "alerts", "alert_events", "events", "event_deliveries")
MINUTE = dt.timedelta(minutes=1)


def _log(client: Client, model: str, hours: range, *, shift: float = 0.0, rows: int = 40) -> None:
    for h in hours:
        rng = np.random.default_rng([h, len(model)])
        x = rng.normal(shift, 1.0, rows)
        x[rng.random(rows) < 0.1] = np.nan
        client.log(model, {"x": x}, timestamp=T0 + h * HOUR + 30 * MINUTE)


def _fleet(store: Store, tmp_path: Path) -> Client:
    """Models m and n, 30 hours each; per model drift (against its first 4 hours), missing
    values (learned from the 5 windows before) and volume (a bar its busy hours break)."""
    client = client_for(store, tmp_path)
    for model in MODELS:
        client.create_model(model, features=["x"])
        _log(client, model, range(30))
        # 4 hours of 40 rows: an exact sketch, so the drift figures are the same in every run
        baseline = {"type": "period", "start": T0.isoformat(), "end": (T0 + 4 * HOUR)}
        learned = {"type": "learned", "k": 3.0, "min_windows": 3, "direction": "both"}
        trailing = {"type": "trailing", "windows": 5}
        for name, kind, extra in (
            ("drift", "data_drift", {"baseline": baseline}),
            ("missing", "missing_values", {"baseline": trailing, "threshold": learned}),
            ("volume", "volume", {"threshold": {"type": "static", "upper": 45}}),
        ):
            definition = {"name": f"{model}-{name}", "kind": kind, "target": {"model": model}}
            monitors.save_monitor(store, Monitor.model_validate({**definition, **extra}))
    return client


def _ticks(store: Store, client: Client) -> None:
    """Three ticks: a first one, one after drifted and busier data, one after calm data."""
    cache = EvaluationCache()
    monitors.evaluate_due(store, now=T0 + 30 * HOUR + MINUTE, cache=cache)
    for model in MODELS:
        _log(client, model, range(30, 31), shift=3.0, rows=60)
    monitors.evaluate_due(store, now=T0 + 31 * HOUR + MINUTE, cache=cache)
    for model in MODELS:
        _log(client, model, range(31, 32))
    monitors.evaluate_due(store, now=T0 + 32 * HOUR + MINUTE, cache=cache)


def _rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the written tables, without the columns of times of day."""
    found = {}
    with store.engine.connect() as connection:
        for table in TABLES:
            result = connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")
            keep = [i for i, c in enumerate(result.keys()) if not (c == "at" or c.endswith("_at"))]
            found[table] = [tuple(_timeless(row[i]) for i in keep) for row in result]
    return found


def _timeless(value: Any) -> Any:
    """A column's value without the times of day in it (an event's data holds its alert's)."""
    if isinstance(value, str) and value.startswith("{"):
        return _timeless(json.loads(value))
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if not k.endswith("_at")}
    return value


def _alone(session: Any, pending: Any) -> Any:
    yield from ([p] for p in pending)


def test_the_store_ends_as_with_one_transaction_per_monitor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = []
    for together in (True, False):
        folder = tmp_path / str(together)
        store = Store.open(f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts"))
        client = _fleet(store, folder)
        with monkeypatch.context() as patched:
            if not together:
                patched.setattr(recording, "_transactions", _alone)
            _ticks(store, client)
        client.close()
        found.append(_rows(store))
        store.close()
    assert found[0] == found[1]
    assert len(found[0]["alerts"]) >= 2  # the law is not vacuous: alerts opened
    assert any(row[-1] == "resolved" or "resolved" in row for row in found[0]["alert_events"])


def test_sqlite_commits_once_per_model_postgresql_once_per_monitor(
    store: Store, tmp_path: Path
) -> None:
    client = _fleet(store, tmp_path)
    monitors.evaluate_due(store, now=T0 + 30 * HOUR + MINUTE)
    for model in MODELS:
        _log(client, model, range(30, 31))
    commits: list[int] = []

    def count(connection: Any) -> None:
        commits.append(1)

    event.listen(store.engine, "commit", count)
    try:
        results = monitors.evaluate_due(store, now=T0 + 31 * HOUR + MINUTE)
    finally:
        event.remove(store.engine, "commit", count)
        client.close()
    assert len(results) == 6
    writes = len(MODELS) if store.engine.dialect.name == "sqlite" else 3 * len(MODELS)
    # The reads end in rollbacks; a commit is a write transaction.
    assert len(commits) == writes


def test_a_monitor_whose_writes_fail_loses_only_its_own(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _fleet(sqlite_store, tmp_path)

    def failing(run: Any, measured: Any) -> Any:
        if run.monitor.name == "m-missing":
            raise RuntimeError("broken")
        return record(run, measured)

    monkeypatch.setattr(recording, "record", failing)
    results = monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + MINUTE)
    client.close()
    assert sorted({r.monitor for r in results}) == [
        "m-drift",
        "m-volume",
        "n-drift",
        "n-missing",
        "n-volume",
    ]
    with sqlite_store.session() as session:
        cursors = dict(session.execute(select(MonitorRow.name, MonitorRow.evaluated_until)).all())
    assert cursors.pop("m-missing") is None
    assert set(cursors.values()) == {T0 + 30 * HOUR}
