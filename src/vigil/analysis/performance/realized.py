"""Realized performance per window: predictions joined to the labels that have arrived so far.

Every call recomputes from the stored rows, so a window's metrics change as its labels come in;
`coverage` says which share of its predictions had a label when it was computed. A window is
`complete` when its coverage reaches the model's `min_label_coverage` and it has at least
`MIN_LABELLED_ROWS` labelled rows; an incomplete window's metrics are reported but not judged (the
dashboard draws them as incomplete, monitors raise no alert on them). A metric measured on fewer
rows than its own minimum (`MINIMUMS`) is listed in `below_minimum`, with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.analysis.performance.columns import Layout, labelled_mask, rows
from vigil.analysis.performance.metrics import (
    MIN_LABELLED_ROWS,
    ClassificationMetrics,
    RegressionMetrics,
    below_minimum,
    classification_metrics,
    regression_metrics,
)
from vigil.schema import TIMESTAMP_COLUMN
from vigil.windows import EPOCH, Grid, GridLike

Metrics = ClassificationMetrics | RegressionMetrics


def incomplete_reason(n_predictions: int, n_labelled: int, min_coverage: float) -> str | None:
    """Why a window with `n_labelled` of `n_predictions` labelled is incomplete (None: it is
    complete): its coverage is below `min_coverage`, or it has fewer than `MIN_LABELLED_ROWS`."""
    coverage = n_labelled / n_predictions if n_predictions else 0.0
    if coverage < min_coverage:
        return (
            f"{n_labelled:,} of {n_predictions:,} predictions labelled ({coverage:.1%}), below "
            f"the model's min_label_coverage {min_coverage:.0%}"
        )
    if n_labelled < MIN_LABELLED_ROWS:
        return f"{n_labelled:,} labelled predictions, fewer than {MIN_LABELLED_ROWS}"
    return None


class LabelCoverage:
    """What a window with realized metrics says of its labels: the share of its predictions that
    have one, and whether that is enough to judge its metrics."""

    n_predictions: int
    n_labelled: int
    min_coverage: float
    below_minimum: dict[str, str]

    @property
    def coverage(self) -> float:
        """The share of the window's predictions that have a label."""
        return self.n_labelled / self.n_predictions if self.n_predictions else 0.0

    @property
    def incomplete_reason(self) -> str | None:
        return incomplete_reason(self.n_predictions, self.n_labelled, self.min_coverage)

    @property
    def complete(self) -> bool:
        """Enough of the window is labelled for its realized metrics to be judged."""
        return self.incomplete_reason is None

    def judged(self, metric: str) -> bool:
        """Whether the realized `metric` of this window may be judged (the window is complete
        and the metric is not below its minimum)."""
        return self.complete and metric not in self.below_minimum


@dataclass(frozen=True)
class WindowPerformance(LabelCoverage):
    start: dt.datetime
    end: dt.datetime
    n_predictions: int
    n_labelled: int
    metrics: Metrics | None
    """None while the window has no usable labelled row."""
    min_coverage: float = 0.0
    """The model's `min_label_coverage` the window was judged against."""
    below_minimum: dict[str, str] = field(default_factory=dict)
    """Metrics measured on fewer labelled rows than their minimum (`MINIMUMS`), with why."""


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


def realized_series(
    layout: Layout, table: pa.Table, window: GridLike, *, min_coverage: float
) -> list[WindowPerformance]:
    """Metrics and label coverage per window of `table` (predictions with joined labels), each
    window judged complete against `min_coverage` (the model's `min_label_coverage`)."""
    out = []
    for start, end, part in split_windows(table, window):
        metrics = measure(layout, part)
        out.append(
            WindowPerformance(
                start,
                end,
                part.num_rows,
                int(labelled_mask(part).sum()),
                metrics,
                min_coverage,
                {} if metrics is None else below_minimum(metrics),
            )
        )
    return out
