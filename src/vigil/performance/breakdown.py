"""Performance broken down: per segment (which segments and drifting features explain a change)
and across the groups of a sensitive attribute (fairness), read from the store."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from vigil.analysis.performance.columns import (
    Layout,
    PerformanceOptions,
    class_values,
    labelled_mask,
    resolve,
    rows,
    segment_values,
)
from vigil.analysis.performance.fairness import Fairness, fairness
from vigil.analysis.performance.realized import Metrics, measure, realized_series, split_windows
from vigil.analysis.performance.reports import FairnessReport, FairnessWindow, SegmentReport
from vigil.analysis.performance.segments import SegmentStat, correlate, decompose, rank_by_harm
from vigil.api.specs import ModelSpec
from vigil.errors import InvalidInputError
from vigil.performance.service import check_windows, count_windows, load_rows, window_size
from vigil.profile.groups import WindowSize
from vigil.schema import LABEL_COLUMN
from vigil.store.core import Store
from vigil.store.repositories import ModelRepository, WindowRepository
from vigil.store.stored_profiles import StoredProfile, merge_stored, tally_of
from vigil.windows import Grid


def positive_of(layout: Layout, options: PerformanceOptions) -> str:
    """The class whose selection fairness is about: the binary positive class, or the one
    `positive_class` names (one class against the rest)."""
    if layout.task != "classification":
        raise InvalidInputError("fairness needs a classification model")
    positive = options.positive_class or layout.positive_class
    if positive is None:
        raise InvalidInputError(
            f"the model has {len(layout.classes)} classes; name the favourable one with "
            f"positive_class (one of {list(layout.classes)[:10]})"
        )
    return positive


def check_attribute(spec: ModelSpec, attribute: str) -> None:
    if attribute not in spec.segments:
        raise InvalidInputError(
            f"sensitive attribute {attribute!r} is not a segment column of model "
            f"{spec.name!r} ({spec.segments}); declare it in `segments` so it is stored",
            attribute=attribute,
        )


def fairness_of(
    spec: ModelSpec,
    layout: Layout,
    table: pa.Table,
    attribute: str,
    positive: str,
    *,
    min_rows: int = 1,
) -> Fairness:
    """Fairness of the rows of `table` across the values of segment column `attribute`."""
    check_attribute(spec, attribute)
    groups = segment_values(table, attribute)
    data = rows(layout, table, labels=False)
    truth = class_values(table[LABEL_COLUMN]) if LABEL_COLUMN in table.column_names else None
    if truth is None:
        truth = np.full(table.num_rows, None, dtype=object)
    if data.keep is not None:
        groups, truth = groups[data.keep], truth[data.keep]
    return fairness(groups, data.y_pred, truth, positive, min_rows=min_rows)


def fairness_report(
    store: Store,
    model: str,
    *,
    attribute: str,
    window: str = "day",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    version: str | None = None,
    min_rows: int = 1,
    options: PerformanceOptions | None = None,
) -> FairnessReport:
    """Fairness across `attribute`'s groups, per window (of `window` read in the model's time
    zone when it names none, see `window_size`)."""
    window_size(window)  # a bad window is refused before any row is read
    options = options or PerformanceOptions()
    spec, table = load_rows(store, model, start, end, version=version)
    check_attribute(spec, attribute)
    size = window_size(window, spec)
    check_windows(count_windows(table, size), size)
    if table.num_rows == 0:
        return FairnessReport(model, attribute, size.to_str(), None, ())
    layout = resolve(spec, table, options)
    positive = positive_of(layout, options)
    windows = tuple(
        FairnessWindow(
            begin,
            finish,
            part.num_rows,
            fairness_of(spec, layout, part, attribute, positive, min_rows=min_rows),
            int(labelled_mask(part).sum()),
            spec.min_label_coverage,
        )
        for begin, finish, part in split_windows(table, size)
    )
    return FairnessReport(model, attribute, size.to_str(), positive, windows)


def _metric_value(metrics: Metrics | None, metric: str, cls: str | None) -> float | None:
    return None if metrics is None else metrics.value(metric, cls)


def _segment_stats(
    layout: Layout, table: pa.Table, column: str, metric: str, cls: str | None
) -> dict[str, SegmentStat]:
    values = segment_values(table, column)
    out = {}
    for value in sorted({v for v in values.tolist() if v is not None}):
        metrics = measure(layout, table.filter(pa.array(values == value)))
        out[value] = SegmentStat(
            0 if metrics is None else metrics.n, _metric_value(metrics, metric, cls)
        )
    return out


def drift_series(
    store: Store,
    model: str,
    features: list[str],
    baseline: tuple[dt.datetime, dt.datetime],
    starts: list[dt.datetime],
    size: WindowSize,
    *,
    version: str | None = None,
    segment: str = "",
) -> dict[str, list[float | None]]:
    """Per feature, the drift statistic (`vigil.drift`'s default method for its kind) of each
    window's stored profile against the baseline period's merged profile."""
    from vigil.analysis.drift import drift  # SciPy only when a drift series is asked for

    if not starts or not features:
        return {}
    grid = Grid.of(size)
    with store.read_session() as session:
        model_id = ModelRepository(session).get(model).id
        repo = WindowRepository(session)
        reference_rows = repo.list(
            model_id, version=version, start=baseline[0], end=baseline[1], segment=segment
        )
        current_rows = repo.list(
            model_id,
            version=version,
            start=min(starts),
            end=grid.next(max(starts)),
            segment=segment,
        )
        reference_blobs = [StoredProfile.of(w) for w in reference_rows]
        current = [(w.start, StoredProfile.of(w)) for w in current_rows]
        tally = tally_of(session)
    out: dict[str, list[float | None]] = {f: [] for f in features}
    if not reference_blobs:
        return {f: [None] * len(starts) for f in features}
    reference = merge_stored(reference_blobs, tally)
    for start in starts:
        end = grid.next(start)
        blobs = [b for s, b in current if start <= s < end]
        if not blobs:
            for f in features:
                out[f].append(None)
            continue
        profile = merge_stored(blobs, tally)
        compared = [f for f in features if f in reference.columns and f in profile.columns]
        report = drift(reference, profile, columns=compared) if compared else None
        for f in features:
            column = report.columns.get(f) if report is not None else None
            out[f].append(None if column is None else float(column.statistic))
    return out


def segment_report(
    store: Store,
    model: str,
    *,
    baseline_start: dt.datetime,
    baseline_end: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    metric: str = "accuracy",
    cls: str | None = None,
    columns: list[str] | None = None,
    window: str = "day",
    version: str | None = None,
    options: PerformanceOptions | None = None,
) -> SegmentReport:
    """The metric per segment in a baseline period and a current one, the segments ranked by
    how much of the change they explain, and the features whose per-window drift correlates
    with the metric's per-window series over the current period."""
    window_size(window)  # a bad window is refused before any row is read
    spec, base = load_rows(store, model, baseline_start, baseline_end, version=version)
    _, current = load_rows(store, model, start, end, version=version)
    size = window_size(window, spec)
    check_windows(count_windows(current, size), size)
    if base.num_rows == 0 or current.num_rows == 0:
        raise InvalidInputError(
            f"model {model!r} needs predictions in both periods (baseline: {base.num_rows}, "
            f"current: {current.num_rows})"
        )
    layout = resolve(spec, base, options or PerformanceOptions())
    chosen = columns if columns is not None else list(spec.segments)
    for column in chosen:
        if column not in spec.segments:
            raise InvalidInputError(
                f"{column!r} is not a segment column of model {model!r} ({spec.segments})",
                column=column,
            )
    overall_b = _metric_value(measure(layout, base), metric, cls)
    overall_c = _metric_value(measure(layout, current), metric, cls)
    if overall_b is None:
        raise InvalidInputError(
            f"{metric} is undefined on the baseline period (no labelled rows, or one class)"
        )
    changes = []
    for column in chosen:
        changes += decompose(
            column,
            _segment_stats(layout, base, column, metric, cls),
            _segment_stats(layout, current, column, metric, cls),
            overall_b,
        )
    change = None if overall_c is None else overall_c - overall_b
    residual: dict[str, float | None] = {}
    for column in chosen:
        total = sum(c.contribution for c in changes if c.column == column)
        residual[column] = None if change is None else change - total
    series = realized_series(layout, current, size, min_coverage=spec.min_label_coverage)
    metric_series = [_metric_value(w.metrics, metric, cls) for w in series]
    starts = [w.start for w in series]
    drifts = drift_series(
        store,
        model,
        list(spec.features),
        (baseline_start, baseline_end),
        starts,
        size,
        version=version,
    )
    return SegmentReport(
        model=model,
        metric=metric,
        cls=cls,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        baseline_value=overall_b,
        start=start,
        end=end,
        current_value=overall_c,
        segments=tuple(rank_by_harm(changes, metric)),
        residual=residual,
        windows=tuple(zip(starts, metric_series, strict=True)),
        drift_correlation=tuple(correlate(metric_series, drifts, metric)),
    )
