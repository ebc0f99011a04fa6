"""Retention on the command line: `vigil models retention NAME [--rows-days N ...]` reads or
changes a model's policy, `vigil db compact` applies every policy (and compacts the day files).

`vigil.cli` registers `models_group` and `db_group` below: the registry's and the store's groups
(`vigil.cli.models`, `vigil.cli.server`) with these commands added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vigil.api.retention import MAX_RETENTION_DAYS, RETENTION_FIELDS, RetentionOut
from vigil.cli import models as models_cli
from vigil.cli import server as server_cli
from vigil.cli.common import (
    Backend,
    FullHelpGroup,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
    store_option,
)
from vigil.config import DEFAULT_ARTIFACTS_URL
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.client.areas.retention import RetentionArea
    from vigil.ingestion.retention import Outcome

FOREVER = "forever"
F = TypeVar("F", bound=Callable[..., Any])


class Days(click.ParamType[int | str]):
    """A number of days (1 to 36525), or `forever` to keep that data for ever."""

    name = "DAYS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) or value == FOREVER:
            return value
        text = str(value).strip()
        if text.lower() == FOREVER:
            return FOREVER
        if not text.isdigit() or not 1 <= int(text) <= MAX_RETENTION_DAYS:
            self.fail(
                f"{value!r} is not a number of days from 1 to {MAX_RETENTION_DAYS}, "
                f"nor '{FOREVER}'",
                param,
                ctx,
            )
        return int(text)


def _option(field: str, what: str) -> Callable[[F], F]:
    flag = "--" + field.replace("_", "-")
    return click.option(
        flag, field, type=Days(), default=None, help=f"{what} ('{FOREVER}': never)."
    )


def _update(area: RetentionArea, name: str, changes: dict[str, Any]) -> RetentionOut:
    """The model's policy after setting `changes` (the other settings kept)."""
    try:
        policy = area.get(name)
        if changes:
            policy = area.set(name, **{**policy.policy().model_dump(), **changes})
    except VigilError as exc:
        fail(exc)
    return policy


def _show(policy: RetentionOut, fmt: str) -> None:
    if fmt == "json":
        print_json(policy.model_dump(mode="json"))
        return
    rows = [[name, getattr(policy, name) or FOREVER] for name in RETENTION_FIELDS]
    print_table(["setting", "days"], rows)
    if policy.updated_at is not None:
        click.echo(f"set {policy.updated_at.isoformat()} by {policy.updated_by or 'unknown'}")


@click.command("retention")
@click.argument("name")
@_option("rows_days", "Delete raw prediction and label rows after this many days")
@_option("daily_after_days", "Roll windows shorter than a day up into days after this many days")
@_option("monthly_after_days", "Roll days up into calendar months after this many days")
@_option("alerts_days", "Delete resolved alerts this many days after they resolved")
@_option("events_days", "Delete the model's events after this many days")
@backend_options
@format_option()
def retention_command(name: str, backend: Backend, fmt: str, **given: int | str | None) -> None:
    """Show a monitored model's retention policy, or change the settings given (the others
    stay). `vigil db compact` and the server's retention worker apply it."""
    from vigil.client.areas.retention import LocalRetention, RemoteRetention

    changes = {k: (None if v == FOREVER else v) for k, v in given.items() if v is not None}
    if backend.remote:
        with backend.api() as api:
            policy = _update(RemoteRetention(api), name, changes)
    else:
        with backend.store() as store:
            policy = _update(LocalRetention(store), name, changes)
    _show(policy, fmt)


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
                "retention": [_outcome_dict(o) for o in outcomes],
                "compacted": [
                    {"model": c.model, "kind": c.kind, "day": c.day.isoformat(), "files": c.files}
                    for c in done
                ],
                "superseded_files_deleted": deleted,
            }
        )
        return
    verb = "would" if dry_run else "did"
    print_table(
        ["model", "row days deleted", "periods rolled up", "windows merged", "alerts", "events"],
        [_outcome_row(o) for o in outcomes],
        empty="no model has a retention policy",
    )
    click.echo(f"retention: {verb} change {sum(o.changed for o in outcomes)} model(s)")
    if not dry_run:
        click.echo(f"compacted {len(done)} day(s); deleted {deleted} superseded file(s)")


def _outcome_row(outcome: Outcome) -> list[Any]:
    return [
        outcome.model,
        len(outcome.row_days),
        len(outcome.rollups),
        outcome.windows_replaced,
        outcome.alerts,
        outcome.events,
    ]


def _outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return {
        "model": outcome.model,
        "row_days": [
            {"kind": kind, "day": day.isoformat(), "files": files}
            for kind, day, files in outcome.row_days
        ],
        "rollups": [
            {
                "version": r.version,
                "segment": r.segment,
                "period": r.period,
                "start": r.start.isoformat(),
                "end": r.end.isoformat(),
                "windows": r.windows,
            }
            for r in outcome.rollups
        ],
        "windows_replaced": outcome.windows_replaced,
        "alerts": outcome.alerts,
        "events": outcome.events,
    }


def _with(group: click.Group, *commands: click.Command) -> click.Group:
    """A copy of `group` with `commands` added (or put in place of those of the same name)."""
    return FullHelpGroup(
        group.name,
        commands={**group.commands, **{c.name or "": c for c in commands}},
        help=group.help,
    )


models_group = _with(models_cli.models_group, retention_command)
db_group = _with(server_cli.db_group, compact_command)
