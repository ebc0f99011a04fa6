"""Profiles per window and segment, in one pass."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

import vigil
from vigil.errors import InvalidInputError
from vigil.profile.groups import ProfileKey, floor_micros, profile_groups
from vigil.windows import EPOCH, Grid

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _events(n: int = 12_000) -> pa.Table:
    rng = np.random.default_rng(5)
    seconds = np.sort(rng.integers(0, 3 * 86_400, n))
    ts = np.datetime64("2026-01-01T00:00:00", "us") + (seconds * 1_000_000).astype(
        "timedelta64[us]"
    )
    country = rng.choice(["no", "fr", "de"], n).astype(object)
    country[rng.random(n) < 0.05] = None
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "country": pa.array(country, pa.string()),
            "v": rng.normal(size=n),
        }
    )


def test_groups_partition_the_rows_and_match_a_filter() -> None:
    table = _events()
    groups = profile_groups(
        table, window_column="ts", window="hour", segment_columns=["country"], batch_rows=1_000
    )
    assert sum(p.n_rows for p in groups.values()) == table.num_rows
    key = ProfileKey(START + dt.timedelta(hours=5), (("country", "fr"),))
    chosen = groups[key]
    assert chosen.window == vigil.Window(key.window_start, key.window_start + dt.timedelta(hours=1))  # type: ignore[arg-type,operator]
    rows = table.to_pylist()
    expected = [
        r["v"]
        for r in rows
        if r["country"] == "fr" and key.window_start <= r["ts"] < chosen.window.end  # type: ignore[operator,union-attr]
    ]
    assert chosen.n_rows == len(expected)
    assert chosen.columns["v"].mean == pytest.approx(np.mean(expected), rel=1e-12)  # type: ignore[union-attr]
    nulls = [k for k in groups if k.segment == (("country", None),)]
    assert sum(groups[k].n_rows for k in nulls) == table.column("country").null_count


def test_windows_align_on_the_clock_and_on_mondays() -> None:
    t = np.array(
        [
            (
                dt.datetime(2026, 11, 26, 15, 42, tzinfo=dt.UTC)
                - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            )
            // dt.timedelta(microseconds=1)
        ]
    )
    to_dt = lambda us: dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(us))  # noqa: E731
    assert to_dt(floor_micros(t, "hour")[0]) == dt.datetime(2026, 11, 26, 15, tzinfo=dt.UTC)
    assert to_dt(floor_micros(t, "day")[0]) == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    assert to_dt(floor_micros(t, "week")[0]) == dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # a Monday
    assert to_dt(floor_micros(t, dt.timedelta(minutes=15))[0]) == dt.datetime(
        2026, 11, 26, 15, 30, tzinfo=dt.UTC
    )


def test_null_timestamps_get_their_own_group() -> None:
    table = pa.table(
        {"ts": pa.array([START, None, START], pa.timestamp("us", tz="UTC")), "v": [1.0, 2.0, 3.0]}
    )
    groups = profile_groups(table, window_column="ts", window="day")
    assert groups[ProfileKey(None)].n_rows == 1
    assert groups[ProfileKey(START)].n_rows == 2


def test_bad_grouping_arguments() -> None:
    table = _events(10)
    with pytest.raises(InvalidInputError, match="no column 'nope' to group by"):
        profile_groups(table, window_column="nope")
    with pytest.raises(InvalidInputError, match="must hold timestamps, it is string"):
        profile_groups(table, window_column="country")
    with pytest.raises(InvalidInputError, match="window 'fortnight' is not one of 'hour'"):
        profile_groups(table, window_column="ts", window="fortnight")
    with pytest.raises(InvalidInputError, match="between 60 s and 366 days, got 0:00:00"):
        profile_groups(table, window_column="ts", window=dt.timedelta(0))
    with pytest.raises(InvalidInputError, match="unknown time zone 'Mars/Base'"):
        profile_groups(table, window_column="ts", window="month@Mars/Base")


def _spread(n: int, first: dt.datetime, last: dt.datetime) -> pa.Table:
    rng = np.random.default_rng(11)
    span = (last - first) // dt.timedelta(microseconds=1)
    micros = np.sort(rng.integers(0, span, n)) + (first - EPOCH) // dt.timedelta(microseconds=1)
    return pa.table(
        {
            "ts": pa.array(micros.view("datetime64[us]"), pa.timestamp("us", tz="UTC")),
            "v": rng.normal(size=n),
        }
    )


@pytest.mark.parametrize(
    "window", ["month", "quarter", "year", "week", "month@Europe/Oslo", "day@America/New_York"]
)
def test_calendar_windows_group_rows_by_their_calendar_window(window: str) -> None:
    first, last = dt.datetime(2023, 11, 20, tzinfo=dt.UTC), dt.datetime(2025, 3, 9, tzinfo=dt.UTC)
    if window.startswith("day"):
        last = dt.datetime(2024, 3, 20, tzinfo=dt.UTC)  # over a change of the clocks
    table = _spread(20_000, first, last)
    grid = Grid.parse(window)
    groups = profile_groups(table, window_column="ts", window=window, batch_rows=3_000)
    times = table.column("ts").to_pylist()
    expected = sorted({grid.floor(t) for t in times})
    assert [k.window_start for k in groups] == expected
    for key, prof in groups.items():
        assert key.window_start is not None
        start, end = grid.window_of(key.window_start)
        assert prof.window == vigil.Window(start, end)
        assert prof.n_rows == sum(start <= t < end for t in times)
    assert sum(p.n_rows for p in groups.values()) == table.num_rows


def test_a_leap_february_is_one_window_of_29_days() -> None:
    table = pa.table(
        {
            "ts": pa.array(
                [
                    dt.datetime(2024, 2, 1),
                    dt.datetime(2024, 2, 29, 23, 59),
                    dt.datetime(2024, 3, 1),
                ],
                pa.timestamp("us"),
            ),
            "v": [1.0, 2.0, 3.0],
        }
    )
    groups = profile_groups(table, window_column="ts", window="month")
    february = groups[ProfileKey(dt.datetime(2024, 2, 1, tzinfo=dt.UTC))]
    assert february.n_rows == 2
    assert february.window is not None
    assert february.window.end - february.window.start == dt.timedelta(days=29)
