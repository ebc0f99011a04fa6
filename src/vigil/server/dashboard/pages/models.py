"""The model page: drift heatmap (a click opens a cell), volume and frequency, performance and
label coverage, KPIs, the alerts timeline, segments and fairness, and the alias history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import func, select

from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.ingestion import service
from vigil.server.dashboard import charts, sections
from vigil.server.dashboard.drift_cache import (
    GRANULARITY_SECONDS,
    DriftCache,
    Reference,
    buckets,
    compared_columns,
    floor,
    merged_windows,
    reference_of,
)
from vigil.server.dashboard.loaders import (
    find_monitored,
    latest_start,
    targets_model,
    targets_model_sql,
    window_rows,
)
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.store.core import Store
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.monitor_tables import AlertRow

router = APIRouter(include_in_schema=False)

GranularityQ = Literal["day", "hour"]
DEFAULT_DAYS = {"day": 90, "hour": 7}
MAX_DAYS = {"day": 400, "hour": 14}


@dataclass(frozen=True)
class Heatmap:
    granularity: str
    days: int
    reference: str
    svg: Markup
    missing: int
    features: list[str]


@dataclass
class ModelPage:
    model: MonitoredModel
    heatmap: Heatmap | None
    volume: Markup
    uploads: Markup
    window_count: int
    coverage: Markup | None
    coverage_note: str
    kpis: list[tuple[str, Markup]]
    timeline: Markup
    alerts: list[AlertRow]
    segments: list[tuple[str, int]]
    alias_events: list[Any]
    alias_timeline: Markup
    production: int | None
    extra: dict[str, sections.Section] = field(default_factory=dict)


def _model(store: Store, name: str) -> MonitoredModel:
    with store.session() as session:
        model = find_monitored(session, name)
        if model is None:
            raise NotFoundError(f"no monitored model {name!r}", model=name)
        session.expunge(model)
        session.rollback()
        return model


def _check_days(granularity: str, days: int | None) -> int:
    days = days or DEFAULT_DAYS[granularity]
    if not 1 <= days <= MAX_DAYS[granularity]:
        raise InvalidInputError(
            f"days must be 1 to {MAX_DAYS[granularity]} for {granularity}ly cells, got {days}"
        )
    return days


def range_start(last: dt.datetime, granularity: str, days: int) -> dt.datetime:
    """The first cell of the `days` that end with the cell holding `last`."""
    step = dt.timedelta(seconds=GRANULARITY_SECONDS[granularity])
    return floor(last, granularity) + step - dt.timedelta(days=days)


def build_heatmap(
    store: Store,
    cache: DriftCache,
    model: MonitoredModel,
    granularity: str,
    days: int,
    budget: float,
) -> Heatmap | None:
    reference = cache.reference(model)
    if reference is None:
        return None
    with store.session() as session:
        last = latest_start(session, model.id)
        session.rollback()
    if last is None:
        return None
    start = range_start(last, granularity, days)
    with store.session() as session:
        wanted = buckets(session, model.id, granularity, start)
        session.rollback()
    missing = cache.refresh(
        model, reference, granularity, start=start, budget_seconds=budget, wanted=wanted
    )
    cells = cache.cells(model.id, reference.key, granularity, start)
    starts = [b.start for b in wanted]
    features = [
        c for c in compared_columns(model) if any(c in cell.scores for cell in cells.values())
    ]
    if not features:
        features = compared_columns(model)
    svg = charts.heatmap(
        features, starts, {s: c.scores for s, c in cells.items()}, granularity=granularity
    )
    pending = len([s for s in starts if s not in cells])
    return Heatmap(granularity, days, reference.label, svg, max(missing, pending), features)


def _alias_history(
    store: Store, registry_model: str | None
) -> tuple[list[Any], Markup, int | None]:
    if not registry_model:
        return [], charts.timeline([]), None
    from vigil.registry.service import Registry

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
    store: Store, cache: DriftCache, name: str, granularity: str, days: int, budget: float
) -> ModelPage:
    model = _model(store, name)
    heatmap = build_heatmap(store, cache, model, granularity, days, budget)
    step = GRANULARITY_SECONDS[granularity]
    with store.session() as session:
        try:
            last = latest_start(session, model.id)
            start = None if last is None else range_start(last, granularity, days)
            rows = window_rows(session, model.id, start=start)
            grouped: dict[float, list[int]] = {}
            for row in rows:
                key = floor(row.start, granularity).timestamp()
                entry = grouped.setdefault(key, [0, 0])
                entry[0] += row.n_rows
                entry[1] += row.n_uploads
            alerts = [
                a
                for a in session.scalars(
                    select(AlertRow)
                    .where(targets_model_sql(model.name))
                    .order_by(AlertRow.id.desc())
                    .limit(500)
                )
                if targets_model(a.target, model.name)
            ]
            session.expunge_all()
            segments = [
                (key, int(n))
                for key, n in session.execute(
                    select(ProfileWindow.segment, func.sum(ProfileWindow.n_rows))
                    .where(ProfileWindow.model_id == model.id, ProfileWindow.segment != "")
                    .group_by(ProfileWindow.segment)
                    .order_by(ProfileWindow.segment)
                )
            ]
            kpi_rows = service.list_kpis(session, model=model.name, start=start)
        finally:
            session.rollback()
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
    coverage, note = _coverage(store, model, start)
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
            a.monitor_name,
            a.first_window_start,
            max(a.last_window_start, a.first_window_start)
            + dt.timedelta(seconds=model.window_seconds),
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
    store: Store, model: MonitoredModel, start: dt.datetime | None
) -> tuple[Markup | None, str]:
    """Predictions per day and the share with a label (from the stored prediction rows)."""
    try:
        days = store.predictions.daily_volume(model.id, start, None)
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
            )
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


@router.get("/ui/models/{name}")
async def model_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    granularity: GranularityQ = "day",
    days: int | None = Query(default=None),
) -> HTMLResponse:
    try:
        n_days = _check_days(granularity, days)
        cache: DriftCache = request.app.state.drift_cache
        budget = request.app.state.dashboard_settings.page_budget
        page = await run_in_threadpool(
            load_model_page, store, cache, name, granularity, n_days, budget
        )
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    titles = {key: title for key, (title, _) in sections.LAZY.items()}
    return templates.page(
        request, "model.html", {"title": name, "page": page, "lazy_titles": titles}, viewer=viewer
    )


@router.get("/ui/models/{name}/heatmap")
async def heatmap_fragment(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    granularity: GranularityQ = "day",
    days: int | None = Query(default=None),
) -> HTMLResponse:
    """The heatmap section alone: the page reloads it while cells are still being computed."""
    try:
        n_days = _check_days(granularity, days)
        model = await run_in_threadpool(_model, store, name)
        cache: DriftCache = request.app.state.drift_cache
        budget = request.app.state.dashboard_settings.page_budget
        heatmap = await run_in_threadpool(
            build_heatmap, store, cache, model, granularity, n_days, budget
        )
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.fragment("heatmap.html", {"heatmap": heatmap, "model": model})


@dataclass(frozen=True)
class CellView:
    model: str
    feature: str
    start: dt.datetime
    end: dt.datetime
    granularity: str
    reference: str
    n_rows: int
    drift: Any
    chart: Markup


def load_cell(
    store: Store,
    name: str,
    feature: str,
    start: dt.datetime,
    granularity: str,
    cache: DriftCache | None = None,
) -> CellView:
    """A window's distribution of one column next to the reference's, with its drift test."""
    from vigil.analysis.drift import drift
    from vigil.analysis.drift.inputs import distribution

    model = _model(store, name)
    if feature not in compared_columns(model):
        raise NotFoundError(f"model {name!r} has no compared column {feature!r}", column=feature)
    reference: Reference | None = (
        cache.reference(model) if cache is not None else reference_of(store, model)
    )
    if reference is None:
        raise NotFoundError(f"model {name!r} has no data yet")
    start = floor(start, granularity)
    end = start + dt.timedelta(seconds=GRANULARITY_SECONDS[granularity])
    with store.session() as session:
        ids = session.scalars(
            select(ProfileWindow.id).where(
                ProfileWindow.model_id == model.id,
                ProfileWindow.segment == "",
                ProfileWindow.start >= start,
                ProfileWindow.start < end,
            )
        ).all()
        current = merged_windows(session, ids)
        session.rollback()
    if feature not in current.columns or feature not in reference.profile.columns:
        raise NotFoundError(
            f"column {feature!r} is not in both the reference and the window starting "
            f"{start.isoformat()}"
        )
    report = drift(reference.profile, current, columns=[feature])
    column = report.columns[feature]
    shares = distribution(reference.profile.columns[feature], current.columns[feature])
    chart = (
        charts.distribution_bars(shares.labels, shares.reference, shares.current)
        if shares is not None
        else Markup('<p class="empty">No distribution chart for this column kind.</p>')
    )
    return CellView(
        name, feature, start, end, granularity, reference.label, current.n_rows, column, chart
    )


def parse_start(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"start must be an ISO 8601 time such as 2026-11-02T00:00:00Z, got {value!r}"
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
    granularity: GranularityQ = "day",
) -> HTMLResponse:
    try:
        cell = await run_in_threadpool(
            load_cell,
            store,
            name,
            feature,
            parse_start(start),
            granularity,
            request.app.state.drift_cache,
        )
    except VigilError as exc:
        response = templates.fragment("message.html", {"message": exc.message})
        response.status_code = exc.status_code
        return response
    return templates.fragment("cell.html", {"cell": cell})


@router.get("/ui/models/{name}/section/{key}")
async def section_fragment(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    key: str,
    days: int = 90,
) -> HTMLResponse:
    """One of the model page's slower sections (performance, fairness, retraining...), which
    the page loads after it is shown."""
    if key not in sections.LAZY:
        return templates.fragment("message.html", {"message": f"no section {key!r}"})
    title, build = sections.LAZY[key]

    def load() -> sections.Section:
        model = _model(store, name)
        with store.session() as session:
            last = latest_start(session, model.id)
            session.rollback()
        start = None if last is None else range_start(last, "day", max(1, min(days, 400)))
        return build(store, model, start)

    try:
        section = await run_in_threadpool(load)
    except VigilError as exc:
        section = sections.Section(title, empty=exc.message)
    return templates.fragment("section_fragment.html", {"s": section})
