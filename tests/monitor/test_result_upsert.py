"""A monitor's results are stored by one upsert (INSERT ... ON CONFLICT DO UPDATE) per monitor
and transaction instead of a read and a write per window: one row per monitor and window, a
re-evaluated window's row replaced, and the stored rows the same as those of the read-and-write
path (kept for dialects without an upsert)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.monitor import results as results_module
from vigil.monitor.results import SEEN_UPLOADS, WindowResult
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorResultRow, MonitorRow

MINUTES = dt.timedelta(minutes=5)


def _two_ticks(store: Store, tmp_path: Path) -> tuple[list[WindowResult], list[WindowResult]]:
    """Model m, hours 0 to 29 with three monitors, evaluated; then an upload into hour 28 (late:
    within the grace) and hour 30, evaluated again."""
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 30), rows=40, missing=0.1)
    learned = {"type": "learned", "k": 3.0, "min_windows": 3, "direction": "both"}
    for definition in (
        {  # a baseline of 4 exact sketches (160 rows): the same values in every store
            "name": "drift",
            "kind": "data_drift",
            "baseline": {"type": "period", "start": T0.isoformat(), "end": (T0 + 4 * HOUR)},
        },
        {
            "name": "missing",
            "kind": "missing_values",
            "baseline": {"type": "trailing", "windows": 5},
            "threshold": learned,
        },
        {"name": "volume", "kind": "volume"},
    ):
        monitor = Monitor.model_validate({**definition, "target": {"model": "m"}})
        monitors.save_monitor(store, monitor)
    first = monitors.evaluate_due(store, now=T0 + 30 * HOUR + MINUTES)
    log_hours(client, range(28, 29), rows=7, missing=0.5, seed=3)
    log_hours(client, range(30, 31), rows=40, missing=0.1, seed=4)
    second = monitors.evaluate_due(store, now=T0 + 31 * HOUR + MINUTES)
    client.close()
    return first, second


def _stored(store: Store) -> list[tuple[Any, ...]]:
    with store.session() as session:
        names = dict(session.execute(select(MonitorRow.id, MonitorRow.name)).all())
        rows = session.scalars(select(MonitorResultRow)).all()
        return sorted(
            (
                names[r.monitor_id],
                r.window_start,
                r.window_end,
                r.value,
                r.lower,
                r.upper,
                r.breached,
                r.message,
                r.details,
            )
            for r in rows
        )


def test_a_late_window_is_replaced_and_every_window_stored_once(
    store: Store, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL (each its own upsert)."""
    first, second = _two_ticks(store, tmp_path)
    late = T0 + 28 * HOUR
    assert {r.monitor for r in second if r.window_start == late} == {"drift", "missing", "volume"}
    stored = _stored(store)
    keys = [(name, start) for name, start, *_ in stored]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(r.monitor, r.window_start) for r in first + second}
    by_key = {(name, start): row for name, start, *row in stored}
    for result in second:  # the later evaluation's figures replaced the earlier ones
        end, value, lower, upper, breached, message, _ = by_key[result.monitor, result.window_start]
        assert (end, value, lower, upper, breached, message) == (
            result.window_end,
            result.value,
            result.lower,
            result.upper,
            result.breached,
            result.message,
        )
    before = {(r.monitor, r.window_start): r.value for r in first}
    assert before["volume", late] != by_key["volume", late][1]  # 47 rows now, not 40
    assert by_key["volume", late][-1][SEEN_UPLOADS] == 2


def test_the_upsert_stores_what_the_read_and_write_path_stores(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upserted = _two_ticks(sqlite_store, tmp_path)
    (tmp_path / "b").mkdir()
    other = Store.open(
        f"sqlite:///{tmp_path / 'b' / 'vigil.db'}", str(tmp_path / "b" / "artifacts")
    )
    try:
        monkeypatch.setattr(results_module, "_upsert", lambda dialect: None)
        written = _two_ticks(other, tmp_path / "b")
        assert written == upserted
        assert _stored(other) == _stored(sqlite_store)
    finally:
        other.close()
