"""The feature page: a column's mean, 5%-95% band, median and missing share over time (stored
window statistics), its drift severity as the drift monitors measured it, and the latest
measured window against the monitor's reference."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.errors import NotFoundError, VigilError
from vigil.server.dashboard import charts
from vigil.server.dashboard.drift_cache import DriftCache
from vigil.server.dashboard.loaders import compared_columns, latest_start, model_of
from vigil.server.dashboard.pages.models import CellView, GranularityQ, load_cell, range_start
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.server.deps import DashboardSettingsDep
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)

VALUES_TITLE = "value (column units)"
MISSING_TITLE = "missing share (0-1)"
SEVERITY_TITLE = "severity (1 = drift)"
"""The y axes' titles of the feature page's charts (tall enough to show them whole)."""


@dataclass
class FeaturePage:
    model: str
    feature: str
    kind: str
    reference: str
    granularity: str
    days: int
    values: Markup
    missing: Markup
    severity: Markup
    cell: CellView | None
    pending: int


def load_feature(
    store: Store,
    cache: DriftCache,
    name: str,
    feature: str,
    granularity: str,
    days: int,
    budget: float,
) -> FeaturePage:
    model = model_of(store, name)
    if feature not in compared_columns(model):
        raise NotFoundError(
            f"model {name!r} has no column {feature!r}; its columns: {compared_columns(model)}",
            column=feature,
        )
    last = latest_start(store, name)
    if last is None:
        raise NotFoundError(f"model {name!r} has no data yet")
    start = range_start(last, granularity, days)
    statistics = cache.statistics
    pending = statistics.refresh(name, granularity, start=start, budget_seconds=budget)
    cells = sorted(statistics.cells(name, granularity, start).items())
    found = cache.drift(name, granularity, start, None)
    measured = sorted(
        (t, cell.columns[feature]) for t, cell in found.cells.items() if feature in cell.columns
    )
    stats = [(t.timestamp(), c.stats.get(feature) or {}) for t, c in cells]
    numeric = any("mean" in s for _, s in stats)
    kind = "numeric" if numeric else "categorical or boolean"
    if numeric:
        band = charts.Band([(t, s.get("q05"), s.get("q95")) for t, s in stats], "5%-95%")
        values = charts.line_chart(
            [
                charts.Series("mean", [(t, s.get("mean")) for t, s in stats]),
                charts.Series("median", [(t, s.get("q50")) for t, s in stats], "#16a34a"),
            ],
            band=band,
            x=charts.Axis(time=True, label=f"{granularity} (UTC)"),
            y_label=VALUES_TITLE,
            title=f"{feature} over time",
            height=240,
        )
    else:
        values = Markup(
            '<p class="empty">Not numeric: see its category shares in the comparison below.</p>'
        )
    missing = charts.line_chart(
        [charts.Series("missing share", [(t, s.get("missing")) for t, s in stats])],
        x=charts.Axis(time=True, label=f"{granularity} (UTC)"),
        y_label=MISSING_TITLE,
        y_min=0,
        height=220,
    )
    severity = charts.line_chart(
        [
            charts.Series(
                "drift severity", [(t.timestamp(), f.score[0]) for t, f in measured], "#dc2626"
            ),
            charts.Series("drift bar", [(t.timestamp(), 1.0) for t, _ in measured], "#9ca3af"),
        ],
        x=charts.Axis(time=True, label=f"{granularity} (UTC)"),
        y_label=SEVERITY_TITLE,
        y_min=0,
        height=220,
        title="drift severity over time",
    )
    cell = None
    if measured:
        try:
            cell = load_cell(store, cache, name, feature, measured[-1][0], granularity)
        except NotFoundError:
            cell = None
    return FeaturePage(
        name,
        feature,
        kind,
        found.reference or "no drift monitor",
        granularity,
        days,
        values,
        missing,
        severity,
        cell,
        max(pending, 0),
    )


@router.get("/ui/models/{name}/features/{feature}")
async def feature_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    dashboard: DashboardSettingsDep,
    name: str,
    feature: str,
    granularity: GranularityQ = "day",
    days: int = 90,
) -> HTMLResponse:
    try:
        days = max(1, min(days, 400 if granularity == "day" else 14))
        cache: DriftCache = request.app.state.drift_cache
        budget = dashboard.page_budget
        page = await run_in_threadpool(
            load_feature, store, cache, name, feature, granularity, days, budget
        )
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.page(
        request, "feature.html", {"title": f"{feature} · {name}", "p": page}, viewer=viewer
    )
