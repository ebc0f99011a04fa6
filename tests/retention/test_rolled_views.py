"""The heatmap's periods over a history retention rolled up: a rolled day covers its 24 hours (not
one), and a period finer than the stored window it lies in is marked rolled, never measured as if
the day's rows were its own."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.retention.helpers import HOUR, SPEC, START, log_hours
from vigil import monitor as monitors
from vigil.api.retention import RetentionIn
from vigil.ingestion import retention
from vigil.monitor import Monitor
from vigil.monitor.period_drift import Period, period_drift, periods
from vigil.server.dashboard.heatmap import partial_reason
from vigil.store.core import Store
from vigil.windows import Grid

DAY = dt.timedelta(days=1)
NOVEMBER = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RECENT = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)


def _history(store: Store) -> None:
    """Oct 30 to Nov 1 rolled into days; Nov 22's first six hours as logged."""
    log_hours(store, 72, rows=5)
    log_hours(store, 6, start=RECENT, rows=50, seed=3)
    with store.session() as session:
        retention.set_policy(session, SPEC.name, RetentionIn(daily_after_days=3))
    [outcome] = retention.apply(store, now=RECENT)
    assert len(outcome.rollups) == 3


def _periods(store: Store, grid: Grid, start: dt.datetime, end: dt.datetime) -> dict:
    with store.session() as session:
        try:
            return periods(session, SPEC.name, grid, start, end)
        finally:
            session.rollback()


def test_a_rolled_day_covers_its_hours(store: Store) -> None:
    _history(store)
    days = _periods(store, Grid("day"), START, RECENT + DAY)
    assert {s: (p.covered, p.n_rows, p.rolled) for s, p in days.items()} == {
        START: (1.0, 120, False),
        START + DAY: (1.0, 120, False),
        NOVEMBER: (1.0, 120, False),
        RECENT: (pytest.approx(6 / 24), 300, False),
    }
    weeks = _periods(store, Grid("week"), START, RECENT + DAY)
    monday = dt.datetime(2026, 10, 26, tzinfo=dt.UTC)
    assert weeks[monday].covered == pytest.approx(3 / 7)
    assert weeks[monday].n_parts == 3
    months = _periods(store, Grid("month"), START, RECENT + DAY)
    october = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert months[october].covered == pytest.approx(2 / 31)
    # November: its first day rolled, six hours of the 22nd.
    assert months[NOVEMBER].covered == pytest.approx((24 + 6) / (30 * 24))


def test_an_hour_of_a_rolled_day_is_marked_rolled(store: Store) -> None:
    _history(store)
    hours = _periods(store, Grid("hour"), NOVEMBER, RECENT + 6 * HOUR)
    assert sorted(hours) == [NOVEMBER] + [RECENT + h * HOUR for h in range(6)]
    first = hours[NOVEMBER]
    assert (first.rolled, first.data_end, first.n_rows) == (True, NOVEMBER + DAY, 120)
    assert not any(hours[RECENT + h * HOUR].rolled for h in range(6))
    reason = partial_reason(first, NOVEMBER, NOVEMBER + HOUR, (START, RECENT + DAY), "UTC")
    assert reason == (
        "rolled up: its data is one stored window until 2026-11-02 00:00 (UTC), "
        "measured in a coarser view"
    )
    whole = Period(RECENT, RECENT + HOUR, 50, RECENT, RECENT, RECENT + HOUR, 1.0)
    assert partial_reason(whole, RECENT, RECENT + HOUR, (START, RECENT + DAY), "UTC") == ""


def test_derived_drift_skips_rolled_hours_and_measures_the_day(store: Store) -> None:
    _history(store)
    baseline = {"type": "period", "start": START.isoformat(), "end": (START + DAY).isoformat()}
    monitors.save_monitor(
        store,
        Monitor.model_validate(
            {
                "name": "fraud-drift",
                "kind": "data_drift",
                "target": {"model": SPEC.name},
                "window": "day",
                "baseline": baseline,
            }
        ),
    )
    hours = period_drift(store, SPEC.name, Grid("hour"), NOVEMBER, NOVEMBER + DAY)
    assert hours.derived
    assert hours.rolled == (NOVEMBER,)
    assert hours.cells == {}
    assert hours.pending == ()
    recent = period_drift(store, SPEC.name, Grid("hour"), RECENT, RECENT + 6 * HOUR)
    assert recent.rolled == ()
    assert sorted(recent.cells) == [RECENT + h * HOUR for h in range(6)]
