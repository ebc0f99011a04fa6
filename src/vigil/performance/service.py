"""Performance read from the store: what the API, the client's local mode and the monitor kinds
call. Rows are a model's predictions joined to their latest labels (DuckDB over the Parquet
files), optionally of one version and one segment. Per segment and fairness: `breakdown`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from vigil.analysis.performance.columns import (
    Layout,
    PerformanceOptions,
    labelled_mask,
    resolve,
    rows,
    segment_values,
)
from vigil.analysis.performance.dle import DLE, EstimatedLoss, fit_table, stored_features
from vigil.analysis.performance.dle import estimate_table as estimate_loss
from vigil.analysis.performance.estimation import CBPE, EstimatedMetrics
from vigil.analysis.performance.metrics import below_minimum
from vigil.analysis.performance.realized import (
    measure,
    realized_series,
    split_windows,
    window_starts,
)
from vigil.analysis.performance.reports import EstimatedReport, EstimatedWindow, RealizedReport
from vigil.api.specs import ModelSpec
from vigil.caps import MAX_WINDOWS
from vigil.errors import InvalidInputError
from vigil.schema import ID_COLUMN, TIMESTAMP_COLUMN, VERSION_COLUMN
from vigil.store.core import Store
from vigil.store.models import IngestedBatch
from vigil.store.predictions import batch_of
from vigil.store.repositories import ModelRepository, spec_of
from vigil.windows import Grid


def check_windows(count: int, size: Grid) -> None:
    """Refuse a report of more than `MAX_WINDOWS` windows (InvalidInputError naming both)."""
    if count > MAX_WINDOWS:
        raise InvalidInputError(
            f"{count:,} {size.to_str()} windows hold rows in this period; one report computes "
            f"at most {MAX_WINDOWS:,}: use a longer window (e.g. 'day', 'week' or 'month') or a "
            "shorter period (start/end)",
            windows=count,
            limit=MAX_WINDOWS,
        )


def count_windows(table: pa.Table, size: Grid) -> int:
    """How many windows of `size` hold rows of `table` (what a report would measure)."""
    if table.num_rows == 0:
        return 0
    return len(np.unique(window_starts(table, size)))


def window_size(name: str, spec: ModelSpec | None = None) -> Grid:
    """The grid a request names ("day", "month", "day@Europe/Oslo", "2026-01-01/2026-04-01",
    ...; see vigil.windows): a calendar unit or period that names no zone is read in the zone
    of `spec`'s grid, so "month" of a model on "day@Europe/Berlin" is Berlin's months."""
    return Grid.parse(name, default_tz=None if spec is None else spec.grid.tz)


def parse_segment(key: str) -> tuple[str, str] | None:
    """`"column=value"` as (column, value); "" is the whole traffic (None)."""
    if not key:
        return None
    column, sep, value = key.partition("=")
    if not sep or not column:
        raise InvalidInputError(
            f"segment must be '<column>=<value>' (e.g. country=FR), got {key!r}", segment=key
        )
    return column, value


def load_rows(
    store: Store,
    model: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    version: str | None = None,
    segment: str = "",
) -> tuple[ModelSpec, pa.Table]:
    """The model's spec, and its prediction rows in [start, end) with their latest label."""
    with store.read_session() as session:
        stored = ModelRepository(session).get(model)
        model_id, spec = stored.id, spec_of(stored)
    table = store.predictions.joined(model_id, start, end)
    if version is not None and VERSION_COLUMN in table.column_names:
        table = table.filter(pc.equal(table[VERSION_COLUMN], version))
    chosen = parse_segment(segment)
    if chosen is not None:
        column, value = chosen
        if column not in spec.segments:
            raise InvalidInputError(
                f"{column!r} is not a segment column of model {model!r} ({spec.segments})",
                segment=segment,
            )
        if table.num_rows:
            table = table.filter(pa.array(segment_values(table, column) == value))
    return spec, table


def realized(
    store: Store,
    model: str,
    *,
    window: str = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    version: str | None = None,
    segment: str = "",
    options: PerformanceOptions | None = None,
) -> RealizedReport:
    """Realized metrics and label coverage per window of the model's rows in [start, end)."""
    window_size(window)  # a bad window is refused before any row is read
    spec, table = load_rows(store, model, start, end, version=version, segment=segment)
    size = window_size(window, spec)
    if table.num_rows == 0:
        return RealizedReport(model, size.to_str(), segment, None, ())
    check_windows(count_windows(table, size), size)
    layout = resolve(spec, table, options or PerformanceOptions())
    series = tuple(realized_series(layout, table, size, min_coverage=spec.min_label_coverage))
    return RealizedReport(model, size.to_str(), segment, layout, series)


Estimator = CBPE | DLE
"""A fitted label-free estimator: CBPE (classification) or DLE (regression)."""


