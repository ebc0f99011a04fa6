"""Realized performance: a metric of the window's predictions that have a label so far.

Labels arrive late: a window evaluated before its labels came is re-evaluated when they arrive
within the monitor's grace period (`arrivals`), so set `grace` to how late labels come.

A window whose labels are incomplete (coverage below the model's `min_label_coverage`, fewer
than `MIN_LABELLED_ROWS` labelled rows, or fewer than the metric's minimum, `MINIMUMS`) is
recorded as incomplete: no value, so no alert and no part in a learned threshold; its details
say `"status": "incomplete"`, the coverage, why, and the value that was not judged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ConfigDict, Field, model_validator

from vigil.analysis.performance.columns import PerformanceOptions, Task, resolve
from vigil.analysis.performance.metrics import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    below_minimum,
)
from vigil.analysis.performance.realized import incomplete_reason
from vigil.analysis.performance.realized import measure as measure_rows
from vigil.errors import InvalidInputError
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.specs import LearnedThreshold
from vigil.monitor.targets import resolve as resolve_target
from vigil.monitor.windows import Window
from vigil.performance.service import label_arrivals as arrivals_of
from vigil.performance.service import load_rows
from vigil.store.repositories import ModelRepository

if TYPE_CHECKING:
    from vigil.store.core import Store


class PerformanceKindOptions(KindOptions):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    metric: str = "accuracy"
    """A classification metric (accuracy, precision, recall, f1, roc_auc, average_precision,
    log_loss) or a regression one (mae, rmse, mape, r2)."""
    class_name: str | None = Field(default=None, alias="class", max_length=200)
    """Measure one class against the rest (precision, recall, f1, roc_auc, average_precision)."""
    task: Task | None = None
    positive_class: str | None = Field(default=None, max_length=200)
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    """Binary models without a prediction column predict the positive class at this score."""
    min_labels: int = Field(default=1, ge=1)
    """Windows with fewer labelled predictions are not measured."""

    @model_validator(mode="after")
    def _known_metric(self) -> PerformanceKindOptions:
        known = (*CLASSIFICATION_METRICS, *REGRESSION_METRICS)
        if self.metric not in known:
            raise ValueError(f"unknown metric {self.metric!r}; the metrics are {list(known)}")
        return self

    def performance(self) -> PerformanceOptions:
        return PerformanceOptions(
            task=self.task, positive_class=self.positive_class, threshold=self.decision_threshold
        )


def target_rows(context: Context) -> tuple[Store, str | None, str]:
    """The store, and the version and segment key the monitor's target selects."""
    if context.store is None:
        raise InvalidInputError(
            "performance monitors read the stored predictions: no store was given"
        )
    target = context.monitor.target
    version = target.version
    if target.alias is not None:
        with context.store.read_session() as session:
            model_id = ModelRepository(session).get(context.model.name).id
            version = resolve_target(session, target, context.model, model_id).version
    return context.store, version, target.segment_key


def label_arrivals(
    context: Context, evaluated: Mapping[dt.datetime, dt.datetime]
) -> dict[dt.datetime, dt.datetime]:
    """Per evaluated window, the latest arrival of a label for one of its predictions, among
    label batches received after the earliest evaluation."""

    store, version, segment = target_rows(context)
    grid = context.monitor.grid
    first, last = min(evaluated), grid.next(max(evaluated))
    pairs = arrivals_of(
        store,
        context.model.name,
        min(evaluated.values()),
        first,
        last,
        version=version,
        segment=segment,
    )
    out: dict[dt.datetime, dt.datetime] = {}
    for when, at in pairs:
        start = grid.floor(when)
        if start not in out or out[start] < at:
            out[start] = at
    return out


def incomplete(reason: str, what: str, details: Mapping[str, Any]) -> Measurement:
    """A window recorded as incomplete: no value (neither ok nor an alert), `details` with
    `"status": "incomplete"` and `reason`; `what` names the figure that was not judged."""
    return Measurement(
        None,
        f"incomplete: {reason}; {what} not judged",
        {**details, "status": "incomplete", "incomplete_reason": reason},
    )


class RealizedPerformance(MonitorKind):
    name = "realized_performance"
    description = (
        "A performance metric (accuracy, F1, ROC AUC, MAE...) of the window's predictions joined "
        "to their labels; re-evaluated when late labels arrive within the grace period."
    )
    options_model = PerformanceKindOptions
    needs_profile = False
    default_threshold = LearnedThreshold(k=3.0, direction="both")
    onset = True

    def measure(self, context: Context, window: Window) -> Measurement:
        options: PerformanceKindOptions = self.options(context.monitor)
        store, version, segment = target_rows(context)
        spec, table = load_rows(
            store, context.model.name, window.start, window.end, version=version, segment=segment
        )
        if table.num_rows == 0:
            return Measurement(None, "no predictions in the window")
        layout = resolve(spec, table, options.performance())
        metrics = measure_rows(layout, table)
        n_labelled = 0 if metrics is None else metrics.n
        details: dict[str, Any] = {
            "n_predictions": table.num_rows,
            "n_labelled": n_labelled,
            "coverage": n_labelled / table.num_rows,
            "min_label_coverage": spec.min_label_coverage,
        }
        if metrics is None or n_labelled < options.min_labels:
            return Measurement(
                None,
                f"incomplete: {n_labelled} of {table.num_rows} predictions labelled, fewer than "
                f"{options.min_labels}",
                {**details, "status": "incomplete"},
            )
        value = metrics.value(options.metric, options.class_name)
        which = options.metric + (f" of class {options.class_name!r}" if options.class_name else "")
        defined = value is not None and bool(np.isfinite(value))
        reason = incomplete_reason(
            table.num_rows, n_labelled, spec.min_label_coverage
        ) or below_minimum(metrics).get(options.metric)
        if reason is not None:
            shown = f"{value:.4g}" if value is not None and defined else "undefined"
            return incomplete(
                reason,
                f"realized {which} {shown}",
                {**details, "value": value if defined else None},
            )
        if value is None or not defined:
            return Measurement(None, f"{which} is undefined on this window", details)
        details["status"] = "complete"
        details["metrics"] = {
            k: v
            for k, v in vars(metrics).items()
            if isinstance(v, float | int) and not isinstance(v, bool)
        }
        return Measurement(
            value,
            f"{which} {value:.4g} on {n_labelled} labelled predictions "
            f"({details['coverage']:.0%} of {table.num_rows})",
            details,
        )

    def arrivals(
        self, context: Context, evaluated: Mapping[dt.datetime, dt.datetime]
    ) -> dict[dt.datetime, dt.datetime]:
        return label_arrivals(context, evaluated)
