"""The typed results of the performance views, and their JSON shapes (`to_dict`, documented in
docs/performance.md) for the API and the client."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from vigil.performance.columns import Layout
from vigil.performance.estimation import EstimatedMetrics
from vigil.performance.fairness import Fairness
from vigil.performance.realized import Metrics, WindowPerformance
from vigil.performance.segments import DriftCorrelation, SegmentChange


def _metrics(metrics: Metrics | EstimatedMetrics | None) -> dict[str, Any] | None:
    return None if metrics is None else dataclasses.asdict(metrics)


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


@dataclass(frozen=True)
class RealizedReport:
    """Realized metrics and label coverage per window; `layout` None when there were no rows."""

    model: str
    window: str
    segment: str
    layout: Layout | None
    windows: tuple[WindowPerformance, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "window": self.window,
            "segment": self.segment,
            **_layout(self.layout),
            "windows": [
                {
                    "start": w.start,
                    "end": w.end,
                    "n_predictions": w.n_predictions,
                    "n_labelled": w.n_labelled,
                    "coverage": w.coverage,
                    "metrics": _metrics(w.metrics),
                }
                for w in self.windows
            ],
        }


@dataclass(frozen=True)
class EstimatedWindow:
    start: dt.datetime
    end: dt.datetime
    n_predictions: int
    n_labelled: int
    estimated: EstimatedMetrics | None
    realized: Metrics | None
    """The realized metrics of the labels that have arrived (None without any)."""

    @property
    def coverage(self) -> float:
        return self.n_labelled / self.n_predictions if self.n_predictions else 0.0


@dataclass(frozen=True)
class EstimatedReport:
    model: str
    window: str
    segment: str
    layout: Layout
    reference_start: dt.datetime
    reference_end: dt.datetime
    n_reference: int
    """Labelled reference rows the calibration was learned on."""
    windows: tuple[EstimatedWindow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "window": self.window,
            "segment": self.segment,
            **_layout(self.layout),
            "reference": {
                "start": self.reference_start,
                "end": self.reference_end,
                "n_labelled": self.n_reference,
            },
            "windows": [
                {
                    "start": w.start,
                    "end": w.end,
                    "n_predictions": w.n_predictions,
                    "n_labelled": w.n_labelled,
                    "coverage": w.coverage,
                    "estimated": _metrics(w.estimated),
                    "realized": _metrics(w.realized),
                }
                for w in self.windows
            ],
        }


@dataclass(frozen=True)
class FairnessWindow:
    start: dt.datetime
    end: dt.datetime
    n_predictions: int
    result: Fairness


@dataclass(frozen=True)
class FairnessReport:
    model: str
    attribute: str
    window: str
    positive_class: str | None
    windows: tuple[FairnessWindow, ...]

    def to_dict(self) -> dict[str, Any]:
        windows = []
        for w in self.windows:
            figures = dataclasses.asdict(w.result)
            figures.pop("positive_class")
            windows.append(
                {"start": w.start, "end": w.end, "n_predictions": w.n_predictions, **figures}
            )
        return {
            "model": self.model,
            "attribute": self.attribute,
            "window": self.window,
            "positive_class": self.positive_class,
            "windows": windows,
        }


@dataclass(frozen=True)
class SegmentReport:
    """A metric in a baseline and a current period, the segments that explain its change (most
    harmful first) and the features whose per-window drift correlates with it."""

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
