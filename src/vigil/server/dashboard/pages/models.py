"""The model page: drift heatmap (a click opens a cell, `model_cell`), volume and frequency,
performance and label coverage, KPIs, the alerts timeline, segments and fairness, and the alias
history. `CellView`, `load_cell` and `parse_start` are `model_cell`'s, imported from here too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.api.specs import ModelOut
from vigil.errors import VigilError
from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.monitor.alerts import Alert
from vigil.monitor.reading import find_alerts
from vigil.monitor.window_stats import GRANULARITY_SECONDS, floor
from vigil.performance.service import window_size
from vigil.registry.service import Registry
from vigil.server.dashboard import charts, sections
from vigil.server.dashboard.heatmap import (
    UNITS,
    CellsQ,
    Heatmap,
    build_heatmap,
    check_days,
)
from vigil.server.dashboard.loaders import latest_start, model_of, read, window_rows
from vigil.server.dashboard.pages import model_cell
from vigil.server.dashboard.pages.model_cell import CellView as CellView
from vigil.server.dashboard.pages.model_cell import load_cell as load_cell
from vigil.server.dashboard.pages.model_cell import parse_start as parse_start
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.server.deps import DashboardSettingsDep
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)
router.include_router(model_cell.router)

GranularityQ = Literal["day", "hour"]
"""The feature page's cells (UTC hours and days, as its window statistics are kept)."""
PeriodQ = Literal["day", "week", "month", "quarter", "year"]
"""The performance sections' windows (`sections.PERIODS`), in the model's time zone."""


@dataclass
class ModelPage:
    model: ModelOut
    heatmap: Heatmap | None
    volume: Markup
    uploads: Markup
    window_count: int
    coverage: Markup | None
    coverage_note: str
    kpis: list[tuple[str, Markup]]
    timeline: Markup
    alerts: list[Alert]
    segments: list[tuple[str, int]]
    alias_events: list[Any]
    alias_timeline: Markup
    production: int | None
    extra: dict[str, sections.Section] = field(default_factory=dict)


def range_start(last: dt.datetime, granularity: str, days: int) -> dt.datetime:
    """The first cell of the `days` that end with the cell holding `last`."""
    step = dt.timedelta(seconds=GRANULARITY_SECONDS[granularity])
    return floor(last, granularity) + step - dt.timedelta(days=days)


def _alias_history(
    store: Store, registry_model: str | None
) -> tuple[list[Any], Markup, int | None]:
    if not registry_model:
        return [], charts.timeline([]), None
    registry = Registry(store)
    try:
        info = registry.get_model(registry_model)
        events = [e for e in registry.events(registry_model) if e.kind.startswith("alias_")]
    except VigilError:
        return [], charts.timeline([]), None
    spans = []
    now = dt.datetime.now(dt.UTC)
    holding: dict[str, tuple[int, dt.datetime]] = {}
    for event in events:
        if event.kind not in ("alias_set", "alias_moved", "alias_deleted") or event.alias is None:
            continue
        if event.alias in holding:
            version, since = holding.pop(event.alias)
            spans.append(charts.Span(f"@{event.alias}", since, event.at, f"v{version}"))
        if event.kind != "alias_deleted" and event.to_version is not None:
            holding[event.alias] = (event.to_version, event.at)
    for alias, (version, since) in holding.items():
        spans.append(charts.Span(f"@{alias}", since, max(now, since), f"v{version} (now)"))
    return list(reversed(events)), charts.timeline(spans), info.aliases.get("production")


def load_model_page(
    store: Store,
    name: str,
    granularity: str,
    days: int,
    *,
    at: dt.datetime | None = None,
    of: str | None = None,
    budget_seconds: float | None = None,
    warming: bool = True,
) -> ModelPage:
    model = model_of(store, name)
    heatmap = build_heatmap(
        store,
        model,
        granularity,
        days,
        at=at,
        of=of,
        budget_seconds=budget_seconds,
        warming=warming,
    )
    grid = window_size(granularity, model)
    start = heatmap.columns[0].start if heatmap is not None and heatmap.columns else None
    end = heatmap.columns[-1].end if heatmap is not None and heatmap.columns else None
    rows = [r for r in window_rows(store, name, start) if end is None or r.start < end]
    grouped: dict[float, list[int]] = {}
    for row in rows:
        key = grid.floor(row.start).timestamp()
        entry = grouped.setdefault(key, [0, 0])
        entry[0] += row.n_rows
        entry[1] += row.n_uploads
    step = grid.seconds or int(
        (grid.next(rows[0].start) - grid.floor(rows[0].start)).total_seconds() if rows else 86_400
    )
    alerts = read(store, lambda s: find_alerts(s, model=name, limit=500))
    segments = read(store, lambda s: queries.segment_volumes(s, name))
    kpi_rows = read(store, lambda s: ingestion.list_kpis(s, model=name, start=start, end=end))
    volume = charts.bar_chart(
        [(k, float(v[0])) for k, v in sorted(grouped.items())],
        bar_width_seconds=step,
        y_label="rows",
    )
    uploads = charts.line_chart(
        [charts.Series("uploads", [(k, float(v[1])) for k, v in sorted(grouped.items())])],
        x=charts.Axis(time=True),
        y_label="uploads",
        height=140,
        y_min=0,
    )
    coverage, note = _coverage(store, name, start, model.min_label_coverage)
    by_name: dict[str, list[tuple[float, float | None]]] = {}
    for kpi in kpi_rows:
        by_name.setdefault(kpi.name, []).append((kpi.timestamp.timestamp(), kpi.value))
    kpis = [
        (
            n,
            charts.line_chart(
                [charts.Series(n, pts)], x=charts.Axis(time=True), y_label=n, height=160
            ),
        )
        for n, pts in sorted(by_name.items())
    ]
    spans = [
        charts.Span(
            a.monitor,
            a.first_window_start,
            model.grid.next(max(a.last_window_start, a.first_window_start)),
            f"#{a.id} {a.severity} {a.state}: {a.message}",
            a.severity,
        )
        for a in alerts
    ]
    events, alias_timeline, production = _alias_history(store, model.registry_model)
    page = ModelPage(
        model=model,
        heatmap=heatmap,
        volume=volume,
        uploads=uploads,
        window_count=len(rows),
        coverage=coverage,
        coverage_note=note,
        kpis=kpis,
        timeline=charts.timeline(spans),
        alerts=alerts[:20],
        segments=segments,
        alias_events=events,
        alias_timeline=alias_timeline,
        production=production,
    )
    page.extra = {"importance": sections.importances(store, model.registry_model, production)}
    return page


