"""`vigil db compact`: apply the models' retention policies (`vigil.ingestion.retention`) and
merge each past day's prediction and label files into one (`vigil.ingestion.maintenance`).
Registered in `vigil.cli.server`'s `db` group."""

from __future__ import annotations

import datetime as dt

import click

from vigil.cli.common import fail, format_option, print_json, print_table, store_option
from vigil.config import DEFAULT_ARTIFACTS_URL
from vigil.errors import VigilError


@click.command("compact")
@store_option
@click.option(
    "--artifacts",
    "artifacts_url",
    envvar="VIGIL_ARTIFACTS_URL",
    default=DEFAULT_ARTIFACTS_URL,
    show_default=True,
    help="Artifact store: a folder or s3://bucket/prefix.",
)
@click.option("--s3-endpoint", "s3_endpoint_url", envvar="VIGIL_S3_ENDPOINT_URL", default=None)
@click.option("--model", "models", multiple=True, help="Only this model (repeatable).")
@click.option(
    "--before",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Compact the day files of days before this one (default: today, UTC).",
)
@click.option("--dry-run", is_flag=True, help="Say what retention would delete; change nothing.")
@format_option()
def compact_command(
    store_url: str,
    artifacts_url: str,
    s3_endpoint_url: str | None,
    models: tuple[str, ...],
    before: dt.datetime | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Apply the models' retention policies (see `vigil models retention`) and merge each past
    day's prediction and label files (one per upload) into one file.

    Files a compaction replaces are deleted by the next run, so run it periodically (e.g.
    daily); a server also applies the policies on its own (its retention worker).
    """
    from vigil.ingestion import retention
    from vigil.ingestion.maintenance import compact
    from vigil.ingestion.retention_outcome import outcome_table
    from vigil.store.core import Store

    day = before.date() if before else dt.datetime.now(dt.UTC).date()
    try:
        store = Store.open(store_url, artifacts_url, s3_endpoint_url=s3_endpoint_url)
        try:
            outcomes = retention.apply(store, models=models or None, dry_run=dry_run)
            done, deleted = (
                ([], 0) if dry_run else compact(store, before=day, models=models or None)
            )
        finally:
            store.close()
    except VigilError as exc:
        fail(exc)
    if fmt == "json":
        print_json(
            {
                "dry_run": dry_run,
                "retention": [o.to_dict() for o in outcomes],
                "compacted": [
                    {"model": c.model, "kind": c.kind, "day": c.day.isoformat(), "files": c.files}
                    for c in done
                ],
                "superseded_files_deleted": deleted,
            }
        )
        return
    if done:
        print_table(
            ["model", "kind", "day", "files merged"],
            [[item.model, item.kind, item.day.isoformat(), item.files] for item in done],
        )
    if not dry_run:
        click.echo(f"compacted {len(done)} day(s); deleted {deleted} superseded file(s)")
    if outcomes:
        print_table(*outcome_table(outcomes))
    verb = "would change" if dry_run else "changed"
    click.echo(f"retention {verb} {sum(o.changed for o in outcomes)} model(s)")
