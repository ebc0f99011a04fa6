"""Baselines: which windows (or which stored profile) a monitor window is compared with."""

from __future__ import annotations

import datetime as dt
import functools

from vigil.monitor.specs import (
    AnyBaseline,
    PeriodBaseline,
    SeasonalBaseline,
    TrailingBaseline,
)
from vigil.monitor.windows import monitor_grid
from vigil.windows import Grid, GridLike

BASELINE_ARTIFACT_PREFIX = "monitor-baselines/"


def baseline_starts(baseline: AnyBaseline, start: dt.datetime, grid: GridLike) -> list[dt.datetime]:
    """Starts of the baseline windows of the monitor window beginning at `start` on `grid`."""
    cut = monitor_grid(grid)
    if isinstance(baseline, PeriodBaseline):
        return list(_period_starts(baseline.start, baseline.end, cut))
    if isinstance(baseline, TrailingBaseline):
        return [cut.shift(start, -i) for i in range(baseline.windows, 0, -1)]
    if isinstance(baseline, SeasonalBaseline):
        week = dt.timedelta(days=7)
        return [start - week * i for i in range(baseline.weeks, 0, -1)]
    return []


@functools.lru_cache(maxsize=4096)
def _period_starts(start: dt.datetime, end: dt.datetime, cut: Grid) -> tuple[dt.datetime, ...]:
    """The windows of `cut` that lie within [start, end), worked out once per period and grid:
    every window of a monitor with a period baseline asks for the same ones."""
    return tuple(s for s in cut.starts(start, end) if cut.next(s) <= end)
