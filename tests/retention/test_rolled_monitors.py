"""Monitors over history that retention rolled up: an hourly monitor does not pretend to measure
the hours of a rolled day (no value, the reason, no alert), keeps what it measured on those hours
before they were rolled up, and a day monitor measures the rolled day exactly."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.retention.helpers import HOUR, SPEC, START, log_hours
from vigil import monitor as monitors
from vigil.api.retention import RetentionIn
from vigil.ingestion import retention
from vigil.monitor import Monitor
from vigil.monitor.reader import WindowReader
from vigil.monitor.window_stats import buckets
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow
from vigil.store.repositories import ModelRepository

DAY = dt.timedelta(days=1)
NOW = START + 4 * DAY


def _volume(name: str, window: str) -> Monitor:
    """At least one row a window: an hour shown empty would alert."""
    return Monitor.model_validate(
        {
            "name": name,
            "kind": "volume",
            "target": {"model": SPEC.name},
            "window": window,
            "threshold": {"type": "static", "lower": 1},
        }
    )


def _roll_first_day(store: Store) -> None:
    with store.session() as session:
        retention.set_policy(session, SPEC.name, RetentionIn(daily_after_days=2))
    [outcome] = retention.apply(store, now=START + 3 * DAY)
    assert [(r.start, r.end) for r in outcome.rollups] == [(START, START + DAY)]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite keeps no zone


def _alerts(store: Store) -> int:
    with store.session() as session:
        return len(session.scalars(select(AlertRow)).all())


def test_hours_of_a_rolled_day_are_not_measured_and_raise_no_alert(store: Store) -> None:
    log_hours(store, 48, rows=20)
    _roll_first_day(store)
    monitors.save_monitor(store, _volume("hourly", "hour"))
    monitors.save_monitor(store, _volume("daily", "day"))
    results = monitors.backfill(store, START, START + 2 * DAY, now=NOW)
    hourly = sorted((r for r in results if r.monitor == "hourly"), key=lambda r: r.window_start)
    assert len(hourly) == 48
    rolled, kept = hourly[:24], hourly[24:]
    assert [r.value for r in rolled] == [None] * 24
    assert not any(r.breached for r in rolled)
    assert all(
        r.message.startswith("not measured: retention rolled 2026-10-30 00:00") for r in rolled
    )
    assert [r.value for r in kept] == [20.0] * 24
    daily = sorted((r for r in results if r.monitor == "daily"), key=lambda r: r.window_start)
    assert [(r.window_start, r.value) for r in daily] == [(START, 480.0), (START + DAY, 480.0)]
    assert _alerts(store) == 0


def test_a_result_measured_before_the_roll_up_stays(store: Store) -> None:
    log_hours(store, 48, rows=20)
    monitors.save_monitor(store, _volume("hourly", "hour"))
    before = monitors.backfill(store, START, START + DAY, now=START + 2 * DAY)
    assert [r.value for r in before] == [20.0] * 24
    _roll_first_day(store)
    # A backfill over the rolled day, and later rounds, leave the hourly figures as measured.
    assert monitors.backfill(store, START, START + DAY, now=NOW) == []
    monitors.evaluate_due(store, now=START + 2 * DAY)  # the logged second day: no empty hour
    with store.session() as session:
        stored = session.execute(
            select(MonitorResultRow.window_start, MonitorResultRow.value)
            .join(MonitorRow, MonitorRow.id == MonitorResultRow.monitor_id)
            .where(MonitorRow.name == "hourly", MonitorResultRow.window_start < START + DAY)
            .order_by(MonitorResultRow.window_start)
        ).all()
    assert [(_utc(start), value) for start, value in stored] == [
        (START + h * HOUR, 20.0) for h in range(24)
    ]
    assert _alerts(store) == 0


def test_the_feature_page_statistics_skip_the_hours_of_a_rolled_day(store: Store) -> None:
    log_hours(store, 48, rows=20)
    _roll_first_day(store)
    with store.session() as session:
        model_id = ModelRepository(session).get(SPEC.name).id
        reader = WindowReader(session)
        hours = buckets(reader, model_id, "hour")
        days = buckets(reader, model_id, "day")
    assert [(b.start, b.n_rows) for b in hours] == [(START + DAY + h * HOUR, 20) for h in range(24)]
    assert [(b.start, b.n_rows) for b in days] == [(START, 480), (START + DAY, 480)]
