"""Data drift: the share of the model's feature columns that drifted from the baseline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field

from vigil.analysis.drift import drift
from vigil.monitor.kinds.base import DRIFT_GAUGES, Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.specs import StaticThreshold
from vigil.monitor.windows import Window

if TYPE_CHECKING:
    from vigil.analysis.drift.report import ColumnDrift


class DriftOptions(KindOptions):
    columns: tuple[str, ...] | None = None
    """Columns compared (default: the model's features)."""
    method: str | None = None
    """A `vigil.drift` method for every column (default: each kind's default)."""
    drift_threshold: float | None = Field(default=None, gt=0)
    """The method's threshold (a p-value level or a distance)."""
    min_rows: int = Field(default=1, ge=1)
    """Windows with fewer rows are not measured."""


def column_figures(col: ColumnDrift) -> dict[str, Any]:
    """What a drift monitor stores of one column: the test and its verdict (read by /metrics),
    and the figures the dashboard shows of the cell (severity 1.0 = at the bar)."""
    return {
        "method": col.method,
        "statistic": col.statistic,
        "p_value": col.p_value,
        "drifted": col.drifted,
        "severity": round(col.severity, 4),
        "effect_method": col.effect_method,
        "effect_size": _finite(col.effect_size),
        "effect_threshold": col.effect_threshold,
        "reference_missing_share": _finite(col.reference_missing_share),
        "current_missing_share": _finite(col.current_missing_share),
        "new_categories": [str(n.value) for n in col.new_categories[:20]],
    }


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def drift_measurement(
    context: Context,
    window: Window,
    columns: Sequence[str],
    options: DriftOptions,
    *,
    predictions: bool,
) -> Measurement:

    reference = context.reference
    assert reference is not None
    if window.n_rows < options.min_rows:
        return Measurement(None, f"{window.n_rows} rows, fewer than {options.min_rows}")
    current = window.profile
    compared = [c for c in columns if c in reference.columns and c in current.columns]
    if not compared:
        return Measurement(None, f"none of the columns {list(columns)} is in both profiles")
    report = drift(
        reference,
        current,
        columns=compared,
        method=options.method,
        threshold=options.drift_threshold,
        prediction_columns=compared if predictions else (),
        charts=False,  # not stored (column_figures): the chart's shares were a tenth of a tick
    )
    details: dict[str, Any] = {
        "drifted_columns": list(report.drifted_columns),
        "columns": {name: column_figures(col) for name, col in report.columns.items()},
    }
    drifted = ", ".join(report.drifted_columns) or "none"
    return Measurement(
        report.share_drifted,
        f"{len(report.drifted_columns)} of {len(report.columns)} columns drifted ({drifted})",
        details,
    )


class DataDrift(MonitorKind):
    name = "data_drift"
    cacheable = True
    description = "Share of feature columns whose distribution drifted from the baseline."
    options_model = DriftOptions
    needs_reference = True
    default_threshold = StaticThreshold(upper=0.0)
    onset = True
    gauges = DRIFT_GAUGES

    def measure(self, context: Context, window: Window) -> Measurement:
        options: DriftOptions = self.options(context.monitor)
        columns = options.columns or tuple(context.model.features)
        return drift_measurement(context, window, columns, options, predictions=False)
