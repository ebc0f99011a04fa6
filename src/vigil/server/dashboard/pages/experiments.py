"""Experiments: the runs table (search syntax, sort, choice of columns), comparing runs (curves,
parameter differences, parallel coordinates) and a run's own page (refreshed while it runs)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from vigil.api.tracking import ExperimentOut, RunComparison, RunData, RunStatus
from vigil.errors import InvalidInputError, VigilError
from vigil.registry.service import Registry
from vigil.server.dashboard import charts
from vigil.server.dashboard.web import StoreWeb, TemplatesDep, ViewerDep, error_page
from vigil.store.core import Store
from vigil.tracking.datasets import DatasetService
from vigil.tracking.service import TrackingService

router = APIRouter(include_in_schema=False)

SYSTEM_PREFIX = "system."
MAX_RUNS = 100
"""Runs per page of the table (the next ones are a link away)."""
CURVE_POINTS = 500
CODE_TAGS = (
    "vigil.git.commit",
    "vigil.git.branch",
    "vigil.git.dirty",
    "vigil.git.remote",
    "vigil.source.script",
    "vigil.source.argv",
    "mlflow.source.git.commit",
    "mlflow.source.name",
)


@dataclass
class RunsTable:
    experiments: list[ExperimentOut]
    experiment: str
    filter: str
    order: str
    runs: list[RunData]
    param_keys: list[str]
    metric_keys: list[str]
    columns: list[str]
    error: str = ""
    next_page: str | None = None
    page: str = ""


def _default_columns(metric_keys: list[str], param_keys: list[str]) -> list[str]:
    metrics = [k for k in metric_keys if not k.startswith(SYSTEM_PREFIX)][:6]
    return [f"metrics.{k}" for k in metrics] + [f"params.{k}" for k in param_keys[:4]]


def load_runs(
    store: Store,
    experiment: str,
    filter_text: str,
    order: str,
    columns: list[str],
    actor: str,
    page_token: str = "",
) -> RunsTable:
    service = TrackingService(store)
    experiments = service.list_experiments()
    table = RunsTable(experiments, experiment, filter_text, order, [], [], [], [])
    try:
        page = service.search_runs(
            [experiment] if experiment else None,
            filter_text or None,
            order_by=[order] if order else ["attributes.start_time DESC"],
            max_results=MAX_RUNS,
            page_token=page_token or None,
            actor=actor or None,
        )
    except VigilError as exc:
        table.error = exc.message
        return table
    table.runs = page.runs
    table.next_page = page.next_page_token
    table.page = page_token
    table.param_keys = sorted({k for r in page.runs for k in r.params})
    table.metric_keys = sorted({k for r in page.runs for k in r.metrics})
    known = {f"metrics.{k}" for k in table.metric_keys} | {f"params.{k}" for k in table.param_keys}
    chosen = [c for c in columns if c in known]
    table.columns = chosen or _default_columns(table.metric_keys, table.param_keys)
    return table


@router.get("/ui/experiments")
async def experiments_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    experiment: str = "",
    filter: str = "",
    order: str = "",
    col: Annotated[list[str] | None, Query()] = None,
    actor: str = "",
    page: str = "",
) -> HTMLResponse:
    table = await run_in_threadpool(
        load_runs, store, experiment, filter, order, col or [], actor, page
    )
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    next_url = (
        "/ui/experiments?" + urlencode([*query, ("page", table.next_page)])
        if table.next_page
        else ""
    )
    return templates.page(
        request,
        "experiments.html",
        {"title": "Experiments", "t": table, "actor": actor, "next_url": next_url},
        viewer=viewer,
    )


def _cell(run: RunData, column: str) -> Any:
    kind, _, key = column.partition(".")
    return run.metrics.get(key) if kind == "metrics" else run.params.get(key)


@dataclass
class Comparison:
    runs: list[RunData]
    comparison: RunComparison
    curves: list[tuple[str, Markup]]
    parallel: Markup
    axes: list[str] = field(default_factory=list)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def load_comparison(store: Store, run_ids: list[str]) -> Comparison:
    unique = list(dict.fromkeys(run_ids))
    if len(unique) < 2:
        raise InvalidInputError(f"choose at least two runs to compare, got {len(unique)}")
    if len(unique) > 20:
        raise InvalidInputError(f"compare at most 20 runs at once, got {len(unique)}")
    service = TrackingService(store)
    comparison = service.compare_runs(unique)
    runs = service.get_runs(unique)
    names = {r.info.id: r.info.name or r.info.id[:8] for r in runs}
    curves = []
    for key in sorted(comparison.metrics):
        if key.startswith(SYSTEM_PREFIX):
            continue
        series = []
        for run_id in unique:
            points = (
                service.metric_history(run_id, key, max_points=CURVE_POINTS)
                if key in next(r for r in runs if r.info.id == run_id).metrics
                else []
            )
            if points:
                series.append(
                    charts.Series(names[run_id], [(p.step, _number(p.value)) for p in points])
                )
        if any(len(s.points) > 1 for s in series):  # single values are in the table above
            curves.append(
                (
                    key,
                    charts.line_chart(series, x=charts.Axis(label="step"), y_label=key, height=200),
                )
            )
    numeric_params = [
        f"params.{k}"
        for k in comparison.param_differences
        if all(_number(v) is not None for v in comparison.params[k].values() if v is not None)
    ]
    metric_axes = [
        f"metrics.{k}" for k in sorted(comparison.metrics) if not k.startswith(SYSTEM_PREFIX)
    ]
    axes = (numeric_params + metric_axes)[:12]
    lines = [(names[r.info.id], {a: _number(_cell(r, a)) for a in axes}) for r in runs]
    return Comparison(runs, comparison, curves, charts.parallel_coordinates(axes, lines), axes)


@router.get("/ui/experiments/compare")
async def compare_page(
    request: Request,
    viewer: ViewerDep,
    store: StoreWeb,
    templates: TemplatesDep,
    runs: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    try:
        data = await run_in_threadpool(load_comparison, store, runs or [])
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    return templates.page(
        request, "compare.html", {"title": "Compare runs", "c": data}, viewer=viewer
    )


@dataclass
class RunPage:
    run: RunData
    experiment: str
    metric_charts: list[tuple[str, Markup]]
    system_charts: list[tuple[str, Markup]]
    code: list[tuple[str, str]]
    environment: list[tuple[str, str]]
    artifacts: list[Any]
    inputs: list[tuple[Any, str]]
    versions: list[Any]
    live: bool


def _single_value(point: Any) -> Markup:
    """A metric logged once: its value, step and time as text (a lone dot on a time axis of its
    own makes no chart)."""
    at = dt.datetime.fromtimestamp(point.timestamp_ms / 1000, dt.UTC)
    return Markup(
        '<p class="single-metric"><span class="single-metric-value">{}</span> '
        '<span class="muted">logged once, at step {} ({})</span></p>'
    ).format(_fmt_value(_number(point.value)), point.step, at.strftime("%Y-%m-%d %H:%M:%S UTC"))


def _fmt_value(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _charts(service: Any, run: RunData, keys: list[str]) -> list[tuple[str, Markup]]:
    out = []
    for key in keys:
        points = service.metric_history(run.info.id, key, max_points=CURVE_POINTS)
        if len(points) == 1:
            out.append((key, _single_value(points[0])))
            continue
        by_step = len({p.step for p in points}) > 1
        pts = [((p.step if by_step else p.timestamp_ms / 1000), _number(p.value)) for p in points]
        out.append(
            (
                key,
                charts.line_chart(
                    [charts.Series(key, pts)],
                    x=charts.Axis(time=not by_step, label="step" if by_step else "time"),
                    y_label=key,
                    height=170,
                    width=520,
                ),
            )
        )
    return out


def load_run(store: Store, run_id: str, with_details: bool = True) -> RunPage:
    service = TrackingService(store)
    run = service.get_run(run_id)
    experiment = service.get_experiment(run.info.experiment_id).name
    keys = sorted(run.metrics)
    metric_charts = _charts(service, run, [k for k in keys if not k.startswith(SYSTEM_PREFIX)])
    system_charts = _charts(service, run, [k for k in keys if k.startswith(SYSTEM_PREFIX)])
    code = [(k, run.tags[k]) for k in CODE_TAGS if k in run.tags]
    environment = sorted(
        (k, v) for k, v in run.tags.items() if k.startswith(("vigil.python", "vigil.platform"))
    )
    artifacts: list[Any] = []
    inputs: list[tuple[Any, str]] = []
    versions: list[Any] = []
    if with_details:
        artifacts = service.list_artifacts(run_id)
        inputs = DatasetService(store).inputs_of(run_id)
        versions = Registry(store).versions_of_run(run_id)
    live = run.info.status == RunStatus.RUNNING
    return RunPage(
        run,
        experiment,
        metric_charts,
        system_charts,
        code,
        environment,
        artifacts,
        inputs,
        versions,
        live,
    )


@router.get("/ui/runs/{run_id}")
async def run_page(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep, run_id: str
) -> HTMLResponse:
    try:
        page = await run_in_threadpool(load_run, store, run_id)
    except VigilError as exc:
        return error_page(request, templates, viewer, exc)
    title = page.run.info.name or run_id
    return templates.page(request, "run.html", {"title": title, "p": page}, viewer=viewer)


@router.get("/ui/runs/{run_id}/metrics")
async def run_metrics_fragment(
    request: Request, viewer: ViewerDep, store: StoreWeb, templates: TemplatesDep, run_id: str
) -> HTMLResponse:
    """The metrics section of a run page; the page polls it while the run is RUNNING."""
    try:
        page = await run_in_threadpool(load_run, store, run_id, False)
    except VigilError as exc:
        response = templates.fragment("message.html", {"message": exc.message})
        response.status_code = exc.status_code
        return response
    return templates.fragment("run_metrics.html", {"p": page})
