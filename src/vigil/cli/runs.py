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
    Backend,
    FullHelpGroup,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
)
from vigil.errors import VigilError

if TYPE_CHECKING:  # the store needs SQLAlchemy: imported when a runs command runs
    from vigil.api.tracking import ArtifactOut, RunData
    from vigil.tracking.service import TrackingService


@contextmanager
def _tracking(backend: Backend) -> Iterator[TrackingService]:
    from vigil.tracking.service import TrackingService

    with backend.store() as store:
        yield TrackingService(store)


@click.group("runs", cls=FullHelpGroup)
def runs_command() -> None:
    """Tracked runs: search, show, compare, watch a live run, reproduce one."""


@runs_command.command("search")
@click.argument("experiments", nargs=-1)
@click.option("--filter", "-f", "filter_string", default=None, help='e.g. "metrics.auc > 0.8"')
@click.option("--order-by", "-o", multiple=True, help="e.g. 'metrics.auc DESC' (repeatable).")
@click.option("--max-results", "-n", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--actor", default=None, help="Only runs this person started.")
@backend_options
@format_option()
def search_command(
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    actor: str | None,
    backend: Backend,
    fmt: str,
) -> None:
    """Runs of EXPERIMENTS (all when none is given) matching the filter (JSON: one run per
    line)."""
    from vigil.api.tracking import SearchRunsIn

    if backend.remote:
        try:
            body = SearchRunsIn(
                experiments=list(experiments) or None,
                filter=filter_string,
                order_by=list(order_by),
                max_results=max_results,
                actor=actor,
            )
        except ValueError as exc:  # pydantic's bounds on the request
            fail(f"bad search: {' '.join(str(exc).split())}")
        with backend.api() as api:
            page = api.runs.search(body)
    else:
        with _tracking(backend) as tracking:
            page = tracking.search_runs(
                list(experiments) or None,
                filter_string,
                order_by=list(order_by),
                max_results=max_results,
                actor=actor,
            )
    if fmt == "json":
        print_json([run.model_dump(mode="json") for run in page.runs], lines=True)
        return
    print_table(
        ["run", "name", "status", "started", "owner", "metrics"],
        [
            [
                run.info.id,
                run.info.name,
                run.info.status.value,
                f"{run.info.start_time:%Y-%m-%d %H:%M}",
                run.info.owner,
                " ".join(f"{k}={v:.4g}" for k, v in sorted(run.metrics.items())),
            ]
            for run in page.runs
        ],
        empty="no runs",
    )


@runs_command.command("show")
@click.argument("run_id")
@backend_options
@format_option()
def show_command(run_id: str, backend: Backend, fmt: str) -> None:
    """A run: attributes, params, latest metrics, tags, artifacts."""
    run: RunData
    artifacts: list[ArtifactOut]
    if backend.remote:
        with backend.api() as api:
            run = api.runs.get(run_id)
            artifacts = api.runs.artifacts(run_id)
    else:
        with _tracking(backend) as tracking:
            run = tracking.get_run(run_id)
            artifacts = tracking.list_artifacts(run_id)
    if fmt == "json":
        body = run.model_dump(mode="json")
        body["artifacts"] = [a.model_dump(mode="json") for a in artifacts]
        print_json(body)
        return
    info = run.info
    print_table(
        ["field", "value"],
        [
            ["run", info.id],
            ["name", info.name],
            ["experiment", info.experiment_id],
            ["status", info.status.value],
            ["owner", info.owner],
            ["started", f"{info.start_time:%Y-%m-%d %H:%M:%S}"],
            ["ended", None if info.end_time is None else f"{info.end_time:%Y-%m-%d %H:%M:%S}"],
        ],
    )
    for title, values in (("param", run.params), ("metric", run.metrics), ("tag", run.tags)):
        if values:
            click.echo("")
            print_table([title, "value"], sorted(values.items()))
    if artifacts:
        click.echo("")
        print_table(["artifact", "bytes"], [[a.path, a.size] for a in artifacts])


@runs_command.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@backend_options
@format_option()
def compare_command(run_ids: tuple[str, ...], backend: Backend, fmt: str) -> None:
    """Metrics side by side and the params that differ."""
    from vigil.api.tracking import RunComparison

    if backend.remote:
        with backend.api() as api:
            comparison = RunComparison.of([api.runs.get(run_id) for run_id in run_ids])
    else:
        with _tracking(backend) as tracking:
            comparison = tracking.compare_runs(list(run_ids))
    if fmt == "json":
        print_json(comparison.model_dump(mode="json"))
        return
    rows: list[list[object]] = []
    for key, values in sorted(comparison.metrics.items()):
        rows.append([key, *(values[r] for r in comparison.run_ids)])
    for key in comparison.param_differences:
        rows.append([f"params.{key}", *(comparison.params[key][r] for r in comparison.run_ids)])
    print_table(["key", *(r[:12] for r in comparison.run_ids)], rows)


@runs_command.command("watch")
@click.argument("run_id")
@click.option(
    "--interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between polls.",
)
@click.option(
    "--timeout",
    default=None,
    type=click.FloatRange(min=0),
    help="Stop after this many seconds.",
)
@click.option("--no-system", is_flag=True, help="Leave out system metrics (CPU, memory, GPU).")
@backend_options
@format_option()
def watch_command(
    run_id: str,
    interval: float,
    timeout: float | None,
    no_system: bool,
    backend: Backend,
    fmt: str,
) -> None:
    """Follow RUN_ID while it runs: print its new metric points until it ends (JSON: one point
    per line)."""
    from vigil.lifecycle.live import LivePage, watch_run

    header = [False]

    def show(page: LivePage) -> None:
        for point in page.metrics if no_system else page.points:
            if fmt == "json":
                click.echo(json.dumps(point.model_dump(mode="json")))
                continue
            if not header[0]:  # the table streams: fixed widths, the header once
                click.echo(f"{'STEP':>8}  {'METRIC':<30}  VALUE")
                header[0] = True
            click.echo(f"{point.step:>8}  {point.key:<30}  {point.value:.6g}")

    last: LivePage | None = None
    try:
        if backend.url is not None:
            pages = watch_run(
                run_id, url=backend.url, token=backend.token, interval=interval, timeout=timeout
            )
            for last in pages:
                show(last)
        else:
            with backend.store() as store:
                for last in watch_run(run_id, store=store, interval=interval, timeout=timeout):
                    show(last)
    except VigilError as exc:
        fail(exc)
    if last is not None and fmt != "json":
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
@backend_options
@format_option()
def reproduce_command(
    run_id: str, directory: Path | None, repo: str | None, backend: Backend, fmt: str
) -> None:
    """Rebuild RUN_ID: its commit with its uncommitted diff, requirements.txt, its dataset
    versions, and the command with its parameters. Exit 0 when complete, 1 when some part could
    not be recovered (each is named), 2 when nothing could."""
    from vigil.lifecycle.reproduce import Reproduction, ServerSource, StoreSource, reproduce

    target = directory or Path(f"reproduce-{run_id[:12]}")
    result: Reproduction
    if backend.remote:
        with backend.api(timeout=30.0) as api:
            result = reproduce(run_id, ServerSource(api), target, repo=repo)
    else:
        with backend.store() as store:
            result = reproduce(run_id, StoreSource(store), target, repo=repo)
    if fmt == "json":
        print_json(result.to_dict())
    else:
        marks = {True: "ok", False: "MISSING", None: "-"}
        print_table(
            ["state", "part", "detail"], [[marks[s.ok], s.part, s.detail] for s in result.steps]
        )
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
