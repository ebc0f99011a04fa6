"""The period grid (`"<start>/<end>"`, `Grid.period`) and the model's zone for names without one
(`Grid.parse(default_tz=)`): serialisation and window laws, by hypothesis."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import InvalidInputError
from vigil.windows import EPOCH, Grid

UTC = dt.UTC
_US = dt.timedelta(microseconds=1)
starts = st.integers(-60_000_000_000, 250_000_000_000).map(
    lambda s: EPOCH + dt.timedelta(seconds=s)
)  # the years 68 to 9892 (with 3 neighbours of 12 years on either side)
lengths = st.integers(60, 12 * 366 * 86_400).map(lambda s: dt.timedelta(seconds=s))


@settings(max_examples=200, deadline=None)
@given(starts, lengths, st.integers(-3, 3), st.floats(0, 1, exclude_max=True))
def test_a_period_is_one_window_and_its_string_reads_back(
    start: dt.datetime, length: dt.timedelta, k: int, where: float
) -> None:
    grid = Grid.period(start, start + length)
    assert Grid.parse(grid.to_str()) == grid
    assert grid.window_of(start) == (start, start + length)
    assert grid.window_of(start + length - _US) == (start, start + length)
    assert grid.seconds == int(length.total_seconds())
    # Its neighbours have its length, aligned on its start.
    t = start + k * length + where * length
    first, last = grid.window_of(t)
    assert last - first == length
    assert (first - start) % length == dt.timedelta(0)
    micros = np.array([(t - EPOCH) // _US], dtype=np.int64)
    assert int(grid.floor_micros(micros)[0]) == (first - EPOCH) // _US


@pytest.mark.parametrize("unit", ["day", "week", "month", "quarter", "year"])
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC"])
def test_calendar_names_without_a_zone_take_the_default(unit: str, zone: str) -> None:
    assert Grid.parse(unit, default_tz=zone) == Grid.parse(f"{unit}@{zone}")
    assert Grid.parse(f"{unit}@UTC", default_tz=zone) == Grid.parse(unit)


@pytest.mark.parametrize("text", ["hour", "15m", "6h", "3d"])
def test_hours_and_lengths_never_move(text: str) -> None:
    assert Grid.parse(text, default_tz="Europe/Berlin") == Grid.parse(text)


def test_a_period_of_local_dates_in_a_zone() -> None:
    short = Grid.parse("2026-03-29/2026-03-30", default_tz="Europe/Berlin")
    assert short.window_of(dt.datetime(2026, 3, 29, 12, tzinfo=UTC)) == (
        dt.datetime(2026, 3, 28, 23, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 22, tzinfo=UTC),
    )
    assert short.seconds == 23 * 3600
    assert short.to_str() == "2026-03-28T23:00:00Z/2026-03-29T22:00:00Z"
    assert Grid.parse("2026-10-25/2026-10-26@Europe/Berlin").seconds == 25 * 3600
    # An offset given wins over the zone.
    assert Grid.parse("2026-01-01T00:00:00Z/2026-02-01T00:00:00Z", default_tz="Asia/Tokyo") == (
        Grid.parse("2026-01-01/2026-02-01")
    )


def test_periods_at_the_calendars_ends_read_back() -> None:
    whole = Grid.parse("0001-01-01/9999-12-31")
    assert whole.to_str() == "0001-01-01/9999-12-31"
    late = Grid.parse("0999-12-30T06:00:00Z/9999-12-31T23:59:59Z")
    assert Grid.parse(late.to_str()) == late


def test_a_period_on_the_epochs_alignment_is_the_named_grid() -> None:
    assert Grid.parse("2026-01-01/2026-01-02") == Grid("day")
    assert Grid.parse("2026-01-01T05:00:00Z/2026-01-01T06:00:00Z") == Grid("hour")
    off = Grid.parse("2026-01-01T05:30:00Z/2026-01-01T06:30:00Z")
    assert off != Grid("hour")
    assert off.nests("30m")
    assert not off.nests("hour")
    assert Grid.parse("day@Asia/Kolkata").nests(off)  # +05:30: local midnights on its half hours


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-01/2026-01-01", "must be after its start"),
        ("2026-01-01/2026-01-01T00:00:30", "whole seconds between 60 s"),
        ("2026-01-01/soon", "'soon' in window '2026-01-01/soon' is not an ISO 8601"),
        ("2026-01-01/2026-02-01/2026-03-01", "is not a period"),
        ("2026-01-01T00:00:00.5/2026-02-01", "whole second"),
        ("0001-01-01T00:00:00+14:00/0001-02-01", "outside the years 1 to 9999"),
    ],
)
def test_bad_periods_name_the_value(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Grid.parse(text)
