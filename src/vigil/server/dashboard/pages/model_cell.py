"""A drift cell of the model page's heatmap, opened by a click: what the drift monitors measured
of one column in one period, and the column's distribution beside the one it was compared with.
The feature page shows the same cell (`load_cell`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.analysis.drift.inputs import distribution
from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.ingestion import queries
from vigil.monitor.evaluate import measured_profiles
from vigil.monitor.period_drift import period_drift, period_profiles
from vigil.monitor.reading import ColumnFigures, describe_baseline
from vigil.performance.service import window_size
from vigil.server.dashboard import drift_charts
from vigil.server.dashboard.drift_cache import DriftCache
from vigil.server.dashboard.heatmap import (
    FINER,
    PAGE_MAX_PARTS,
    CellsQ,
    fits,
    partial_reason,
    period_label,
    zoom_link,
)
from vigil.server.dashboard.loaders import compared_columns, model_of, read
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class CellView:
    model: str
    feature: str
    start: dt.datetime
    end: dt.datetime
    granularity: str
    reference: str
    n_rows: int
    drift: ColumnFigures
    chart: Markup
    monitor: str
    label: str = ""
    """The period's name ("Mar 2026")."""
    partial: str = ""
    """Why the period is partial ("" when whole)."""
    zoom: str = ""
    """The link to this period by finer cells ("" for an hour)."""
    derived: bool = False
    """Whether the figures were measured on the merged period (no monitor of this grid)."""


def load_cell(
    store: Store, cache: DriftCache, name: str, feature: str, start: dt.datetime, granularity: str
) -> CellView:
    """What the drift monitors measured of one column in one period of `granularity` (in the
    model's time zone; `vigil.monitor.period_drift`), and the period's distribution of the
    column next to the one it was compared with. (`cache` is the feature page's reader of
    window statistics; drift cells come from `period_drift`.)"""
    model = model_of(store, name)
    grid = window_size(granularity, model)
    start, end = grid.window_of(start)
    found = period_drift(store, name, grid, start, end, max_parts=PAGE_MAX_PARTS)
    if start in found.deferred:
        raise NotFoundError(
            f"the {granularity} from {start.isoformat()} holds more than {PAGE_MAX_PARTS} stored "
            "windows and is not measured yet: the dashboard's background warmer measures it",
            column=feature,
        )
    cell = found.cells.get(start)
    figures = cell.columns.get(feature) if cell is not None else None
    if cell is None or figures is None:
        if feature not in compared_columns(model):
            raise NotFoundError(
                f"model {name!r} has no compared column {feature!r}", column=feature
            )
        raise NotFoundError(
            f"no drift monitor of model {name!r} has a result for column {feature!r} in the "
            f"{granularity} from {start.isoformat()}",
            column=feature,
        )
    monitor = cell.monitors[feature]
    period = found.periods.get(start)
    parts = period.n_parts if period is not None else 0
    chart = Markup('<p class="empty">No distribution chart for this column kind.</p>')
    if found.derived and parts > PAGE_MAX_PARTS:
        chart = Markup(
            f'<p class="empty">No distribution chart: the period merges {parts:,} stored '
            "windows, more than a page reads; zoom in for one of its parts.</p>"
        )
        reference = current = None
    elif found.derived:
        measured = period_profiles(store, monitor, grid, start)
        current, reference = measured.window.profile, measured.reference
    else:
        measured = measured_profiles(store, monitor, start)
        current, reference = measured.window.profile, measured.reference
    if (
        reference is not None
        and current is not None
        and feature in reference.columns
        and feature in current.columns
    ):
        shares = distribution(reference.columns[feature], current.columns[feature])
        if shares is not None:
            kind = "value range" if shares.edges else "category"
            bars = (shares.labels, shares.reference, shares.current)
            chart = drift_charts.distribution_bars(*bars, x_title=f"{feature}: {kind}")
    label = next(f"{describe_baseline(m)} ({m.name})" for m in found.monitors if m.name == monitor)
    span = read(store, lambda s: queries.traffic_span(s, name))
    data = (start, end) if span is None else (span[0], model.grid.next(span[1]))
    zone = model.grid.tz
    finer = FINER.get(grid.unit)
    if finer is not None and not fits(finer, model):
        finer = None
    return CellView(
        name,
        feature,
        start,
        end,
        granularity,
        label,
        period.n_rows if period is not None else 0,
        figures,
        chart,
        monitor,
        period_label(grid, start, zone),
        partial_reason(found.periods.get(start), start, end, data, zone),
        zoom_link(name, finer, start, grid.unit) if finer else "",
        found.derived,
    )


def parse_start(value: str, name: str = "start") -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{name} must be an ISO 8601 time such as 2026-11-02T00:00:00Z, got {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@router.get("/ui/models/{name}/cell")
async def cell_fragment(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    feature: str,
    start: str,
    granularity: CellsQ = "day",
) -> HTMLResponse:
    try:
        cell = await run_in_threadpool(
            load_cell,
            store,
            request.app.state.drift_cache,
            name,
            feature,
            parse_start(start),
            granularity,
        )
    except VigilError as exc:
        response = templates.fragment("message.html", {"message": exc.message})
        response.status_code = exc.status_code
        return response
    return templates.fragment("cell.html", {"cell": cell})
