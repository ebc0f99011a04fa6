"""Estimated performance, for windows whose labels have not arrived: a classification metric
expected from the window's calibrated scores (CBPE), or a regression model's MAE or RMSE expected
from loss models on its stored `row_features` and predictions (DLE). The estimator is learned on
a labelled reference period: `options.reference_start`/`reference_end`, else the monitor's
baseline windows (a `period`, or the `trailing` / `seasonal` windows before each window: the span
they cover).

The estimate needs no labels, so a window without them is measured; one with fewer predictions
than the metric's minimum (`MINIMUMS`, or `min_rows` when larger) is recorded as incomplete
(no value, no alert). The details carry the window's label coverage and, when its labels are
complete, the realized value beside the estimate.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, model_validator

from vigil.analysis.performance.columns import labelled_mask, resolve, rows
from vigil.analysis.performance.dle import DLE_METRICS, MIN_FIT_ROWS, EstimatedLoss
from vigil.analysis.performance.estimation import ESTIMATED_METRICS
from vigil.analysis.performance.metrics import MINIMUMS, below_minimum
from vigil.analysis.performance.realized import incomplete_reason
from vigil.analysis.performance.realized import measure as measure_rows
from vigil.errors import InvalidInputError
from vigil.monitor.baselines import baseline_starts
from vigil.monitor.kinds.base import Context, Measurement, MonitorKind
from vigil.monitor.kinds.realized_performance import (
    PerformanceKindOptions,
    incomplete,
    target_rows,
)
from vigil.monitor.specs import (
    LearnedThreshold,
    MonitorView,
    ProfileBaseline,
    RegistryBaseline,
)
from vigil.monitor.windows import Window
from vigil.performance.service import Estimator, estimate_table, fit_estimator, load_rows
from vigil.store.repositories import ModelRepository

if TYPE_CHECKING:
    import pyarrow as pa

    from vigil.analysis.performance.columns import Layout
    from vigil.store.core import Store


class EstimatedOptions(PerformanceKindOptions):
    reference_start: dt.datetime | None = None
    reference_end: dt.datetime | None = None
    min_rows: int = Field(default=1, ge=1)
    """Windows with fewer predictions (or fewer than the metric's minimum, `MINIMUMS`) are
    recorded as incomplete."""

    @model_validator(mode="after")
    def _estimable(self) -> EstimatedOptions:
        if self.metric not in (*ESTIMATED_METRICS, *DLE_METRICS):
            raise ValueError(
                f"metric {self.metric!r} cannot be estimated; the estimated metrics are "
                f"{list(ESTIMATED_METRICS)} (classification) and {list(DLE_METRICS)} (regression)"
            )
        if self.metric in DLE_METRICS and self.class_name is not None:
            raise ValueError(f"metric {self.metric!r} is a regression metric: it has no class")
        if (self.reference_start is None) != (self.reference_end is None):
            raise ValueError("give both reference_start and reference_end, or neither")
        if (
            self.reference_start
            and self.reference_end
            and self.reference_end <= self.reference_start
        ):
            raise ValueError("reference_end must be after reference_start")
        return self


def reference_period(
    monitor: MonitorView, options: EstimatedOptions, start: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The labelled period the calibration is learned on, for the window beginning at `start`
    (None: only check that there is one)."""
    if options.reference_start is not None and options.reference_end is not None:
        return options.reference_start, options.reference_end
    baseline = monitor.effective_baseline()
    if isinstance(baseline, ProfileBaseline | RegistryBaseline):
        raise ValueError(
            "an 'estimated_performance' monitor calibrates on labelled predictions, not on a "
            "stored profile: set options.reference_start and reference_end, or a period, "
            "trailing or seasonal baseline"
        )
    if start is None:
        start = dt.datetime.now(dt.UTC)
    starts = baseline_starts(baseline, start, monitor.grid)
    if not starts:
        raise InvalidInputError("the monitor's baseline has no windows to calibrate on")
    return min(starts), monitor.grid.next(max(starts))


class EstimatedPerformance(MonitorKind):
    name = "estimated_performance"
    description = (
        "A metric estimated without labels, learned on a labelled reference period: accuracy, "
        "precision, recall, F1 or ROC AUC of a classifier from its calibrated scores (CBPE), "
        "MAE or RMSE of a regression model from its row_features and predictions (DLE)."
    )
    options_model = EstimatedOptions
    needs_profile = False
    default_threshold = LearnedThreshold(k=3.0, direction="both")
    onset = True

    def __init__(self) -> None:
        self._fitted: OrderedDict[tuple[Any, ...], tuple[Layout, Estimator]] = OrderedDict()

    def check(self, monitor: MonitorView) -> None:
        reference_period(monitor, self.options(monitor))

    def _estimator(
        self,
        context: Context,
        options: EstimatedOptions,
        window: Window,
        target: tuple[Store, str | None, str],
    ) -> tuple[Layout, Estimator] | str:
        """The fitted estimator, or why there is none (no labelled reference rows yet).
        `target` is what `target_rows(context)` returned."""

        store, version, segment = target
        start, end = reference_period(context.monitor, options, window.start)
        with store.read_session() as session:
            model_id = ModelRepository(session).get(context.model.name).id
        # The fit depends on the reference rows and their labels: key it by the files they are in.
        files = tuple(store.predictions.files("labels", model_id)) + tuple(
            store.predictions.files("predictions", model_id, start, end)
        )
        key = (context.model.name, version, segment, start, end, options, files)
        if key not in self._fitted:
            spec, reference = load_rows(
                store, context.model.name, start, end, version=version, segment=segment
            )
            period = f"{start.isoformat()}..{end.isoformat()}"
            if reference.num_rows == 0:
                return f"no predictions in the reference period {period}"
            layout = resolve(spec, reference, options.performance())
            if layout.task == "classification" and len(rows(layout, reference)) == 0:
                return f"no labelled predictions with scores in the reference period {period}"
            if layout.task == "regression" and len(rows(layout, reference)) < MIN_FIT_ROWS:
                return (
                    f"fewer than {MIN_FIT_ROWS} labelled predictions in the reference period "
                    f"{period} to learn the loss from"
                )
            fitted, _ = fit_estimator(
                layout, reference, features=spec.row_features, model=context.model.name
            )
            self._fitted[key] = (layout, fitted)
            while len(self._fitted) > 16:
                self._fitted.popitem(last=False)
        return self._fitted[key]

    def measure(self, context: Context, window: Window) -> Measurement:
        options: EstimatedOptions = self.options(context.monitor)
        target = target_rows(context)
        store, version, segment = target
        _, table = load_rows(
            store, context.model.name, window.start, window.end, version=version, segment=segment
        )
        fewest = max(options.min_rows, MINIMUMS[options.metric].rows)
        if table.num_rows < fewest:
            return incomplete(
                f"{table.num_rows} predictions, fewer than {fewest}",
                f"estimated {options.metric}",
                {"n_predictions": table.num_rows},
            )
        fitted = self._estimator(context, options, window, target)
        if isinstance(fitted, str):
            return Measurement(None, fitted)
        layout, estimator = fitted
        estimate = estimate_table(layout, estimator, table)
        if estimate is None:
            missing = "a value" if layout.task == "regression" else "a score"
            return Measurement(None, f"no prediction in the window has {missing}")
        value = estimate.value(options.metric, options.class_name)
        which = options.metric + (f" of class {options.class_name!r}" if options.class_name else "")
        if value is None or not np.isfinite(value):
            return Measurement(None, f"estimated {which} is undefined on this window")
        details = {
            "n_predictions": estimate.n,
            "estimated": {
                m: estimate.value(m)
                for m in (DLE_METRICS if isinstance(estimate, EstimatedLoss) else ESTIMATED_METRICS)
            },
            **self._realized(layout, table, options, context.model.min_label_coverage),
        }
        return Measurement(
            value, f"estimated {which} {value:.4g} on {estimate.n} predictions", details
        )

    @staticmethod
    def _realized(
        layout: Layout, table: pa.Table, options: EstimatedOptions, min_coverage: float
    ) -> dict[str, Any]:
        """The window's label coverage, and its realized metric when the labels are complete."""
        n_labelled = int(labelled_mask(table).sum())
        out: dict[str, Any] = {
            "n_labelled": n_labelled,
            "coverage": n_labelled / table.num_rows,
            "complete": False,
        }
        if incomplete_reason(table.num_rows, n_labelled, min_coverage) is not None:
            return out
        metrics = measure_rows(layout, table)
        if metrics is None or options.metric in below_minimum(metrics):
            return out
        out["complete"] = True
        out["realized"] = metrics.value(options.metric, options.class_name)
        return out
