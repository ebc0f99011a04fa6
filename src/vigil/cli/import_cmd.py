"""`vigil import mlflow URI`: bring an MLflow store (an mlruns folder or an MLflow SQLite
database) into a Vigil store. Importing again skips what is already there."""

from __future__ import annotations

import json

import click

from vigil.cli.common import FullHelpGroup, artifacts_option, fail, format_option, store_option
from vigil.errors import VigilError


@click.group("import", cls=FullHelpGroup)
def import_group() -> None:
    """Bring data from other tools into Vigil."""


@import_group.command("mlflow")
@click.argument("uri")
@store_option
@artifacts_option
@format_option()
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
def import_mlflow_command(
    uri: str, store_url: str, artifacts_url: str, fmt: str, quiet: bool
) -> None:
    """Import the MLflow store at URI (an mlruns folder, or sqlite:///path/mlflow.db):
    experiments, runs with params, metrics (full history), tags and artifacts, registered
    models, versions and aliases."""
    from vigil.actors import current_user
    from vigil.server.mlflow.importer import import_mlflow
    from vigil.server.mlflow.sources import open_source
    from vigil.store.core import Store

    try:
        source = open_source(uri)
        store = Store.open(store_url, artifacts_url)
        try:
            progress = None if quiet or fmt == "json" else (lambda line: click.echo(line, err=True))
            report = import_mlflow(store, source, actor=current_user(), progress=progress)
        finally:
            store.close()
    except VigilError as exc:
        fail(exc)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(
        f"imported {report.runs_imported} run(s) ({report.runs_skipped} already there), "
        f"{report.metric_points} metric point(s), {report.artifacts} artifact(s), "
        f"{report.experiments_created} new experiment(s), {report.models_created} new model(s), "
        f"{report.versions_imported} version(s) ({report.versions_skipped} already there), "
        f"{report.aliases_set} alias(es) set"
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