def fit_estimator(
    layout: Layout,
    reference: pa.Table,
    *,
    calibrate: bool = True,
    features: Sequence[str] = (),
    model: str = "",
) -> tuple[Estimator, int]:
    """The estimator learned on the labelled rows of `reference`, and their count: CBPE for a
    classification model with scores, DLE from the stored `features` for a regression model."""
    if layout.task == "regression":
        present = stored_features(features, reference, model)
        estimator = fit_table(layout, reference, present)
        return estimator, len(rows(layout, reference))
    if not layout.scores:
        raise InvalidInputError(
            "estimated performance needs a classification model with score columns "
            "(the probability of the positive class, or one per class), or a regression model"
        )
    data = rows(layout, reference)
    if len(data) == 0:
        raise InvalidInputError(
            "the reference period has no labelled rows with scores to calibrate on"
        )
    assert data.scores is not None
    cbpe = CBPE.fit(
        data.y_true, data.scores, layout.classes, layout.positive_class, calibrate=calibrate
    )
    return cbpe, len(data)


def estimate_table(
    layout: Layout, estimator: Estimator, table: pa.Table
) -> EstimatedMetrics | EstimatedLoss | None:
    """The estimate of `table`'s rows (None when none of them can be estimated)."""
    if isinstance(estimator, DLE):
        return estimate_loss(layout, estimator, table)
    data = rows(layout, table, labels=False)
    if len(data) == 0:
        return None
    assert data.scores is not None
    return estimator.estimate(data.y_pred, data.scores)


def estimated(
    store: Store,
    model: str,
    *,
    reference_start: dt.datetime,
    reference_end: dt.datetime,
    window: str = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    version: str | None = None,
    segment: str = "",
    options: PerformanceOptions | None = None,
) -> EstimatedReport:
    """Estimated metrics per window, learned on the reference period's labelled rows (CBPE for
    classification, DLE from the model's `row_features` for regression), beside the realized
    ones where labels have arrived."""
    window_size(window)  # a bad window is refused before any row is read
    if reference_end <= reference_start:
        raise InvalidInputError(
            f"reference_end {reference_end.isoformat()} must be after reference_start "
            f"{reference_start.isoformat()}"
        )
    spec, reference = load_rows(
        store, model, reference_start, reference_end, version=version, segment=segment
    )
    _, table = load_rows(store, model, start, end, version=version, segment=segment)
    size = window_size(window, spec)
    if reference.num_rows == 0:
        raise InvalidInputError(
            f"model {model!r} has no predictions in the reference period "
            f"{reference_start.isoformat()}..{reference_end.isoformat()}"
        )
    check_windows(count_windows(table, size), size)
    layout = resolve(spec, reference, options or PerformanceOptions())
    estimator, n_reference = fit_estimator(
        layout, reference, features=spec.row_features, model=model
    )
    windows = []
    for begin, finish, part in split_windows(table, size):
        n_labelled = int(labelled_mask(part).sum())
        realized_metrics = measure(layout, part) if n_labelled else None
        windows.append(
            EstimatedWindow(
                begin,
                finish,
                part.num_rows,
                n_labelled,
                estimate_table(layout, estimator, part),
                realized_metrics,
                spec.min_label_coverage,
                {} if realized_metrics is None else below_minimum(realized_metrics),
            )
        )
    return EstimatedReport(
        model,
        size.to_str(),
        segment,
        layout,
        reference_start,
        reference_end,
        n_reference,
        tuple(windows),
        estimator.n_fitted if isinstance(estimator, DLE) else n_reference,
    )


def label_arrivals(
    store: Store,
    model: str,
    after: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    *,
    version: str | None = None,
    segment: str = "",
) -> list[tuple[dt.datetime, dt.datetime]]:
    """(prediction time, label arrival) of the model's predictions in [start, end) that received
    a label in a batch recorded after `after`: what makes a past window's realized performance
    change."""
    with store.read_session() as session:
        model_id = ModelRepository(session).get(model).id
        received = dict(
            session.execute(
                select(IngestedBatch.batch_id, IngestedBatch.received_at).where(
                    IngestedBatch.model_id == model_id,
                    IngestedBatch.kind == "labels",
                    IngestedBatch.received_at > after,
                )
            ).all()
        )
    if not received:
        return []
    keys = [k for k in store.predictions.files("labels", model_id) if batch_of(k) in received]
    arrival: dict[str, dt.datetime] = {}
    for key in keys:
        at = received[batch_of(key)]
        for label_id in store.predictions.read_files([key])[ID_COLUMN].to_pylist():
            if label_id not in arrival or arrival[label_id] < at:
                arrival[label_id] = at
    if not arrival:
        return []
    _, table = load_rows(store, model, start, end, version=version, segment=segment)
    if ID_COLUMN not in table.column_names:
        return []
    out = []
    for pid, when in zip(
        table[ID_COLUMN].to_pylist(), table[TIMESTAMP_COLUMN].to_pylist(), strict=True
    ):
        if pid in arrival:
            out.append((when, arrival[pid]))
    return out
