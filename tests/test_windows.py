"""The time grid: laws every grid keeps (hypothesis), exact boundaries against pandas and the
formulas the grid replaces, time zones whose clocks jump, and the errors for bad input."""

from __future__ import annotations

import datetime as dt
import itertools
import pickle
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import InvalidInputError
from vigil.windows import CALENDAR_UNITS, EPOCH, ORIGIN, Grid

UTC = dt.UTC
US = dt.timedelta(microseconds=1)

# Zones whose clocks do odd things: DST at midnight (Santiago, Havana, Beirut, Asuncion), a
# skipped day (Apia, 2011-12-30), half-hour shifts (Lord Howe), odd offsets (Kathmandu,
# Chatham), DST that pauses for Ramadan (Casablanca), two-hour DST (Troll).
ODD_ZONES = [
    "Europe/Oslo",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Asia/Beirut",
    "America/Asuncion",
    "America/Sao_Paulo",
    "Pacific/Apia",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "Antarctica/Troll",
    "Asia/Kolkata",
]
ALL_ZONES = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})

times = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(UTC)
)
fixed_grids = st.integers(60, 366 * 86_400).map(lambda s: Grid("fixed", dt.timedelta(seconds=s)))
named_grids = st.sampled_from(["hour", *CALENDAR_UNITS]).map(Grid.parse)
zoned_grids = st.builds(
    Grid.parse,
    st.sampled_from(CALENDAR_UNITS),
    st.sampled_from(ODD_ZONES) | st.sampled_from(ALL_ZONES),
)
grids = fixed_grids | named_grids | zoned_grids


def micros(t: dt.datetime) -> int:
    return (t - EPOCH) // US


# -- laws -------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(grids, times)
def test_a_time_lies_in_its_window(grid: Grid, t: dt.datetime) -> None:
    start, end = grid.window_of(t)
    assert start <= t < end
    assert (grid.floor(t), grid.next(t)) == (start, end)
    assert start.tzinfo is UTC
    assert end.tzinfo is UTC
    assert grid.is_window(start, end)
    if grid.seconds is not None:
        assert end - start == dt.timedelta(seconds=grid.seconds)


@settings(max_examples=400, deadline=None)
@given(grids, times)
def test_floor_is_idempotent_and_windows_meet(grid: Grid, t: dt.datetime) -> None:
    start, end = grid.window_of(t)
    assert grid.floor(start) == start
    assert grid.window_of(start) == (start, end)
    assert grid.floor(end) == end  # the next window starts where this one ends
    assert grid.floor(end - US) == start
    assert grid.next(start - US) == start  # and the previous one ended here


@settings(max_examples=200, deadline=None)
@given(grids, times, st.integers(0, 40))
def test_starts_are_contiguous(grid: Grid, t: dt.datetime, n: int) -> None:
    end = grid.shift(t, n)
    starts = grid.starts(t, end)
    assert len(starts) == n
    if starts:
        assert starts[0] == grid.floor(t)
        assert grid.next(starts[-1]) == end
    for a, b in itertools.pairwise(starts):
        assert grid.next(a) == b
    start = grid.floor(t)
    assert grid.starts(start, start) == []
    assert grid.starts(t, t + US) == [start]
    assert grid.starts(t, t) == ([start] if start < t else [])


@settings(max_examples=200, deadline=None)
@given(grids, times, st.integers(-30, 30))
def test_shift_steps_whole_windows(grid: Grid, t: dt.datetime, n: int) -> None:
    moved = grid.shift(t, n)
    assert grid.floor(moved) == moved
    assert grid.shift(moved, -n) == grid.floor(t)
    expected = grid.floor(t)
    for _ in range(abs(n)):
        expected = grid.next(expected) if n > 0 else grid.floor(expected - US)
    assert moved == expected


@settings(max_examples=200, deadline=None)
@given(grids, st.lists(times, min_size=1, max_size=50))
def test_vectorised_floor_is_the_scalar_floor(grid: Grid, ts: list[dt.datetime]) -> None:
    values = np.array([micros(t) for t in ts], dtype=np.int64)
    got = grid.floor_micros(values)
    assert got.dtype == np.int64
    assert got.tolist() == [micros(grid.floor(t)) for t in ts]


