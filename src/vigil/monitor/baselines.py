"""Baselines: which windows (or which stored profile) a monitor window is compared with."""

from __future__ import annotations

import datetime as dt

from vigil.monitor.specs import (
    AnyBaseline,
    PeriodBaseline,
    SeasonalBaseline,
    TrailingBaseline,
)
from vigil.monitor.windows import monitor_grid
from vigil.windows import GridLike

BASELINE_ARTIFACT_PREFIX = "monitor-baselines/"


def baseline_starts(baseline: AnyBaseline, start: dt.datetime, grid: GridLike) -> list[dt.datetime]:
    """Starts of the baseline windows of the monitor window beginning at `start` on `grid`."""
    cut = monitor_grid(grid)
    if isinstance(baseline, PeriodBaseline):
        return [s for s in cut.starts(baseline.start, baseline.end) if cut.next(s) <= baseline.end]
    if isinstance(baseline, TrailingBaseline):
        return [cut.shift(start, -i) for i in range(baseline.windows, 0, -1)]
    if isinstance(baseline, SeasonalBaseline):
        week = dt.timedelta(days=7)
        return [start - week * i for i in range(baseline.weeks, 0, -1)]
    return []
