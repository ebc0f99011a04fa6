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

from vigil.analysis.drift.inputs import distribution
from vigil.api.specs import ModelOut
from vigil.errors import InvalidInputError, NotFoundError, VigilError
from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.monitor.alerts import Alert
from vigil.monitor.evaluate import measured_profiles
from vigil.monitor.reading import ColumnFigures, describe_baseline, find_alerts
from vigil.monitor.window_stats import GRANULARITY_SECONDS, floor
from vigil.performance.service import window_size
from vigil.registry.service import Registry
from vigil.server.dashboard import charts, drift_charts, sections
from vigil.server.dashboard.drift_cache import DriftCache
from vigil.server.dashboard.loaders import (
    compared_columns,
    latest_start,
    model_of,
    read,
    window_rows,
)
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.store.core import Store

router = APIRouter(include_in_schema=False)

GranularityQ = Literal["day", "hour"]
PeriodQ = Literal["day", "week", "month", "quarter", "year"]
"""The performance sections' windows (`sections.PERIODS`), in the model's time zone."""
DEFAULT_DAYS = {"day": 90, "hour": 7}
MAX_DAYS = {"day": 400, "hour": 14}


@dataclass(frozen=True)
class Heatmap:
    granularity: str
    days: int
    reference: str
    svg: Markup
    missing: int
    """Cells still being computed (0: the drift cells are stored results, never computed here)."""
    features: list[str]
    unmeasured: int = 0
    """Windows with data that no drift monitor has a result for."""
    note: str = ""
    monitored: bool = True
    """Whether a drift monitor of this window length watches the model."""


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
    store: Store, cache: DriftCache, model: ModelOut, granularity: str, days: int
) -> Heatmap | None:
    """The drift monitors' stored results of the model's last `days`, columns by windows."""
    last = latest_start(store, model.name)
    if last is None:
        return None
    start = range_start(last, granularity, days)
    end = floor(last, granularity) + dt.timedelta(seconds=GRANULARITY_SECONDS[granularity])
    found = cache.drift(model.name, granularity, start, end)
    with_data = {floor(w.start, granularity) for w in window_rows(store, model.name, start)}
    starts = sorted(with_data | set(found.cells))
    columns = compared_columns(model)
    measured = {c for cell in found.cells.values() for c in cell.columns}
    features = [c for c in columns if c in measured] + sorted(measured - set(columns))
    unmeasured = len([s for s in starts if s not in found.cells])
    if not found.monitors:
        return Heatmap(
            granularity,
            days,
            "no drift monitor",
            Markup(
                f'<p class="empty">No drift monitor of this model measures {granularity}ly '
                "windows: define one (kind data_drift or prediction_drift, window "
                f"{granularity}) and its results appear here.</p>"
            ),
            0,
            columns,
            monitored=False,
        )
    svg = drift_charts.heatmap(
        features or columns,
        starts,
        {s: {c: f.score for c, f in cell.columns.items()} for s, cell in found.cells.items()},
        granularity=granularity,
    )
    note = (
        f"{unmeasured} {granularity}(s) with data have no drift result yet: monitors evaluate "
        "windows as they close (`vigil monitors run --from ... --to ...` evaluates older ones)."
        if unmeasured
        else ""
    )
    return Heatmap(
        granularity, days, found.reference, svg, 0, features or columns, unmeasured, note
    )


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
    store: Store, cache: DriftCache, name: str, granularity: str, days: int
) -> ModelPage:
    model = model_of(store, name)
    heatmap = build_heatmap(store, cache, model, granularity, days)
    step = GRANULARITY_SECONDS[granularity]
    last = latest_start(store, name)
    start = None if last is None else range_start(last, granularity, days)
    rows = window_rows(store, name, start)
    grouped: dict[float, list[int]] = {}
    for row in rows:
        key = floor(row.start, granularity).timestamp()
        entry = grouped.setdefault(key, [0, 0])
        entry[0] += row.n_rows
        entry[1] += row.n_uploads
    alerts = read(store, lambda s: find_alerts(s, model=name, limit=500))
    segments = read(store, lambda s: queries.segment_volumes(s, name))
    kpi_rows = read(store, lambda s: ingestion.list_kpis(s, model=name, start=start))
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


@router.get("/ui/models/{name}")
async def model_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    name: str,
    granularity: GranularityQ = "day",
    days: int | None = Query(default=None),
    period: PeriodQ = "day",
) -> HTMLResponse:
    try:
        n_days = _check_days(granularity, days)
        cache: DriftCache = request.app.state.drift_cache
        page = await run_in_threadpool(load_model_page, store, cache, name, granularity, n_days)
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    titles = {key: title for key, (title, _) in sections.LAZY.items()}
    context = {"title": name, "page": page, "lazy_titles": titles, "period": period}
    context["periods"] = sections.PERIODS
    return templates.page(request, "model.html", context, viewer=viewer)


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
        model = await run_in_threadpool(model_of, store, name)
        cache: DriftCache = request.app.state.drift_cache
        heatmap = await run_in_threadpool(build_heatmap, store, cache, model, granularity, n_days)
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
    drift: ColumnFigures
    chart: Markup
    monitor: str


def load_cell(
    store: Store, cache: DriftCache, name: str, feature: str, start: dt.datetime, granularity: str
) -> CellView:
    """What a drift monitor stored of one column in one window, and the window's distribution
    of the column next to the one the monitor compared it with."""
    model = model_of(store, name)
    start = floor(start, granularity)
    end = start + dt.timedelta(seconds=GRANULARITY_SECONDS[granularity])
    found = cache.drift(name, granularity, start, end)
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
    measured = measured_profiles(store, monitor, start)
    current, reference = measured.window.profile, measured.reference
    chart = Markup('<p class="empty">No distribution chart for this column kind.</p>')
    if reference is not None and feature in reference.columns and feature in current.columns:
        shares = distribution(reference.columns[feature], current.columns[feature])
        if shares is not None:
            chart = drift_charts.distribution_bars(shares.labels, shares.reference, shares.current)
    label = next(f"{describe_baseline(m)} ({m.name})" for m in found.monitors if m.name == monitor)
    return CellView(
        name,
        feature,
        start,
        end,
        granularity,
        label,
        measured.window.n_rows,
        figures,
        chart,
        monitor,
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