@settings(max_examples=200, deadline=None)
@given(
    grids,
    times,
    st.sampled_from([3_600, 86_400, 40 * 86_400, 3 * 365 * 86_400]),
    st.lists(st.floats(0, 1), min_size=1, max_size=50),
)
def test_vectorised_floor_of_clustered_times_is_the_scalar_floor(
    grid: Grid, base: dt.datetime, span: int, fractions: list[float]
) -> None:
    """Times close together take the listed-starts path of calendar grids."""
    ts = [base + dt.timedelta(seconds=f * span) for f in fractions]
    values = np.array([micros(t) for t in ts], dtype=np.int64)
    assert grid.floor_micros(values).tolist() == [micros(grid.floor(t)) for t in ts]


@settings(max_examples=300, deadline=None)
@given(grids)
def test_strings_round_trip(grid: Grid) -> None:
    text = grid.to_str()
    assert Grid.parse(text) == grid
    assert Grid.parse(text).to_str() == text
    assert Grid.of(text) == grid
    assert str(grid) == text


@settings(max_examples=200, deadline=None)
@given(grids, times, st.integers(0, 60))
def test_count_is_the_number_of_starts(grid: Grid, t: dt.datetime, n: int) -> None:
    end = grid.shift(t, n)
    assert grid.count(t, end) == len(grid.starts(t, end)) == n
    assert grid.count(t, end - US) == len(grid.starts(t, end - US))
    assert grid.count(end, t) == (1 if n == 0 and grid.floor(t) < t else 0)


def test_count_over_centuries_does_not_list() -> None:
    first, last = dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 1, 1, tzinfo=UTC)
    days = (last - first).days
    assert Grid.parse("day@Europe/Oslo").count(first + dt.timedelta(days=1), last) == days
    assert Grid.parse("15m").count(first, last) == days * 96
    # February of the year 1 to January 9999, which starts in Tokyo before the UTC new year.
    assert Grid.parse("month@Asia/Tokyo").count(first + dt.timedelta(days=40), last) == 9998 * 12
    assert Grid.parse("year").count(first, last) == 9998


@settings(max_examples=300, deadline=None)
@given(
    grids,
    grids,
    st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2099, 1, 1), timezones=st.just(UTC)),
)
def test_a_nested_grid_s_windows_are_unions_of_the_finer_ones(
    outer: Grid, inner: Grid, t: dt.datetime
) -> None:
    """From 1970 on: before, zones kept local mean times to the second (Santiago: -4:42:45)."""
    if not outer.nests(inner):
        return
    start, end = outer.window_of(t)
    assert inner.floor(start) == start
    assert inner.floor(end) == end


@pytest.mark.parametrize(
    ("outer", "inner", "nests"),
    [
        ("day", "hour", True),
        ("day", "6h", True),
        ("day", "7h", False),
        ("week", "day", True),
        ("week", "2d", False),  # 2-day windows from the epoch (a Thursday) straddle Mondays
        ("week", "7d", False),
        ("14d", "7d", True),
        ("7d", "week", False),
        ("month", "day", True),
        ("month", "6h", True),
        ("month", "week", False),
        ("quarter", "month", True),
        ("year", "quarter", True),
        ("month", "quarter", False),
        ("day@Europe/Oslo", "hour", True),
        ("day@Asia/Kolkata", "hour", False),
        ("day@Asia/Kolkata", "30m", True),
        ("day@Asia/Kathmandu", "30m", False),
        ("month@Europe/Oslo", "day@Europe/Oslo", True),
        ("month@Europe/Oslo", "day", False),
        ("month@Europe/Oslo", "day@Europe/Paris", False),
        ("week@Europe/Oslo", "day@Europe/Oslo", True),
        ("hour", "day", False),
        ("hour", "hour", True),
    ],
)
def test_nests(outer: str, inner: str, nests: bool) -> None:
    assert Grid.parse(outer).nests(inner) is nests


@settings(max_examples=50, deadline=None)
@given(grids)
def test_grids_pickle_for_spark_executors(grid: Grid) -> None:
    copy = pickle.loads(pickle.dumps(grid))
    assert copy == grid
    assert hash(copy) == hash(grid)


# -- the behaviour of the grids it replaces ----------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["hour", "day", "week"]), times)
def test_hour_day_week_keep_the_monitors_grid(name: str, t: dt.datetime) -> None:
    """The former monitor grid: multiples of the length since Monday 1970-01-05 00:00 UTC."""
    seconds = {"hour": 3600, "day": 86_400, "week": 7 * 86_400}[name]
    size = dt.timedelta(seconds=seconds)
    expected = ORIGIN + (t - ORIGIN) // size * size
    assert Grid.parse(name).floor(t) == expected
    assert Grid.parse(name).next(t) == expected + size
    assert Grid.of(size if name != "week" else name).floor(t) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(60, 366 * 86_400), st.lists(times, min_size=1, max_size=20))