def _coverage(
    store: Store, name: str, start: dt.datetime | None, complete_from: float
) -> tuple[Markup | None, str]:
    """Predictions per day and the share with a label (from the stored prediction rows, as
    `GET /api/v1/models/{name}/predictions/volume` reads them), with the model's
    `min_label_coverage` as a line: days under it are incomplete."""
    try:
        days = queries.prediction_volume(store, name, start)
    except (VigilError, OSError) as exc:
        return None, f"prediction rows could not be read: {exc}"
    if not days:
        return None, (
            "No prediction rows are stored for this model (only profiles were logged), so label "
            "coverage and realized performance cannot be computed."
        )
    xs = [dt.datetime.combine(d.day, dt.time(), dt.UTC).timestamp() for d in days]
    chart = charts.line_chart(
        [
            charts.Series(
                "labelled share",
                [
                    (x, d.n_labelled / d.n_predictions if d.n_predictions else None)
                    for x, d in zip(xs, days, strict=True)
                ],
            ),
            charts.Series(
                f"complete from {complete_from:.0%}",
                [(xs[0], complete_from), (xs[-1], complete_from)],
                colour="#9ca3af",
            ),
        ],
        x=charts.Axis(time=True),
        y_label="label coverage",
        y_min=0,
        y_max=1,
        height=160,
    )
    total = sum(d.n_predictions for d in days)
    labelled = sum(d.n_labelled for d in days)
    return chart, f"{labelled:,} of {total:,} predictions have a label ({labelled / total:.1%})."


def parse_at(value: str | None) -> dt.datetime | None:
    return None if value is None else parse_start(value, "at")


@router.get("/ui/models/{name}")
async def model_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    dashboard: DashboardSettingsDep,
    name: str,
    granularity: CellsQ = "day",
    days: int | None = Query(default=None),
    at: str | None = Query(default=None, max_length=40),
    of: CellsQ | None = None,
    period: PeriodQ = "day",
) -> HTMLResponse:
    try:
        n_days = check_days(granularity, days)
        page = await run_in_threadpool(
            partial(
                load_model_page,
                store,
                name,
                granularity,
                n_days,
                at=parse_at(at),
                of=of,
                budget_seconds=dashboard.page_budget,
                warming=dashboard.warm_seconds > 0,
            )
        )
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    titles = {key: title for key, (title, _) in sections.LAZY.items()}
    context = {"title": name, "page": page, "lazy_titles": titles, "period": period}
    context["periods"] = sections.PERIODS
    context["units"] = UNITS
    return templates.page(request, "model.html", context, viewer=viewer)


@router.get("/ui/models/{name}/heatmap")
async def heatmap_fragment(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    dashboard: DashboardSettingsDep,
    name: str,
    granularity: CellsQ = "day",
    days: int | None = Query(default=None),
    at: str | None = Query(default=None, max_length=40),
    of: CellsQ | None = None,
) -> HTMLResponse:
    """The heatmap section alone: the page reloads it while cells are still being computed."""
    try:
        n_days = check_days(granularity, days)
        model = await run_in_threadpool(model_of, store, name)
        heatmap = await run_in_threadpool(
            partial(
                build_heatmap,
                store,
                model,
                granularity,
                n_days,
                at=parse_at(at),
                of=of,
                budget_seconds=dashboard.page_budget,
                warming=dashboard.warm_seconds > 0,
            )
        )
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.fragment("heatmap.html", {"heatmap": heatmap, "model": model})


@router.get("/ui/models/{name}/section/{key}")
async def section_fragment(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    key: str,
    days: int = 90,
    period: PeriodQ = "day",
) -> HTMLResponse:
    """One of the model page's slower sections (performance, fairness, retraining...), which
    the page loads after it is shown."""
    if key not in sections.LAZY:
        return templates.fragment("message.html", {"message": f"no section {key!r}"})
    title, build = sections.LAZY[key]

    def load() -> sections.Section:
        model = model_of(store, name)
        last = latest_start(store, name)
        start = None if last is None else range_start(last, "day", max(1, min(days, 400)))
        if key not in sections.PERIODIC:
            return build(store, model, start)
        if start is not None:  # the first window whole: its period's start, in the model's zone
            start = window_size(period, model).floor(start)
        return sections.PERIODIC[key](store, model, start, period)

    try:
        section = await run_in_threadpool(load)
    except VigilError as exc:
        section = sections.Section(title, empty=exc.message)
    return templates.fragment("section_fragment.html", {"s": section})
