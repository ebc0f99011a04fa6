"""`vigil runs search|show|compare`: tracked runs in the store."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from vigil.cli.common import (
    EXIT_FINDING,
    EXIT_USAGE,
    FullHelpGroup,
    artifacts_option,
    fail,
    store_option,
    token_option,
    url_option,
)
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


@click.group("runs", cls=FullHelpGroup)
def runs_command() -> None:
    """Tracked runs: search, show, compare, watch a live run, reproduce one."""


@runs_command.command("search")
@click.argument("experiments", nargs=-1)
@click.option("--filter", "-f", "filter_string", default=None, help='e.g. "metrics.auc > 0.8"')
@click.option("--order-by", "-o", multiple=True, help="e.g. 'metrics.auc DESC' (repeatable).")
@click.option("--max-results", "-n", default=100, show_default=True, type=int)
@click.option("--actor", default=None, help="Only runs this person started.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run and line.")
@store_option
@artifacts_option
def search_command(
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    actor: str | None,
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
            actor=actor,
        )
    for run in page.runs:
        if as_json:
            click.echo(json.dumps(run.model_dump(mode="json")))
            continue
        metrics = " ".join(f"{k}={v:.4g}" for k, v in sorted(run.metrics.items()))
        click.echo(
            f"{run.info.id}  {run.info.name:<20} {run.info.status.value:<9} "
            f"{run.info.start_time:%Y-%m-%d %H:%M}  {run.info.owner:<12} {metrics}"
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


@runs_command.command("watch")
@click.argument("run_id")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--timeout", default=None, type=float, help="Stop after this many seconds.")
@click.option("--no-system", is_flag=True, help="Leave out system metrics (CPU, memory, GPU).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per point and line.")
@store_option
@artifacts_option
@url_option
@token_option
def watch_command(
    run_id: str,
    interval: float,
    timeout: float | None,
    no_system: bool,
    as_json: bool,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """Follow RUN_ID while it runs: print its new metric points until it ends."""
    from vigil.lifecycle.live import LivePage, watch_run
    from vigil.store.core import Store

    def show(page: LivePage) -> None:
        for point in page.metrics if no_system else page.points:
            if as_json:
                click.echo(json.dumps(point.model_dump(mode="json")))
            else:
                click.echo(f"{point.step:>8}  {point.key:<30} {point.value:.6g}")

    last: LivePage | None = None
    try:
        if url is not None:
            pages = watch_run(run_id, url=url, token=token, interval=interval, timeout=timeout)
            for last in pages:
                show(last)
        else:
            store = Store.open(store_url, artifacts_url)
            try:
                for last in watch_run(run_id, store=store, interval=interval, timeout=timeout):
                    show(last)
            finally:
                store.close()
    except VigilError as exc:
        fail(exc)
    if last is not None and not as_json:
        click.echo(f"run {run_id} is {last.status.value}", err=True)


@runs_command.command("reproduce")
@click.argument("run_id")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A new folder to rebuild the run in (default: ./reproduce-<run id>).",
)
@click.option(
    "--repo", default=None, help="Clone the code from here instead of the recorded remote."
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@store_option
@artifacts_option
@url_option
@token_option
def reproduce_command(
    run_id: str,
    directory: Path | None,
    repo: str | None,
    as_json: bool,
    store_url: str,
    artifacts_url: str,
    url: str | None,
    token: str | None,
) -> None:
    """Rebuild RUN_ID: its commit with its uncommitted diff, requirements.txt, its dataset
    versions, and the command with its parameters. Exit 0 when complete, 1 when some part could
    not be recovered (each is named), 2 when nothing could."""
    from vigil.api.client import VigilApi
    from vigil.lifecycle.reproduce import Reproduction, ServerSource, StoreSource, reproduce
    from vigil.store.core import Store

    target = directory or Path(f"reproduce-{run_id[:12]}")
    result: Reproduction
    try:
        if url is not None:
            with VigilApi(url, token) as api:
                result = reproduce(run_id, ServerSource(api), target, repo=repo)
        else:
            store = Store.open(store_url, artifacts_url)
            try:
                result = reproduce(run_id, StoreSource(store), target, repo=repo)
            finally:
                store.close()
    except VigilError as exc:
        fail(exc)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for step in result.steps:
            mark = {True: "ok     ", False: "MISSING", None: "-      "}[step.ok]
            click.echo(f"{mark} {step.part:<12} {step.detail}")
        if result.command is not None:
            click.echo("")
            if result.workdir is not None:
                click.echo(f"cd {result.workdir}")
            click.echo(result.command)
        if result.params:
            click.echo("params: " + " ".join(f"{k}={v}" for k, v in sorted(result.params.items())))
    if result.nothing_recovered:
        click.echo(f"error: nothing of run {run_id} could be recovered", err=True)
        sys.exit(EXIT_USAGE)
    if not result.complete:
        missing = ", ".join(sorted({s.part for s in result.missing}))
        click.echo(f"partial reproduction in {target}: missing {missing}", err=True)
        sys.exit(EXIT_FINDING)