def test_fixed_lengths_keep_the_epoch_alignment_of_stored_windows(
    seconds: int, ts: list[dt.datetime]
) -> None:
    """Fixed lengths stay on multiples since the epoch, as the store checks stored windows."""
    size = seconds * 1_000_000
    values = np.array([micros(t) for t in ts], dtype=np.int64)
    grid = Grid.of(seconds)
    assert grid.floor_micros(values).tolist() == (values // size * size).tolist()
    assert Grid.of(dt.timedelta(seconds=seconds)) == grid


def test_week_starts_on_monday_and_seven_days_on_thursday() -> None:
    t = dt.datetime(2026, 3, 26, 15, tzinfo=UTC)  # a Thursday
    assert Grid.parse("week").floor(t) == dt.datetime(2026, 3, 23, tzinfo=UTC)
    assert Grid.parse("week").floor(t).weekday() == 0
    # A stored model's window_seconds=604800 keeps its epoch-aligned windows (1970-01-01 was a
    # Thursday); "week" is the Monday one.
    assert Grid.of(604_800).floor(t) == dt.datetime(2026, 3, 26, tzinfo=UTC)
    assert Grid.of(604_800) != Grid.parse("week")
    assert Grid.of(604_800).to_str() == "7d"


def test_lengths_that_name_a_unit_are_that_unit() -> None:
    assert Grid.parse("60m") == Grid.parse("1h") == Grid.parse("3600s") == Grid("hour")
    assert Grid.parse("24h") == Grid.parse("1d") == Grid.of(86_400) == Grid("day")
    assert Grid.of(dt.timedelta(hours=1)).to_str() == "hour"
    assert Grid.parse("90m").to_str() == "90m"
    assert Grid.parse("120m").to_str() == "2h"
    assert Grid.parse("61s").to_str() == "61s"
    assert Grid.parse(" Month ").to_str() == "month"
    assert Grid.parse("day@UTC") == Grid.parse("day", tz="Etc/UTC") == Grid("day")
    assert Grid.parse("week", tz="Europe/Oslo").to_str() == "week@Europe/Oslo"


def test_seconds_and_calendar() -> None:
    assert [Grid.parse(n).seconds for n in ("hour", "day", "week", "15m", "3d")] == [
        3600,
        86_400,
        604_800,
        900,
        259_200,
    ]
    for name in ("month", "quarter", "year", "day@Europe/Oslo", "week@Asia/Tokyo"):
        assert Grid.parse(name).seconds is None
        assert Grid.parse(name).is_calendar
    assert not Grid.parse("day").is_calendar


# -- calendar boundaries, against pandas ---------------------------------------------------------


@pytest.mark.parametrize("tz", ["UTC", "Europe/Oslo", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    ("unit", "freq"),
    [("day", "D"), ("week", "W-MON"), ("month", "MS"), ("quarter", "QS-JAN"), ("year", "YS")],
)
def test_calendar_starts_match_pandas(unit: str, freq: str, tz: str) -> None:
    first, last = dt.datetime(1950, 1, 1, tzinfo=UTC), dt.datetime(2060, 1, 1, tzinfo=UTC)
    if unit in ("day", "week"):
        first = dt.datetime(1995, 1, 1, tzinfo=UTC)
    grid = Grid.parse(unit, tz=tz)
    expected = pd.date_range(
        first.date(), last.date(), freq=freq, tz=tz, normalize=True, inclusive="left"
    ).tz_convert("UTC")
    got = grid.starts(expected[0].to_pydatetime(), expected[-1].to_pydatetime() + US)
    assert got == [s.to_pydatetime() for s in expected]
    values = np.array([micros(t) for t in got], dtype=np.int64)
    assert np.array_equal(grid.floor_micros(values + 1), values)
    assert np.array_equal(grid.floor_micros(values[1:] - 1), values[:-1])


@pytest.mark.parametrize("years", [(2025, 2027), (1800, 2300), (1, 9999)])
@pytest.mark.parametrize("unit", ["month", "quarter", "year"])
def test_utc_calendar_floor_matches_pandas_on_many_times(unit: str, years: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    lo, hi = (micros(dt.datetime(y, 1, 1, tzinfo=UTC)) for y in years)
    values = rng.integers(lo, hi, 200_000, dtype=np.int64)
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[unit]
    stamps = pd.DatetimeIndex(values.view("datetime64[us]"))
    expected = stamps.to_period(freq).to_timestamp(how="start").as_unit("us").asi8
    assert np.array_equal(Grid.parse(unit).floor_micros(values), expected)


def test_month_and_year_lengths_follow_the_calendar_and_leap_years() -> None:
    month, year, quarter = Grid.parse("month"), Grid.parse("year"), Grid.parse("quarter")

    def days(grid: Grid, t: dt.datetime) -> float:
        start, end = grid.window_of(t)
        return (end - start) / dt.timedelta(days=1)

    assert days(month, dt.datetime(2024, 2, 29, 23, 59, tzinfo=UTC)) == 29
    assert days(month, dt.datetime(2000, 2, 10, tzinfo=UTC)) == 29
    assert days(month, dt.datetime(1900, 2, 10, tzinfo=UTC)) == 28
    assert days(month, dt.datetime(2100, 2, 10, tzinfo=UTC)) == 28
    assert [days(month, dt.datetime(2026, m, 3, tzinfo=UTC)) for m in range(1, 13)] == [
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    ]  # fmt: skip
    assert days(year, dt.datetime(2024, 7, 1, tzinfo=UTC)) == 366
    assert days(year, dt.datetime(2100, 7, 1, tzinfo=UTC)) == 365
    assert [days(quarter, dt.datetime(2024, m, 1, tzinfo=UTC)) for m in (1, 4, 7, 10)] == [
        91, 91, 92, 92,
    ]  # fmt: skip
    assert month.window_of(dt.datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == (
        dt.datetime(2025, 12, 1, tzinfo=UTC),
        dt.datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert quarter.floor(dt.datetime(2026, 6, 30, 23, tzinfo=UTC)) == dt.datetime(
        2026, 4, 1, tzinfo=UTC
    )
    assert month.shift(dt.datetime(2024, 1, 31, tzinfo=UTC), 1) == dt.datetime(
        2024, 2, 1, tzinfo=UTC
    )
    assert year.floor(dt.datetime(1969, 12, 31, 23, tzinfo=UTC)) == dt.datetime(
        1969, 1, 1, tzinfo=UTC
    )


# -- time zones -------------------------------------------------------------------------------


def test_oslo_days_have_23_and_25_hours_when_the_clocks_change() -> None:
    grid = Grid.parse("day@Europe/Oslo")
    starts = grid.starts(dt.datetime(2000, 1, 1, tzinfo=UTC), dt.datetime(2031, 1, 1, tzinfo=UTC))
    lengths = {grid.label(s): (grid.next(s) - s) / dt.timedelta(hours=1) for s in starts}
    short = sorted(label for label, hours in lengths.items() if hours == 23)
    long = sorted(label for label, hours in lengths.items() if hours == 25)
    assert set(lengths.values()) == {23, 24, 25}
    # The last Sundays of March and of October, once a year.
    assert len(short) == len(long) == 31
    for label in short:
        day = dt.date.fromisoformat(label)
        assert (day.month, day.weekday()) == (3, 6)
        assert day.day > 24
    for label in long:
        day = dt.date.fromisoformat(label)
        assert (day.month, day.weekday()) == (10, 6)
        assert day.day > 24
    assert "2026-03-29" in short
    assert "2026-10-25" in long
    spring = grid.window_of(dt.datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert spring == (
        dt.datetime(2026, 3, 28, 23, tzinfo=UTC),  # 00:00 CET
        dt.datetime(2026, 3, 29, 22, tzinfo=UTC),  # 00:00 CEST
    )
    # Each local day starts at local midnight.
    oslo = zoneinfo.ZoneInfo("Europe/Oslo")
    assert {s.astimezone(oslo).time() for s in starts} == {dt.time(0)}


def test_a_zoned_week_starts_on_local_monday_midnight() -> None:
    grid = Grid.parse("week@America/New_York")
    start, end = grid.window_of(dt.datetime(2026, 3, 10, tzinfo=UTC))
    assert start == dt.datetime(2026, 3, 9, 4, tzinfo=UTC)  # Monday 00:00 EDT
    assert (end - start) == dt.timedelta(days=7)
    start, end = grid.window_of(dt.datetime(2026, 3, 4, tzinfo=UTC))
    assert start == dt.datetime(2026, 3, 2, 5, tzinfo=UTC)  # Monday 00:00 EST
    assert end == dt.datetime(2026, 3, 9, 4, tzinfo=UTC)  # the week with the change: 167 h
    assert grid.label(start) == "2026-W10"


def test_a_day_whose_midnight_is_skipped_starts_when_the_clocks_jump() -> None:
    # Santiago moved its clocks from 24:00 to 01:00 on 2022-09-11 (Sunday): that day had no
    # midnight, and started at 01:00 local (04:00 UTC).
    grid = Grid.parse("day@America/Santiago")
    start, end = grid.window_of(dt.datetime(2022, 9, 11, 12, tzinfo=UTC))
    assert start == dt.datetime(2022, 9, 11, 4, tzinfo=UTC)
    assert end - start == dt.timedelta(hours=23)
    assert grid.label(start) == "2022-09-11"


def test_a_day_whose_midnight_comes_twice_starts_at_the_first() -> None:
    # Havana turned its clocks back from 01:00 to 00:00 on 2022-11-06: that day lasted 25 hours.
    grid = Grid.parse("day@America/Havana")
    start, end = grid.window_of(dt.datetime(2022, 11, 6, 12, tzinfo=UTC))
    assert start == dt.datetime(2022, 11, 6, 4, tzinfo=UTC)  # 00:00 CDT
    assert end - start == dt.timedelta(hours=25)


def test_a_skipped_day_is_no_window() -> None:
    # Samoa skipped 2011-12-30 altogether.
    grid = Grid.parse("day@Pacific/Apia")
    starts = grid.starts(dt.datetime(2011, 12, 28, tzinfo=UTC), dt.datetime(2012, 1, 1, tzinfo=UTC))
    labels = [grid.label(s) for s in starts]
    assert "2011-12-30" not in labels
    assert labels[-3:] == ["2011-12-29", "2011-12-31", "2012-01-01"]
    assert all(grid.next(s) - s == dt.timedelta(days=1) for s in starts)


def test_zoned_months_end_at_local_midnight() -> None:
    grid = Grid.parse("month@Asia/Kolkata")
    start, end = grid.window_of(dt.datetime(2026, 1, 31, 19, tzinfo=UTC))  # 1 Feb 00:30 local
    assert start == dt.datetime(2026, 1, 31, 18, 30, tzinfo=UTC)
    assert end == dt.datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
    assert grid.label(start) == "2026-02"


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ALL_ZONES), st.sampled_from(CALENDAR_UNITS), times)
def test_every_zone_starts_windows_at_or_just_after_local_midnight(
    tz: str, unit: str, t: dt.datetime
) -> None:
    grid = Grid.parse(unit, tz=tz)
    start, end = grid.window_of(t)
    zone = zoneinfo.ZoneInfo(tz)
    local = start.astimezone(zone)
    before = (start - US).astimezone(zone)
    # Midnight, or the first instant after a jump of the clocks over it.
    assert local.time() == dt.time(0) or before.date() < local.date()
    assert start <= t < end


def test_times_are_read_in_utc_whatever_zone_they_carry() -> None:
    grid = Grid.parse("day")
    naive = dt.datetime(2026, 3, 29, 23, 30)
    oslo = dt.datetime(2026, 3, 30, 1, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo"))
    expected = dt.datetime(2026, 3, 29, tzinfo=UTC)
    assert grid.floor(naive) == grid.floor(oslo) == expected


# -- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grid", "label"),
    [
        ("hour", "2026-03-29 14:00 UTC"),
        ("15m", "2026-03-29 14:30 UTC"),
        ("61s", "2026-03-29 14:40:44 UTC"),
        ("3d", "2026-03-29"),
        ("day", "2026-03-29"),
        ("day@Asia/Tokyo", "2026-03-29"),
        ("day@Pacific/Auckland", "2026-03-30"),
        ("week", "2026-W13"),
        ("week@Pacific/Auckland", "2026-W14"),
        ("month", "2026-03"),
        ("quarter", "2026-Q1"),
        ("year", "2026"),
        ("year@Pacific/Kiritimati", "2026"),
    ],
)
def test_labels(grid: str, label: str) -> None:
    assert Grid.parse(grid).label(dt.datetime(2026, 3, 29, 14, 41, 30, tzinfo=UTC)) == label


# -- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "says"),
    [
        ("fortnight", None, "'fortnight'"),
        ("", None, "''"),
        ("30s", None, "60 s"),
        ("0m", None, "'0m'"),
        ("-5m", None, "'-5m'"),
        ("1.5h", None, "'1.5h'"),
        ("2w", None, "'2w'"),
        ("367d", None, "'year'"),
        ("hour@Europe/Oslo", None, "'Europe/Oslo'"),
        ("6h", "Asia/Kolkata", "'Asia/Kolkata'"),
        ("day@Mars/Olympus", None, "'Mars/Olympus'"),
        ("day@../../etc/passwd", None, "'../../etc/passwd'"),
        ("day@Europe/Oslo", "Asia/Tokyo", "'Asia/Tokyo'"),
        ("day", "", "''"),
        ("month@", None, "''"),
    ],
)
def test_bad_strings_are_named_with_what_is_allowed(text: str, tz: str | None, says: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Grid.parse(text, tz=tz)
    assert says in caught.value.message
    assert caught.value.status_code == 422


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (dt.timedelta(seconds=59), "0:00:59"),
        (dt.timedelta(seconds=90, microseconds=5), "0:01:30.000005"),
        (dt.timedelta(days=-1), "-1 day"),
        (dt.timedelta(days=400), "400 days"),
        (0, "got 0"),
        (10**30, str(10**30)),
        (True, "True"),
        (1.5, "1.5"),
        (None, "None"),
    ],
)
def test_bad_values_are_named(value: object, says: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Grid.of(value)  # type: ignore[arg-type]
    assert says in caught.value.message


def test_bad_constructions_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="'minute'"):
        Grid("minute")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="only to 'fixed'"):
        Grid("day", dt.timedelta(days=2))
    with pytest.raises(InvalidInputError, match="timedelta"):
        Grid("fixed")
    with pytest.raises(InvalidInputError, match="datetime"):
        Grid("day").floor("2026-01-01")  # type: ignore[arg-type]


def test_the_ends_of_time_are_refused_not_crashed() -> None:
    late = dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    for name in ("year", "month", "day@Europe/Oslo", "hour", "week"):
        with pytest.raises(InvalidInputError, match="9999"):
            Grid.parse(name).next(late)
    assert Grid.parse("year").floor(late) == dt.datetime(9999, 1, 1, tzinfo=UTC)
    beyond = np.array([micros(late) + 10 * 86_400 * 1_000_000], dtype=np.int64)
    with pytest.raises(InvalidInputError, match="9999"):
        Grid.parse("month@Europe/Oslo").floor_micros(beyond)
    # Fixed lengths and UTC calendars are plain arithmetic, with no such limit.
    assert Grid.parse("day").floor_micros(beyond)[0] % (86_400 * 1_000_000) == 0
    assert Grid.parse("year").floor_micros(np.array([], dtype=np.int64)).size == 0
    assert Grid.parse("year@Europe/Oslo").floor_micros(np.array([], dtype=np.int64)).size == 0


# -- the length and alignment worked out once ---------------------------------------------------

period_grids = st.builds(
    lambda start, minutes: Grid.period(start, start + dt.timedelta(minutes=minutes)),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)).map(
        lambda t: t.replace(microsecond=0, tzinfo=UTC)
    ),
    st.integers(1, 60 * 24 * 400),
)


@settings(max_examples=300, deadline=None)
@given(grids | period_grids, times)
def test_fixed_windows_by_arithmetic_on_the_grids_own_length_and_origin(
    grid: Grid, t: dt.datetime
) -> None:
    """A grid keeps its length and alignment in microseconds (worked out once, when it is made):
    they are its `seconds` and its origin (a period's start, Monday 1970-01-05 for weeks, else
    the epoch), a fixed window is the arithmetic on them, and the kept numbers take no part in
    equality, hashing, its text or a pickle."""
    seconds = grid.seconds
    assert grid._fixed_us() == (None if seconds is None else seconds * 1_000_000)
    aligned = ORIGIN if grid.unit == "week" else grid.origin or EPOCH
    assert grid._origin_us() == micros(aligned)
    if seconds is not None:
        size = seconds * 1_000_000
        start = (micros(t) - micros(aligned)) // size * size + micros(aligned)
        assert grid.floor(t) == EPOCH + start * US
        assert grid.next(t) == EPOCH + (start + size) * US
    again = Grid.parse(grid.to_str())
    assert again == grid
    assert hash(again) == hash(grid)
    assert pickle.loads(pickle.dumps(grid)) == grid
    assert "_size_us" not in repr(grid)
