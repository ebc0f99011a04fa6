"""Monitors on calendar grids: a monthly monitor on an hourly model evaluates calendar months."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.monitor.conftest import client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.store.core import Store

DAY = 24


def test_a_monthly_volume_monitor_counts_calendar_months(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    # T0 is Monday 2026-01-05: one logged hour on each of a few days in January and February
    jan = [0, 3 * DAY, 10 * DAY]  # Jan 5, 8, 15
    feb = [27 * DAY, 40 * DAY]  # Feb 1, Feb 14
    log_hours(client, range(0, 1), rows=10)
    for i, h in enumerate(jan[1:] + feb):
        log_hours(client, range(h, h + 1), rows=10 * (i + 2), seed=i + 1)
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {"name": "monthly", "kind": "volume", "target": {"model": "m"}, "window": "month"}
        ),
    )
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    results = monitors.backfill(sqlite_store, start, end, now=end)
    by_start = {r.window_start: r.value for r in results}
    assert sorted(by_start) == [start, dt.datetime(2026, 2, 1, tzinfo=dt.UTC)]
    assert by_start[start] == 10 + 20 + 30  # Jan 5, 8, 15
    assert by_start[dt.datetime(2026, 2, 1, tzinfo=dt.UTC)] == 40 + 50
    client.close()


def test_a_monitor_window_is_any_grid_and_a_bad_one_is_named() -> None:
    base = {"name": "m1", "kind": "volume", "target": {"model": "m"}}
    for window, stored in (
        ("month", "month"),
        ("60m", "hour"),
        ("day@Europe/Oslo", "day@Europe/Oslo"),
    ):
        assert Monitor.model_validate({**base, "window": window}).window == stored
    with pytest.raises(ValidationError, match="fortnight"):
        Monitor.model_validate({**base, "window": "fortnight"})
