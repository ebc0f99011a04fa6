"""The typed results of the performance views, and their JSON shapes (`to_dict`, documented in
docs/performance.md) for the API and the client."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from vigil.analysis.performance.columns import Layout
from vigil.analysis.performance.dle import DLE_METRICS, EstimatedLoss
from vigil.analysis.performance.estimation import ESTIMATED_METRICS, EstimatedMetrics
from vigil.analysis.performance.fairness import FAIRNESS_METRICS, Fairness
from vigil.analysis.performance.metrics import CLASSIFICATION_METRICS, REGRESSION_METRICS
from vigil.analysis.performance.realized import LabelCoverage, Metrics, WindowPerformance
from vigil.analysis.performance.segments import DriftCorrelation, SegmentChange
from vigil.report.notebook import NotebookResult, Tone, line_chart_svg

EQUAL_OPPORTUNITY = "equal_opportunity_difference"
"""The one fairness figure that reads labels, so the one a window's coverage judges."""

_CHARTED = ("accuracy", "f1", "roc_auc", "mae", "rmse")
"""The metrics drawn inline in a notebook (all of them are in `to_pandas()`)."""


def _metrics(metrics: Metrics | EstimatedMetrics | EstimatedLoss | None) -> dict[str, Any] | None:
    return None if metrics is None else dataclasses.asdict(metrics)


def _metric_names(layout: Layout | None) -> tuple[str, ...]:
    if layout is None:
        return ()
    return REGRESSION_METRICS if layout.task == "regression" else CLASSIFICATION_METRICS


def _values(
    metrics: Metrics | EstimatedMetrics | EstimatedLoss | None, names: tuple[str, ...]
) -> dict[str, float | None]:
    return {name: None if metrics is None else getattr(metrics, name, None) for name in names}


def _chart(
    starts: list[dt.datetime], rows: list[dict[str, Any]], columns: tuple[str, ...], label: str
) -> str:
    series = {c: [r[c] for r in rows] for c in columns if any(r[c] is not None for r in rows)}
    return line_chart_svg(starts, series, y_label=label) if series else ""


def _window_fields(w: WindowPerformance | EstimatedWindow | FairnessWindow) -> dict[str, Any]:
    """A window's bounds, its predictions, how many of them have labels (and the share), and
    whether that is enough to judge its realized metrics (docs/performance.md, "Coverage")."""
    return {
        "start": w.start,
        "end": w.end,
        "n_predictions": w.n_predictions,
        "n_labelled": w.n_labelled,
        "coverage": w.coverage,
        "complete": w.complete,
        "incomplete_reason": w.incomplete_reason,
        "min_label_coverage": w.min_coverage,
        "below_minimum": dict(w.below_minimum),
    }


_COVERAGE_COLUMNS = ("start", "end", "n_predictions", "n_labelled", "coverage", "complete")


def _row_fields(w: WindowPerformance | EstimatedWindow) -> dict[str, Any]:
    """`_window_fields` as one `to_pandas()` row: the metrics below their minimum as one string
    ("roc_auc, f1"; "" when none)."""
    fields = _window_fields(w)
    return {
        **{c: fields[c] for c in _COVERAGE_COLUMNS},
        "below_minimum": ", ".join(sorted(w.below_minimum)),
    }


def _judged_split(
    rows: list[dict[str, Any]], complete: list[bool], column: str
) -> dict[str, list[Any]]:
    """`column` of `rows` as two chart series: the complete windows', and the incomplete ones'
    under "<column> (incomplete)", so that a partly labelled window is never drawn as a drop."""
    out = {column: [r[column] if ok else None for r, ok in zip(rows, complete, strict=True)]}
    partial = [None if ok else r[column] for r, ok in zip(rows, complete, strict=True)]
    if any(v is not None for v in partial):
        out[f"{column} (incomplete)"] = partial
    return out


def _layout(layout: Layout | None) -> dict[str, Any]:
    if layout is None:
        return {
            "task": None,
            "prediction_column": None,
            "score_columns": [],
            "classes": [],
            "positive_class": None,
        }
    return {
        "task": layout.task,
        "prediction_column": layout.prediction,
        "score_columns": list(layout.scores),
        "classes": list(layout.classes),
        "positive_class": layout.positive_class,
    }


