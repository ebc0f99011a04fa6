"""Rolling hourly windows up into days and months: counts and means exact, sketches within their
stated bounds, against NumPy over the rows logged."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

import vigil
from tests.retention.helpers import HOUR, SPEC, START, hour_table, log_hours
from tests.sketch_bounds import assert_quantiles_within
from vigil.api.retention import RetentionIn
from vigil.api.wire import LogBatch
from vigil.ingestion import retention, service
from vigil.profile import DatasetProfile
from vigil.store.core import Store
from vigil.windows import Grid

DAY = dt.timedelta(days=1)
NAME = SPEC.name


def set_policy(store: Store, **days: int) -> None:
    with store.session() as session:
        retention.set_policy(session, NAME, RetentionIn(**days), actor="tester")


def spans(store: Store) -> list[tuple[dt.datetime, dt.datetime, int, int]]:
    with store.session() as session:
        windows = service.list_windows(session, NAME)
    return [(w.start, w.end, w.n_rows, w.n_uploads) for w in windows]


def merged(store: Store, start: dt.datetime | None = None, end: dt.datetime | None = None):
    with store.session() as session:
        return service.merged_profile(session, NAME, start=start, end=end)


def assert_matches_rows(profile: DatasetProfile, rows: pa.Table) -> None:
    """Counts exact, the mean to float rounding, quantiles within KLL's rank error and the
    distinct count within CPC's bounds, against the rows themselves."""
    amount = np.sort(rows["amount"].to_numpy())
    column = profile.columns["amount"]
    assert profile.n_rows == rows.num_rows
    assert column.count == len(amount)
    assert column.mean == pytest.approx(float(amount.mean()), rel=1e-12)
    assert column.min == amount[0]
    assert column.max == amount[-1]
    assert_quantiles_within(column, amount, (0.01, 0.25, 0.5, 0.9, 0.99))
    users = profile.columns["user"]
    exact = len(set(rows["user"].to_pylist()))
    low, high = users.distinct_sketch.bounds(3)
    assert low <= exact <= high


def test_hours_roll_up_into_days(store: Store) -> None:
    history = log_hours(store, 72, rows=40)
    set_policy(store, daily_after_days=7)
    before = merged(store)
    [outcome] = retention.apply(store, now=START + 10 * DAY)
    assert outcome.windows_replaced == 72
    assert [(r.start, r.end, r.windows) for r in outcome.rollups] == [
        (START + i * DAY, START + (i + 1) * DAY, 24) for i in range(3)
    ]
    assert spans(store) == [(START + i * DAY, START + (i + 1) * DAY, 960, 24) for i in range(3)]
    after = merged(store)
    assert after.n_rows == before.n_rows
    assert after.columns["amount"].count == before.columns["amount"].count
    assert_matches_rows(after, history.table())
    for i in range(3):  # each day on its own, too
        day = merged(store, START + i * DAY, START + (i + 1) * DAY)
        assert_matches_rows(day, history.table(START + i * DAY, START + (i + 1) * DAY))


def test_only_days_older_than_the_policy_roll_up(store: Store) -> None:
    log_hours(store, 72, rows=5)
    set_policy(store, daily_after_days=2)
    # 2 days before Nov 2 12:00 is Oct 31 12:00: only Oct 30 has ended by then.
    retention.apply(store, now=START + 3 * DAY + 12 * HOUR)
    rows = spans(store)
    assert rows[0] == (START, START + DAY, 120, 24)
    assert [r[0] for r in rows[1:]] == [START + DAY + h * HOUR for h in range(48)]


def test_days_roll_up_into_calendar_months(store: Store) -> None:
    history = log_hours(store, 72, rows=20)  # Oct 30, Oct 31, Nov 1
    set_policy(store, daily_after_days=5, monthly_after_days=20)
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)  # October ended more than 20 days ago
    [outcome] = retention.apply(store, now=now)
    assert [(r.period, r.start) for r in outcome.rollups] == [
        ("day", START),
        ("day", START + DAY),
        ("day", START + 2 * DAY),
        ("month", dt.datetime(2026, 10, 1, tzinfo=dt.UTC)),
    ]
    november = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    # The month's window keeps its first window's start and ends with the month.
    assert spans(store) == [(START, november, 960, 48), (november, november + DAY, 480, 24)]
    assert_matches_rows(merged(store), history.table())
    assert_matches_rows(merged(store, START, november), history.table(START, november))


