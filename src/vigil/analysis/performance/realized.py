"""Realized performance per window: predictions joined to the labels that have arrived so far.

Every call recomputes from the stored rows, so a window's metrics change as its labels come in;
`coverage` says which share of its predictions had a label when it was computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.analysis.performance.columns import Layout, labelled_mask, rows
from vigil.analysis.performance.metrics import (
    ClassificationMetrics,
    RegressionMetrics,
    classification_metrics,
    regression_metrics,
)
from vigil.schema import TIMESTAMP_COLUMN
from vigil.windows import EPOCH, Grid, GridLike

Metrics = ClassificationMetrics | RegressionMetrics


@dataclass(frozen=True)
class WindowPerformance:
    start: dt.datetime
    end: dt.datetime
    n_predictions: int
    n_labelled: int
    metrics: Metrics | None
    """None while the window has no usable labelled row."""

    @property
    def coverage(self) -> float:
        """The share of the window's predictions that have a label."""
        return self.n_labelled / self.n_predictions if self.n_predictions else 0.0


def measure(layout: Layout, table: pa.Table) -> Metrics | None:
    """Metrics of the labelled rows of `table` (None without any)."""
    data = rows(layout, table)
    if len(data) == 0:
        return None
    if layout.task == "regression":
        assert data.values_true is not None
        assert data.values_pred is not None
        return regression_metrics(data.values_true, data.values_pred)
    return classification_metrics(
        data.y_true, data.y_pred, layout.classes, data.proba, layout.positive_class
    )


def window_starts(table: pa.Table, window: GridLike) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each row's window start, in microseconds since the epoch."""
    micros = pc.cast(table[TIMESTAMP_COLUMN], pa.int64()).to_numpy(zero_copy_only=False)
    return Grid.of(window).floor_micros(np.asarray(micros, dtype=np.int64))


def split_windows(
    table: pa.Table, window: GridLike
) -> list[tuple[dt.datetime, dt.datetime, pa.Table]]:
    """`table`'s rows per window, in time order (windows without rows are left out)."""
    if table.num_rows == 0:
        return []
    grid = Grid.of(window)
    starts = window_starts(table, grid)
    out = []
    for start in np.unique(starts).tolist():
        begin, end = grid.window_of(EPOCH + dt.timedelta(microseconds=int(start)))
        out.append((begin, end, table.filter(pa.array(starts == start))))
    return out


def realized_series(layout: Layout, table: pa.Table, window: GridLike) -> list[WindowPerformance]:
    """Metrics and label coverage per window of `table` (predictions with joined labels)."""
    out = []
    for start, end, part in split_windows(table, window):
        out.append(
            WindowPerformance(
                start, end, part.num_rows, int(labelled_mask(part).sum()), measure(layout, part)
            )
        )
    return out
