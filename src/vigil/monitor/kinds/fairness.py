"""Fairness: a group-fairness figure of the window's decisions across a sensitive attribute
(a segment column): demographic parity difference, equal opportunity difference (needs labels;
re-evaluated when late labels arrive), or disparate impact ratio.

Equal opportunity difference of a window whose labels are incomplete (coverage below the model's
`min_label_coverage`, or fewer than `MIN_LABELLED_ROWS` labelled) is recorded as incomplete: no
value, no alert, `"status": "incomplete"` and the coverage in the details."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from vigil.analysis.performance.columns import PerformanceOptions, Task, labelled_mask, resolve
from vigil.analysis.performance.fairness import FAIRNESS_METRICS
from vigil.analysis.performance.realized import incomplete_reason
from vigil.errors import InvalidInputError
from vigil.monitor.kinds.base import Context, KindOptions, Measurement, MonitorKind
from vigil.monitor.kinds.realized_performance import incomplete, label_arrivals, target_rows
from vigil.monitor.specs import MonitorView, StaticThreshold
from vigil.monitor.windows import Window
from vigil.performance.breakdown import fairness_of, positive_of
from vigil.performance.service import load_rows


class FairnessOptions(KindOptions):
    attribute: str | None = Field(default=None, min_length=1, max_length=200)
    """The sensitive attribute: one of the model's segment columns (default: its first)."""
    metric: str = "demographic_parity_difference"
    positive_class: str | None = Field(default=None, max_length=200)
    """The favourable decision (default: the binary model's positive class)."""
    task: Task | None = None
    decision_threshold: float = Field(default=0.5, gt=0, lt=1)
    min_rows: int = Field(default=1, ge=1)
    """Groups with fewer predictions in the window are left out of the figure."""

    @model_validator(mode="after")
    def _known_metric(self) -> FairnessOptions:
        if self.metric not in FAIRNESS_METRICS:
            raise ValueError(
                f"unknown fairness metric {self.metric!r}; the metrics are {list(FAIRNESS_METRICS)}"
            )
        return self


class FairnessKind(MonitorKind):
    name = "fairness"
    description = (
        "Demographic parity difference, equal opportunity difference or disparate impact ratio "
        "of the window's decisions across the groups of a sensitive attribute."
    )
    options_model = FairnessOptions
    needs_profile = False
    default_threshold = StaticThreshold(upper=0.1)
    onset = True

    def check(self, monitor: MonitorView) -> None:
        options: FairnessOptions = self.options(monitor)
        if options.metric == "disparate_impact_ratio" and monitor.threshold is None:
            raise ValueError(
                "a 'disparate_impact_ratio' fairness monitor needs its own threshold, e.g. "
                '{"type": "static", "lower": 0.8} (the four-fifths rule); the default '
                "(upper 0.1) is for the differences"
            )

    def measure(self, context: Context, window: Window) -> Measurement:
        options: FairnessOptions = self.options(context.monitor)
        store, version, segment = target_rows(context)
        spec, table = load_rows(
            store, context.model.name, window.start, window.end, version=version, segment=segment
        )
        if table.num_rows == 0:
            return Measurement(None, "no predictions in the window")
        performance = PerformanceOptions(
            task=options.task,
            positive_class=options.positive_class,
            threshold=options.decision_threshold,
        )
        layout = resolve(spec, table, performance)
        positive = positive_of(layout, performance)
        attribute = options.attribute or (spec.segments[0] if spec.segments else None)
        if attribute is None:
            raise InvalidInputError(
                f"model {spec.name!r} has no segment column to measure fairness across; "
                "declare the sensitive attribute in `segments` and name it in options.attribute"
            )
        result = fairness_of(spec, layout, table, attribute, positive, min_rows=options.min_rows)
        value = result.value(options.metric)
        details: dict[str, Any] = {
            "attribute": attribute,
            "positive_class": positive,
            "groups": {
                g: {
                    "n": r.n,
                    "selection_rate": r.selection_rate,
                    "true_positive_rate": r.true_positive_rate,
                }
                for g, r in result.groups.items()
            },
        }
        if options.metric == "equal_opportunity_difference":
            n_labelled = int(labelled_mask(table).sum())
            details["n_labelled"] = n_labelled
            details["coverage"] = n_labelled / table.num_rows
            details["min_label_coverage"] = spec.min_label_coverage
            reason = incomplete_reason(table.num_rows, n_labelled, spec.min_label_coverage)
            if reason is not None:
                shown = "undefined" if value is None else f"{value:.3f}"
                return incomplete(reason, f"{options.metric} {shown}", {**details, "value": value})
        if value is None:
            return Measurement(
                None,
                f"{options.metric} is undefined: fewer than two groups of "
                f"{attribute!r} with enough rows (or labelled positives)",
                details,
            )
        return Measurement(
            value,
            f"{options.metric} across {attribute!r} is {value:.3f} ({len(result.groups)} groups)",
            details,
        )

    def arrivals(
        self, context: Context, evaluated: Mapping[dt.datetime, dt.datetime]
    ) -> dict[dt.datetime, dt.datetime]:
        options: FairnessOptions = self.options(context.monitor)
        if options.metric != "equal_opportunity_difference":
            return {}
        return label_arrivals(context, evaluated)