def test_compacting_twice_is_compacting_once(store: Store) -> None:
    log_hours(store, 50, rows=5, uploads=2)
    set_policy(store, daily_after_days=1, monthly_after_days=3)
    now = dt.datetime(2026, 12, 20, tzinfo=dt.UTC)
    first = retention.apply(store, now=now)
    once = spans(store)
    blob_once = merged(store).to_bytes()
    second = retention.apply(store, now=now)
    assert first[0].changed
    assert not second[0].changed
    assert second[0].rollups == []
    assert spans(store) == once
    assert merged(store).to_bytes() == blob_once


def test_a_dry_run_changes_nothing(store: Store) -> None:
    log_hours(store, 30, rows=5)
    set_policy(store, daily_after_days=1)
    before = spans(store)
    [planned] = retention.apply(store, now=START + 5 * DAY, dry_run=True)
    assert [(r.start, r.windows) for r in planned.rollups] == [(START, 24), (START + DAY, 6)]
    assert planned.windows_replaced == 30
    assert spans(store) == before


def test_a_late_upload_into_a_rolled_day_is_rolled_in_next_time(store: Store) -> None:
    history = log_hours(store, 24, rows=10)
    set_policy(store, daily_after_days=1)
    retention.apply(store, now=START + 3 * DAY)
    log_hours(store, 1, start=START + 5 * HOUR, rows=7, seed=9, history=history)
    assert [s[0] for s in spans(store)] == [START, START + 5 * HOUR]
    assert merged(store).n_rows == 247
    retention.apply(store, now=START + 3 * DAY)
    assert spans(store) == [(START, START + DAY, 247, 25)]
    assert_matches_rows(merged(store), history.table())


def test_versions_and_segments_roll_up_apart(store: Store) -> None:
    log_hours(store, 24, rows=10, version="v1")
    log_hours(store, 24, rows=10, version="v2", seed=3)
    set_policy(store, daily_after_days=1)
    retention.apply(store, now=START + 3 * DAY)
    with store.session() as session:
        windows = service.list_windows(session, NAME)
    assert sorted((w.version, w.start, w.end, w.n_rows) for w in windows) == [
        ("v1", START, START + DAY, 240),
        ("v2", START, START + DAY, 240),
    ]


def test_drift_over_a_rolled_period_matches_the_unrolled_figures(store: Store) -> None:
    history = log_hours(store, 48, rows=30)
    reference = vigil.profile(history.table().select(["amount", "user"]))
    before = vigil.drift(reference, merged(store).select(["amount", "user"]))
    set_policy(store, daily_after_days=1)
    retention.apply(store, now=START + 5 * DAY)
    after = vigil.drift(reference, merged(store).select(["amount", "user"]))
    assert list(before.columns) == list(after.columns)
    assert "amount" in before.columns
    for old, new in zip(before.columns.values(), after.columns.values(), strict=True):
        assert (old.name, old.method, old.drifted) == (new.name, new.method, new.drifted)
        bound = old.error_bound if old.error_bound is not None else 1e-9
        assert new.statistic == pytest.approx(old.statistic, abs=2 * bound + 1e-9)


def test_months_are_the_model_time_zone_calendar_months(store: Store) -> None:
    """A model on Oslo days: its days roll up into Oslo months (which start at 22:00 or 23:00
    UTC the day before)."""

    fields = SPEC.model_dump(exclude={"window_seconds"})
    spec = type(SPEC).model_validate({**fields, "name": "oslo", "window": "day@Europe/Oslo"})
    grid = Grid.parse("day@Europe/Oslo")
    with store.session() as session:
        service.create_model(session, spec)
    days = [grid.floor(dt.datetime(2026, 10, d, 12, tzinfo=dt.UTC)) for d in (30, 31)]
    days.append(grid.floor(dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)))
    for i, start in enumerate(days):
        table = hour_table(start, 30, i).select(["amount", "user", "label", "proba"])
        profile = vigil.profile(table).with_window(*grid.window_of(start))
        with store.session() as session:
            service.ingest_log(
                session,
                store.predictions,
                "oslo",
                LogBatch(version="v1", profiles=[profile.to_bytes()]),
            )
    with store.session() as session:
        retention.set_policy(session, "oslo", RetentionIn(monthly_after_days=5))
    retention.apply(store, models=["oslo"], now=dt.datetime(2026, 12, 10, tzinfo=dt.UTC))
    with store.session() as session:
        windows = service.list_windows(session, "oslo")
    month = Grid.parse("month@Europe/Oslo")
    assert [(w.start, w.end, w.n_rows) for w in windows] == [
        (days[0], month.next(days[0]), 60),
        (days[2], month.next(days[2]), 30),
    ]
    assert month.next(days[0]) == dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC)