@dataclass(frozen=True, repr=False)
class RealizedReport(NotebookResult):
    """Realized metrics and label coverage per window; `layout` None when there were no rows.

    `to_pandas()`: one row per window (start, end, n_predictions, n_labelled, coverage,
    complete, below_minimum, then each metric of the task). The notebook chart draws the
    windows whose metric may not be judged as a separate "(incomplete)" series.
    """

    model: str
    window: str
    segment: str
    layout: Layout | None
    windows: tuple[WindowPerformance, ...]

    def _columns(self) -> tuple[str, ...]:
        return (*_COVERAGE_COLUMNS, "below_minimum", *_metric_names(self.layout))

    def _rows(self) -> list[dict[str, Any]]:
        names = _metric_names(self.layout)
        return [
            {
                **_row_fields(w),
                **_values(w.metrics, names),
            }
            for w in self.windows
        ]

    def _headline(self) -> tuple[str, Tone]:
        labelled = sum(1 for w in self.windows if w.metrics is not None)
        incomplete = sum(1 for w in self.windows if not w.complete)
        return (
            f"{self.model} per {self.window}, segment {self.segment}: {len(self.windows)} "
            f"windows, {labelled} with labels, {incomplete} incomplete",
            "neutral",
        )

    def _chart_html(self) -> str:
        rows = self._rows()
        series: dict[str, list[Any]] = {}
        for name in (c for c in _CHARTED if c in _metric_names(self.layout)):
            judged = [w.judged(name) for w in self.windows]
            series.update(_judged_split(rows, judged, name))
        split = [{k: v[i] for k, v in series.items()} for i in range(len(rows))]
        return _chart([w.start for w in self.windows], split, tuple(series), "realized")

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "window": self.window,
            "segment": self.segment,
            **_layout(self.layout),
            "windows": [
                {
                    **_window_fields(w),
                    "metrics": _metrics(w.metrics),
                }
                for w in self.windows
            ],
        }


@dataclass(frozen=True)
class EstimatedWindow(LabelCoverage):
    """A window's estimated metrics beside its realized ones; `complete` and `below_minimum`
    judge the realized ones (the estimate needs no labels)."""

    start: dt.datetime
    end: dt.datetime
    n_predictions: int
    n_labelled: int
    estimated: EstimatedMetrics | EstimatedLoss | None
    """CBPE's expected metrics (classification) or DLE's expected loss (regression)."""
    realized: Metrics | None
    """The realized metrics of the labels that have arrived (None without any)."""
    min_coverage: float = 0.0
    """The model's `min_label_coverage` the realized metrics were judged against."""
    below_minimum: dict[str, str] = field(default_factory=dict)
    """Realized metrics measured on fewer labelled rows than their minimum, with why."""


