"""Model performance: realized (with label coverage), estimated (CBPE), per segment, fairness.

The response shapes are documented in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, overload

from fastapi import APIRouter, Query

from vigil.analysis.performance.columns import PerformanceOptions, Task
from vigil.performance import breakdown, service
from vigil.server.deps import ReadAccess, StoreDep
from vigil.server.params import CountQuery

router = APIRouter(tags=["performance"])

Start = Annotated[dt.datetime | None, Query(description="Inclusive start (ISO 8601, UTC).")]
End = Annotated[dt.datetime | None, Query(description="Exclusive end (ISO 8601, UTC).")]
Window = Annotated[
    str,
    Query(
        max_length=100,
        description="hour, day, week, month, quarter, year, a length (6h) or a period "
        "<start>/<end>; calendar units in the model's time zone unless one is named (@zone).",
    ),
]
Version = Annotated[str | None, Query(max_length=200, description="One model version only.")]
Segment = Annotated[
    str, Query(max_length=400, description="One segment, `<column>=<value>` (default: all).")
]
TaskQuery = Annotated[
    Task | None, Query(description="classification or regression (default: inferred).")
]
Positive = Annotated[
    str | None, Query(max_length=200, description="The positive (favourable) class.")
]
Threshold = Annotated[
    float,
    Query(gt=0, lt=1, description="Binary models without a prediction column: score cut-off."),
]


@overload
def _utc(value: dt.datetime) -> dt.datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _options(task: Task | None, positive_class: str | None, threshold: float) -> PerformanceOptions:
    return PerformanceOptions(task=task, positive_class=positive_class, threshold=threshold)


@router.get("/api/v1/models/{name}/performance")
def realized_performance(
    _: ReadAccess,
    store: StoreDep,
    name: str,
    window: Window = "day",
    start: Start = None,
    end: End = None,
    version: Version = None,
    segment: Segment = "",
    task: TaskQuery = None,
    positive_class: Positive = None,
    threshold: Threshold = 0.5,
) -> dict[str, Any]:
    """Realized metrics per window from the predictions joined to the labels that have arrived,
    with each window's label coverage, whether it is complete (coverage at or above the model's
    min_label_coverage and 30 labelled rows) and which metrics are below their minimum."""
    report = service.realized(
        store,
        name,
        window=window,
        start=_utc(start),
        end=_utc(end),
        version=version,
        segment=segment,
        options=_options(task, positive_class, threshold),
    )
    return report.to_dict()


@router.get("/api/v1/models/{name}/performance/estimated")
def estimated_performance(
    _: ReadAccess,
    store: StoreDep,
    name: str,
    reference_start: Annotated[dt.datetime, Query(description="Labelled reference period start.")],
    reference_end: Annotated[dt.datetime, Query(description="Labelled reference period end.")],
    window: Window = "day",
    start: Start = None,
    end: End = None,
    version: Version = None,
    segment: Segment = "",
    task: TaskQuery = None,
    positive_class: Positive = None,
    threshold: Threshold = 0.5,
) -> dict[str, Any]:
    """Metrics estimated without labels (CBPE calibrated on the reference period), per window,
    beside the realized ones where labels have arrived."""
    report = service.estimated(
        store,
        name,
        reference_start=_utc(reference_start),
        reference_end=_utc(reference_end),
        window=window,
        start=_utc(start),
        end=_utc(end),
        version=version,
        segment=segment,
        options=_options(task, positive_class, threshold),
    )
    return report.to_dict()


@router.get("/api/v1/models/{name}/performance/segments")
def segment_performance(
    _: ReadAccess,
    store: StoreDep,
    name: str,
    baseline_start: Annotated[dt.datetime, Query(description="Baseline period start.")],
    baseline_end: Annotated[dt.datetime, Query(description="Baseline period end.")],
    start: Annotated[dt.datetime, Query(description="Current period start.")],
    end: Annotated[dt.datetime, Query(description="Current period end.")],
    metric: Annotated[str, Query(max_length=100)] = "accuracy",
    cls: Annotated[str | None, Query(alias="class", max_length=200)] = None,
    column: Annotated[
        list[str] | None, Query(description="Segment columns (default: all).")
    ] = None,
    window: Window = "day",
    version: Version = None,
    task: TaskQuery = None,
    positive_class: Positive = None,
    threshold: Threshold = 0.5,
) -> dict[str, Any]:
    """The metric per segment in both periods, the segments ranked by how much of the change
    they explain, and the features whose drift correlates with the metric per window."""
    report = breakdown.segment_report(
        store,
        name,
        baseline_start=_utc(baseline_start),
        baseline_end=_utc(baseline_end),
        start=_utc(start),
        end=_utc(end),
        metric=metric,
        cls=cls,
        columns=column,
        window=window,
        version=version,
        options=_options(task, positive_class, threshold),
    )
    return report.to_dict()


@router.get("/api/v1/models/{name}/fairness")
def fairness(
    _: ReadAccess,
    store: StoreDep,
    name: str,
    attribute: Annotated[str, Query(max_length=200, description="A segment column.")],
    window: Window = "day",
    start: Start = None,
    end: End = None,
    version: Version = None,
    min_rows: CountQuery = 1,
    task: TaskQuery = None,
    positive_class: Positive = None,
    threshold: Threshold = 0.5,
) -> dict[str, Any]:
    """Demographic parity difference, equal opportunity difference and disparate impact ratio
    across the groups of `attribute`, per window, with each group's rates."""
    report = breakdown.fairness_report(
        store,
        name,
        attribute=attribute,
        window=window,
        start=_utc(start),
        end=_utc(end),
        version=version,
        min_rows=min_rows,
        options=_options(task, positive_class, threshold),
    )
    return report.to_dict()
