"""A period baseline's windows are worked out once per period and grid (`baselines._period_starts`,
cached): the same windows as the rule says, every window of `grid.starts(start, end)` that ends
by `end` (the first one floored: it may begin before `start`), for any period and grid, asked
once or many times, whatever the monitor window."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.monitor.baselines import baseline_starts
from vigil.monitor.specs import PeriodBaseline
from vigil.windows import Grid

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)

grids = st.sampled_from(["hour", "day", "week", "6h", "15m", "month", "day@Europe/Oslo"]).map(
    Grid.parse
)


@settings(max_examples=150, deadline=None)
@given(
    grid=grids,
    offset=st.integers(-500, 500),
    minutes=st.integers(1, 60 * 24 * 45),
    window=st.integers(0, 2_000),
)
def test_the_windows_within_the_period(grid: Grid, offset: int, minutes: int, window: int) -> None:
    start = T0 + dt.timedelta(minutes=7 * offset)
    end = start + dt.timedelta(minutes=minutes)
    baseline = PeriodBaseline(start=start, end=end)
    at = grid.floor(T0 + dt.timedelta(hours=window))
    expected = [s for s in grid.starts(start, end) if grid.next(s) <= end]
    first = baseline_starts(baseline, at, grid)
    assert first == expected
    assert all(grid.next(s) <= end for s in first)
    again = baseline_starts(baseline, grid.shift(at, 3), grid.to_str())
    assert again == expected
    again.append(T0)  # a caller's list is its own: the cached windows stay as they are
    assert baseline_starts(baseline, at, grid) == expected