@dataclass(frozen=True, repr=False)
class EstimatedReport(NotebookResult):
    """Estimated (label-free) metrics per window, beside the realized ones of the labels that
    arrived: CBPE's (accuracy, precision, recall, F1, ROC AUC) for a classification model, DLE's
    (MAE, RMSE) for a regression one. `to_pandas()`: one row per window, its coverage,
    `complete` (of the realized metrics) and `below_minimum`, then `estimated_<metric>` and
    `realized_<metric>`."""

    def _columns(self) -> tuple[str, ...]:
        return (
            *_COVERAGE_COLUMNS,
            "below_minimum",
            *(f"estimated_{m}" for m in self.metrics),
            *(f"realized_{m}" for m in self.metrics),
        )

    model: str
    window: str
    segment: str
    layout: Layout
    reference_start: dt.datetime
    reference_end: dt.datetime
    n_reference: int
    """Labelled reference rows the estimator was learned on."""
    windows: tuple[EstimatedWindow, ...]
    n_fitted: int | None = None
    """Reference rows the estimator was fitted on: DLE's loss models learn from a sample of at
    most `vigil.analysis.performance.dle.MAX_FIT_ROWS`; None means all `n_reference`."""

    @property
    def method(self) -> str:
        """The estimation method: "dle" (regression) or "cbpe" (classification)."""
        return "dle" if self.layout.task == "regression" else "cbpe"

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics estimated: DLE's for a regression model, CBPE's for a classifier."""
        return DLE_METRICS if self.layout.task == "regression" else ESTIMATED_METRICS

    def _rows(self) -> list[dict[str, Any]]:
        rows = []
        for w in self.windows:
            estimated = _values(w.estimated, self.metrics)
            realized = _values(w.realized, self.metrics)
            rows.append(
                {
                    **_row_fields(w),
                    **{f"estimated_{m}": v for m, v in estimated.items()},
                    **{f"realized_{m}": v for m, v in realized.items()},
                }
            )
        return rows

    def _headline(self) -> tuple[str, Tone]:
        return (
            f"{self.model} per {self.window}: {len(self.windows)} windows estimated "
            f"({self.method.upper()}) from {self.n_reference:,} labelled reference rows",
            "neutral",
        )

    def _chart_html(self) -> str:
        if self.method == "dle":
            metric = "mae"
        elif any(
            isinstance(w.estimated, EstimatedMetrics) and w.estimated.roc_auc for w in self.windows
        ):
            metric = "roc_auc"
        else:
            metric = "accuracy"
        rows = self._rows()
        realized = f"realized_{metric}"
        series = {
            f"estimated_{metric}": [r[f"estimated_{metric}"] for r in rows],
            **_judged_split(rows, [w.judged(metric) for w in self.windows], realized),
        }
        split = [{k: v[i] for k, v in series.items()} for i in range(len(rows))]
        return _chart([w.start for w in self.windows], split, tuple(series), metric)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "window": self.window,
            "segment": self.segment,
            **_layout(self.layout),
            "method": self.method,
            "reference": {
                "start": self.reference_start,
                "end": self.reference_end,
                "n_labelled": self.n_reference,
                "n_fitted": self.n_reference if self.n_fitted is None else self.n_fitted,
            },
            "windows": [
                {
                    **_window_fields(w),
                    "estimated": _metrics(w.estimated),
                    "realized": _metrics(w.realized),
                }
                for w in self.windows
            ],
        }


@dataclass(frozen=True)
class FairnessWindow(LabelCoverage):
    """One window's fairness figures; `complete` judges `equal_opportunity_difference`, the one
    figure that reads labels (the others need none)."""

    start: dt.datetime
    end: dt.datetime
    n_predictions: int
    result: Fairness
    n_labelled: int = 0
    min_coverage: float = 0.0
    below_minimum: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class FairnessReport(NotebookResult):
    """Group rates and fairness figures per window. `to_pandas()`: one row per window and group
    (its size, selection rate and true-positive rate), with the window's label coverage, whether
    it is complete (which judges `equal_opportunity_difference`) and its fairness figures."""

    def _columns(self) -> tuple[str, ...]:
        return (
            "start",
            "end",
            "coverage",
            "complete",
            "group",
            "n",
            "selection_rate",
            "true_positive_rate",
            *FAIRNESS_METRICS,
        )

    model: str
    attribute: str
    window: str
    positive_class: str | None
    windows: tuple[FairnessWindow, ...]

    def _rows(self) -> list[dict[str, Any]]:
        rows = []
        for w in self.windows:
            figures = {m: w.result.value(m) for m in FAIRNESS_METRICS}
            for group, rates in w.result.groups.items():
                rows.append(
                    {
                        "start": w.start,
                        "end": w.end,
                        "coverage": w.coverage,
                        "complete": w.complete,
                        "group": group,
                        "n": rates.n,
                        "selection_rate": rates.selection_rate,
                        "true_positive_rate": rates.true_positive_rate,
                        **figures,
                    }
                )
        return rows

    def _headline(self) -> tuple[str, Tone]:
        return (
            f"{self.model} by {self.attribute} per {self.window}: {len(self.windows)} windows, "
            f"positive class {self.positive_class!r}",
            "neutral",
        )

    def _chart_html(self) -> str:
        starts = [w.start for w in self.windows]
        rows = [
            {m: w.result.value(m) for m in ("demographic_parity_difference", EQUAL_OPPORTUNITY)}
            for w in self.windows
        ]
        series = {
            "demographic_parity_difference": [r["demographic_parity_difference"] for r in rows],
            **_judged_split(rows, [w.complete for w in self.windows], EQUAL_OPPORTUNITY),
        }
        return line_chart_svg(starts, series, y_label="difference between groups")

    def to_dict(self) -> dict[str, Any]:
        windows = []
        for w in self.windows:
            figures = dataclasses.asdict(w.result)
            figures.pop("positive_class")
            windows.append({**_window_fields(w), **figures})
        return {
            "model": self.model,
            "attribute": self.attribute,
            "window": self.window,
            "positive_class": self.positive_class,
            "windows": windows,
        }


@dataclass(frozen=True, repr=False)
class SegmentReport(NotebookResult):
    """A metric in a baseline and a current period, the segments that explain its change (most
    harmful first) and the features whose per-window drift correlates with it.

    `to_pandas()`: one row per segment (column, value), its shares and metric in both periods,
    and its contribution to the change (`within` the segment and from the `mix` of segments).
    """

    def _columns(self) -> tuple[str, ...]:
        return (
            "column",
            "value",
            "n_baseline",
            "n_current",
            "share_baseline",
            "share_current",
            "metric_baseline",
            "metric_current",
            "within",
            "mix",
        )

    model: str
    metric: str
    cls: str | None
    baseline_start: dt.datetime
    baseline_end: dt.datetime
    baseline_value: float
    start: dt.datetime
    end: dt.datetime
    current_value: float | None
    segments: tuple[SegmentChange, ...]
    residual: dict[str, float | None]
    """Per segment column: the change minus the sum of its segments' contributions."""
    windows: tuple[tuple[dt.datetime, float | None], ...]
    """The metric per window of the current period."""
    drift_correlation: tuple[DriftCorrelation, ...]

    @property
    def change(self) -> float | None:
        if self.current_value is None:
            return None
        return self.current_value - self.baseline_value

    def _rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(c) for c in self.segments]

    def _headline(self) -> tuple[str, Tone]:
        current = "no value" if self.current_value is None else f"{self.current_value:.4g}"
        return (
            f"{self.model} {self.metric}: {self.baseline_value:.4g} in the baseline, "
            f"{current} now; {len(self.segments)} segments",
            "neutral",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "metric": self.metric,
            "class": self.cls,
            "baseline": {
                "start": self.baseline_start,
                "end": self.baseline_end,
                "value": self.baseline_value,
            },
            "current": {"start": self.start, "end": self.end, "value": self.current_value},
            "change": self.change,
            "segments": [dataclasses.asdict(c) for c in self.segments],
            "residual": dict(self.residual),
            "windows": [{"start": s, "value": v} for s, v in self.windows],
            "drift_correlation": [dataclasses.asdict(c) for c in self.drift_correlation],
        }
