"""`vigil performance drift` and `vigil performance kpi`: a model's feature drift against a
baseline period and its business KPIs, per window of any grid or over a custom period, in the
model's time zone. Drift compares the merge of each window's stored profiles (sketches merged,
never averaged) with the baseline's; KPI windows add up counts, sums and sums of squares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from vigil.cli.common import Backend, backend_options, fail, format_option, print_json, print_table
from vigil.cli.periods import bounds, end_option, resolve, start_option, window_option
from vigil.errors import InvalidInputError, VigilError
from vigil.windows import Grid

if TYPE_CHECKING:
    from vigil.client import Client


@contextmanager
def _client(backend: Backend) -> Iterator[Client]:
    """A client on the store, or on the server; a `VigilError` ends the command (exit 2)."""
    from vigil.client import Client

    try:
        if backend.remote:
            assert backend.url is not None
            client = Client(backend.url, token=backend.token, spool_dir=None)
        else:
            client = Client.local(backend.store_url, backend.artifacts_url)
        try:
            yield client
        finally:
            client.close()
    except VigilError as exc:
        fail(exc)


@click.command("drift")
@click.argument("model")
@click.option("--baseline-start", required=True, help="Baseline period start (ISO 8601).")
@click.option("--baseline-end", required=True, help="Baseline period end (ISO 8601).")
@window_option
@click.option("--start", required=True, help="Inclusive start (ISO 8601).")
@click.option("--end", required=True, help="Exclusive end (ISO 8601).")
@click.option("--column", "columns", multiple=True, help="Columns (default: the features).")
@click.option("--version", "model_version", default=None, help="One version only.")
@backend_options
@format_option()
def drift_command(
    model: str,
    baseline_start: str,
    baseline_end: str,
    window: str,
    start: str,
    end: str,
    columns: tuple[str, ...],
    model_version: str | None,
    backend: Backend,
    fmt: str,
) -> None:
    """Feature drift per window against a baseline period, from the stored profiles: each
    window's share of drifted columns and which ones (`vigil.drift`'s default tests)."""
    from vigil.analysis.drift import drift
    from vigil.caps import MAX_WINDOWS

    with _client(backend) as client:
        spec = client.get_model(model)
        grid = Grid.parse(window, default_tz=spec.grid.tz)
        first_start, last_end = bounds(spec, start, end, "-")
        baseline = bounds(spec, baseline_start, baseline_end, "--baseline")
        count = grid.count(first_start, last_end)
        if count > MAX_WINDOWS:
            fail(
                f"{count} {grid.to_str()} windows from {start} to {end}; at most "
                f"{MAX_WINDOWS} per call (use a longer window or a shorter period)"
            )
        chosen = list(columns) or list(spec.features)
        reference = client.data.profile(
            model, version=model_version, start=baseline[0], end=baseline[1]
        )
        if reference.n_rows == 0:
            fail(f"model {model!r} has no stored windows in the baseline period")
        windows: list[dict[str, Any]] = []
        for begin in grid.starts(first_start, last_end):
            finish = min(grid.next(begin), last_end)
            first = max(begin, first_start)
            current = client.data.profile(model, version=model_version, start=first, end=finish)
            if current.n_rows == 0:
                continue
            compared = [c for c in chosen if c in reference.columns and c in current.columns]
            report = drift(reference, current, columns=compared) if compared else None
            windows.append(
                {
                    "window": grid.label(begin),
                    "start": first,
                    "end": finish,
                    "n_rows": current.n_rows,
                    "share_drifted": None if report is None else report.share_drifted,
                    "drifted_columns": [] if report is None else list(report.drifted_columns),
                    "columns": {}
                    if report is None
                    else {name: col.to_dict() for name, col in report.columns.items()},
                }
            )
    if fmt == "json":
        print_json({"model": model, "window": grid.to_str(), "windows": windows})
        return
    print_table(
        ["window", "rows", "drifted share", "drifted columns"],
        [
            [w["window"], w["n_rows"], w["share_drifted"], " ".join(w["drifted_columns"])]
            for w in windows
        ],
        empty=f"no stored windows of {model} in this period",
    )


@click.command("kpi")
@click.argument("name")
@click.argument("model")
@window_option
@start_option
@end_option
@click.option("--version", "model_version", default=None, help="One version only.")
@backend_options
@format_option()
def kpi_command(
    name: str,
    model: str,
    window: str,
    start: str | None,
    end: str | None,
    model_version: str | None,
    backend: Backend,
    fmt: str,
) -> None:
    """Business KPI NAME of MODEL per version and window: count, sum, mean, std, min, max."""
    with _client(backend) as client:
        spec = client.get_model(model)
        period = resolve(spec, window, start, end)
        try:
            series = client.kpis.series(
                name,
                model,
                version=model_version,
                window=period.grid.to_str(),
                start=period.start,
                end=period.end,
            )
        except InvalidInputError as exc:
            fail(exc)
    if fmt == "json":
        print_json(series.to_dict())
        return
    print_table(
        ["window", "version", "count", "sum", "mean", "std", "min", "max"],
        [
            [period.grid.label(p.start), p.version, p.count, p.sum, p.mean, p.std, p.min, p.max]
            for p in series.points
        ],
        empty=f"no value of {name} for {model} in this period",
    )
