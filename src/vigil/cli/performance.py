"""`vigil performance`: a model's realized and estimated performance, fairness and the segments
behind a change (and, in `performance_series`, its feature drift and business KPIs), per window
of any grid (hour to year) or over a custom period, read from the store or a server (`--url`).

Windows named without a time zone (`--window month`), periods (`--window 2026-01-01/2026-04-01`)
and times without an offset (`--start 2026-01-01`) are read in the model's time zone, so a
model on `day@Europe/Berlin` reports Berlin's months. A period given as the window and no
`--start`/`--end` reports that period alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from vigil.cli.common import (
    Backend,
    FullHelpGroup,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
)
from vigil.cli.performance_series import drift_command, kpi_command
from vigil.cli.periods import (
    bounds,
    end_option,
    label,
    resolve,
    start_option,
    window_option,
)
from vigil.errors import VigilError
from vigil.windows import Grid

if TYPE_CHECKING:
    from vigil.api.specs import ModelSpec
    from vigil.client.areas.performance import PerformanceArea

HEADLINE = (
    "roc_auc",
    "average_precision",
    "accuracy",
    "f1",
    "precision",
    "recall",
    "mae",
    "rmse",
    "r2",
)
"""Metrics shown in the text table, in this order, when a report has them."""
MAX_METRICS = 5
"""At most this many metric columns in the text table (`--format json` has every metric)."""


@click.group("performance", cls=FullHelpGroup)
def performance_group() -> None:
    """A model's performance per window (hour, day, week, month, quarter, year, a length or a
    period START/END), in the model's time zone: realized, estimated, fairness, segments,
    drift and KPIs."""


@contextmanager
def _reports(backend: Backend, model: str) -> Iterator[tuple[ModelSpec, PerformanceArea]]:
    """The model's spec and the reports' area: computed on the store, or by the server."""
    if backend.remote:
        from vigil.client.areas.performance import RemotePerformance

        with backend.api() as api:
            yield api.models.get(model), RemotePerformance(api)
    else:
        from vigil.client.areas.performance import LocalPerformance
        from vigil.ingestion.service import get_model, read_only

        with backend.store() as store:
            with store.session() as session:
                spec = read_only(session, lambda s: get_model(s, model))
            yield spec, LocalPerformance(store)


def _run(backend: Backend, model: str, ask: Callable[[ModelSpec, PerformanceArea], Any]) -> Any:
    """`ask` the reports of `model`; a bad input or an unknown model ends with one line."""
    try:
        with _reports(backend, model) as (spec, area):
            return ask(spec, area)
    except VigilError as exc:
        fail(exc)


def _options(task: str | None, positive_class: str | None, threshold: float) -> dict[str, Any]:
    out: dict[str, Any] = {"threshold": threshold}
    if task is not None:
        out["task"] = task
    if positive_class is not None:
        out["positive_class"] = positive_class
    return out


def _metric_names(windows: list[dict[str, Any]], key: str) -> list[str]:
    present = {k for w in windows for k in (w.get(key) or {})}
    return [m for m in HEADLINE if m in present][:MAX_METRICS]


_version = click.option("--version", "model_version", default=None, help="One version only.")
_task = click.option(
    "--task", type=click.Choice(["classification", "regression"]), default=None, help="Inferred."
)
_positive = click.option("--positive-class", default=None, help="The positive class.")
_threshold = click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.5,
    show_default=True,
    help="Score cut-off of a binary model without a prediction column.",
)


@performance_group.command("realized")
@click.argument("model")
@window_option
@start_option
@end_option
@_version
@click.option("--segment", default=None, help="One segment, COLUMN=VALUE (default: all).")
@_task
@_positive
@_threshold
@backend_options
@format_option()
def realized_command(
    model: str,
    window: str,
    start: str | None,
    end: str | None,
    model_version: str | None,
    segment: str | None,
    task: str | None,
    positive_class: str | None,
    threshold: float,
    backend: Backend,
    fmt: str,
) -> None:
    """Realized metrics per window from the labels that have arrived, with label coverage."""

    def ask(spec: ModelSpec, area: PerformanceArea) -> tuple[Grid, dict[str, Any]]:
        period = resolve(spec, window, start, end)
        body = area.realized(
            model,
            window=period.grid.to_str(),
            start=period.start,
            end=period.end,
            version=model_version,
            segment=segment,
            **_options(task, positive_class, threshold),
        )
        return period.grid, body

    grid, body = _run(backend, model, ask)
    if fmt == "json":
        print_json(body)
        return
    windows = body["windows"]
    names = _metric_names(windows, "metrics")
    print_table(
        ["window", "predictions", "labelled", "coverage", "complete", *names],
        [
            [
                label(grid, w["start"]),
                w["n_predictions"],
                w["n_labelled"],
                w["coverage"],
                w.get("complete"),
                *[(w.get("metrics") or {}).get(n) for n in names],
            ]
            for w in windows
        ],
        empty=f"no predictions of {model} in this period",
    )


@performance_group.command("estimated")
@click.argument("model")
@click.option("--reference-start", required=True, help="Labelled reference period start.")
@click.option("--reference-end", required=True, help="Labelled reference period end.")
@window_option
@start_option
@end_option
@_version
@click.option("--segment", default=None, help="One segment, COLUMN=VALUE (default: all).")
@_task
@_positive
@_threshold
@backend_options
@format_option()
def estimated_command(
    model: str,
    reference_start: str,
    reference_end: str,
    window: str,
    start: str | None,
    end: str | None,
    model_version: str | None,
    segment: str | None,
    task: str | None,
    positive_class: str | None,
    threshold: float,
    backend: Backend,
    fmt: str,
) -> None:
    """Metrics estimated without labels (CBPE calibrated on the reference period) per window,
    beside the realized ones where labels have arrived."""

    def ask(spec: ModelSpec, area: PerformanceArea) -> tuple[Grid, dict[str, Any]]:
        period = resolve(spec, window, start, end)
        reference = bounds(spec, reference_start, reference_end, "--reference")
        body = area.estimated(
            model,
            reference_start=reference[0],
            reference_end=reference[1],
            window=period.grid.to_str(),
            start=period.start,
            end=period.end,
            version=model_version,
            segment=segment,
            **_options(task, positive_class, threshold),
        )
        return period.grid, body

    grid, body = _run(backend, model, ask)
    if fmt == "json":
        print_json(body)
        return
    windows = body["windows"]
    names = _metric_names(windows, "estimated")
    print_table(
        ["window", "predictions", "coverage", *[f"est. {n}" for n in names], *names],
        [
            [
                label(grid, w["start"]),
                w["n_predictions"],
                w["coverage"],
                *[(w.get("estimated") or {}).get(n) for n in names],
                *[(w.get("realized") or {}).get(n) for n in names],
            ]
            for w in windows
        ],
        empty=f"no predictions of {model} in this period",
    )


@performance_group.command("fairness")
@click.argument("model")
@click.option("--attribute", required=True, help="A segment column (a sensitive attribute).")
@window_option
@start_option
@end_option
@_version
@click.option("--min-rows", type=click.IntRange(1), default=1, show_default=True)
@_task
@_positive
@_threshold
@backend_options
@format_option()
def fairness_command(
    model: str,
    attribute: str,
    window: str,
    start: str | None,
    end: str | None,
    model_version: str | None,
    min_rows: int,
    task: str | None,
    positive_class: str | None,
    threshold: float,
    backend: Backend,
    fmt: str,
) -> None:
    """Demographic parity and equal opportunity differences and the disparate impact ratio
    across the groups of ATTRIBUTE, per window."""

    def ask(spec: ModelSpec, area: PerformanceArea) -> tuple[Grid, dict[str, Any]]:
        period = resolve(spec, window, start, end)
        body = area.fairness(
            model,
            attribute,
            window=period.grid.to_str(),
            start=period.start,
            end=period.end,
            version=model_version,
            min_rows=min_rows,
            **_options(task, positive_class, threshold),
        )
        return period.grid, body

    grid, body = _run(backend, model, ask)
    if fmt == "json":
        print_json(body)
        return
    print_table(
        ["window", "group", "n", "selection rate", "tpr", "parity diff", "opportunity diff"],
        [
            [
                label(grid, w["start"]),
                group,
                rates["n"],
                rates["selection_rate"],
                rates["true_positive_rate"],
                w["demographic_parity_difference"],
                w["equal_opportunity_difference"],
            ]
            for w in body["windows"]
            for group, rates in sorted(w["groups"].items())
        ],
        empty=f"no predictions of {model} in this period",
    )


@performance_group.command("segments")
@click.argument("model")
@click.option("--baseline-start", required=True, help="Baseline period start.")
@click.option("--baseline-end", required=True, help="Baseline period end.")
@click.option("--start", required=True, help="Current period start (ISO 8601).")
@click.option("--end", required=True, help="Current period end (ISO 8601).")
@click.option("--metric", default="accuracy", show_default=True)
@click.option("--class", "cls", default=None, help="The class of a per-class metric.")
@click.option("--column", "columns", multiple=True, help="Segment columns (default: all).")
@window_option
@_version
@_task
@_positive
@_threshold
@backend_options
@format_option()
def segments_command(
    model: str,
    baseline_start: str,
    baseline_end: str,
    start: str,
    end: str,
    metric: str,
    cls: str | None,
    columns: tuple[str, ...],
    window: str,
    model_version: str | None,
    task: str | None,
    positive_class: str | None,
    threshold: float,
    backend: Backend,
    fmt: str,
) -> None:
    """The segments that explain a change of METRIC between a baseline and a current period,
    most harmful first."""

    def ask(spec: ModelSpec, area: PerformanceArea) -> dict[str, Any]:
        baseline = bounds(spec, baseline_start, baseline_end, "--baseline")
        current = bounds(spec, start, end, "-")
        options = _options(task, positive_class, threshold)
        if cls is not None:
            options["cls"] = cls
        if columns:
            options["columns"] = list(columns)
        return area.segments(
            model,
            baseline_start=baseline[0],
            baseline_end=baseline[1],
            start=current[0],
            end=current[1],
            metric=metric,
            window=Grid.parse(window, default_tz=spec.grid.tz).to_str(),
            version=model_version,
            **options,
        )

    body = _run(backend, model, ask)
    if fmt == "json":
        print_json(body)
        return
    click.echo(
        f"{metric}: {_fmt(body['baseline']['value'])} -> {_fmt(body['current']['value'])} "
        f"(change {_fmt(body['change'])})"
    )
    print_table(
        ["column", "value", "metric before", "metric now", "within", "mix"],
        [
            [
                s["column"],
                s["value"],
                s["metric_baseline"],
                s["metric_current"],
                s["within"],
                s["mix"],
            ]
            for s in body["segments"]
        ],
        empty="no segment explains the change",
    )


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}"


# Drift and KPIs per window, beside the reports.
performance_group.add_command(drift_command)
performance_group.add_command(kpi_command)
