"""`vigil runs search|show|compare`: tracked runs in the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from vigil.cli.common import artifacts_option, fail, store_option
from vigil.errors import VigilError

if TYPE_CHECKING:  # the store needs SQLAlchemy: imported when a runs command runs
    from vigil.tracking.service import TrackingService


@contextmanager
def _tracking(store_url: str, artifacts_url: str) -> Iterator[TrackingService]:
    from vigil.store.core import Store
    from vigil.tracking.service import TrackingService

    try:
        store = Store.open(store_url, artifacts_url)
    except VigilError as exc:
        fail(exc)
    try:
        yield TrackingService(store)
    except VigilError as exc:
        fail(exc)
    finally:
        store.close()


@click.group("runs")
def runs_command() -> None:
    """Tracked runs: search, show, compare."""


@runs_command.command("search")
@click.argument("experiments", nargs=-1)
@click.option("--filter", "-f", "filter_string", default=None, help='e.g. "metrics.auc > 0.8"')
@click.option("--order-by", "-o", multiple=True, help="e.g. 'metrics.auc DESC' (repeatable).")
@click.option("--max-results", "-n", default=100, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run and line.")
@store_option
@artifacts_option
def search_command(
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
    store_url: str,
    artifacts_url: str,
) -> None:
    """Runs of EXPERIMENTS (all when none is given) matching the filter."""
    with _tracking(store_url, artifacts_url) as tracking:
        page = tracking.search_runs(
            list(experiments) or None,
            filter_string,
            order_by=list(order_by),
            max_results=max_results,
        )
    for run in page.runs:
        if as_json:
            click.echo(json.dumps(run.model_dump(mode="json")))
            continue
        metrics = " ".join(f"{k}={v:.4g}" for k, v in sorted(run.metrics.items()))
        click.echo(
            f"{run.info.id}  {run.info.name:<20} {run.info.status.value:<9} "
            f"{run.info.start_time:%Y-%m-%d %H:%M}  {metrics}"
        )


@runs_command.command("show")
@click.argument("run_id")
@store_option
@artifacts_option
def show_command(run_id: str, store_url: str, artifacts_url: str) -> None:
    """A run as JSON: attributes, params, latest metrics, tags, artifacts."""
    with _tracking(store_url, artifacts_url) as tracking:
        run = tracking.get_run(run_id)
        artifacts = tracking.list_artifacts(run_id)
    body = run.model_dump(mode="json")
    body["artifacts"] = [a.model_dump(mode="json") for a in artifacts]
    click.echo(json.dumps(body, indent=2))


@runs_command.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@store_option
@artifacts_option
def compare_command(run_ids: tuple[str, ...], store_url: str, artifacts_url: str) -> None:
    """Metrics side by side and the params that differ."""
    with _tracking(store_url, artifacts_url) as tracking:
        comparison = tracking.compare_runs(list(run_ids))
    width = max(len(k) for k in [*comparison.metrics, *comparison.params, "run"]) + 2
    click.echo("run".ljust(width) + "  ".join(r[:12].ljust(12) for r in comparison.run_ids))
    for key, values in sorted(comparison.metrics.items()):
        cells = ["-" if values[r] is None else f"{values[r]:.6g}" for r in comparison.run_ids]
        click.echo(key.ljust(width) + "  ".join(c.ljust(12) for c in cells))
    for key in comparison.param_differences:
        pvalues = comparison.params[key]
        cells = [pvalues[r] or "-" for r in comparison.run_ids]
        click.echo(f"params.{key}".ljust(width) + "  ".join(c[:12].ljust(12) for c in cells))
