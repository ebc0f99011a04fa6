"""`vigil datasets add|list|diff`: content-addressed dataset versions in the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from vigil.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    FullHelpGroup,
    artifacts_option,
    fail,
    store_option,
)
from vigil.errors import VigilError

if TYPE_CHECKING:  # the store needs SQLAlchemy: imported when a datasets command runs
    from vigil.tracking.datasets import DatasetService


@contextmanager
def _datasets(store_url: str, artifacts_url: str) -> Iterator[DatasetService]:
    from vigil.store.core import Store
    from vigil.tracking.datasets import DatasetService

    try:
        store = Store.open(store_url, artifacts_url)
    except VigilError as exc:
        fail(exc)
    try:
        yield DatasetService(store)
    except VigilError as exc:
        fail(exc)
    finally:
        store.close()


@click.group("datasets", cls=FullHelpGroup)
def datasets_command() -> None:
    """Content-addressed dataset versions: add, list, diff."""


@datasets_command.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", "-n", required=True, help="Dataset name (versions are numbered per name).")
@store_option
@artifacts_option
def add_command(path: Path, name: str, store_url: str, artifacts_url: str) -> None:
    """Add PATH as a version of dataset NAME (the same content gives the same version)."""
    from vigil.actors import current_user

    with _datasets(store_url, artifacts_url) as datasets:
        version = datasets.add(path, name, owner=current_user())
    click.echo(
        f"{version.ref}  sha256:{version.digest}  {version.size} bytes  "
        f"{version.n_chunks} chunk(s)" + (f"  {version.n_rows} rows" if version.n_rows else "")
    )


@datasets_command.command("list")
@click.option("--name", "-n", default=None, help="Only this dataset's versions.")
@click.option("--actor", default=None, help="Only versions this person added.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@store_option
@artifacts_option
def list_command(
    name: str | None, actor: str | None, as_json: bool, store_url: str, artifacts_url: str
) -> None:
    """List dataset versions."""
    with _datasets(store_url, artifacts_url) as datasets:
        versions = datasets.versions(name, actor=actor)
    for v in versions:
        if as_json:
            click.echo(json.dumps(v.model_dump(mode="json")))
        else:
            rows = "" if v.n_rows is None else f"{v.n_rows} rows"
            click.echo(
                f"{v.ref:<30} {v.digest[:12]}  {v.size:>12} bytes  {rows:<14} "
                f"{v.created_at:%Y-%m-%d %H:%M} {v.owner}"
            )


@datasets_command.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@store_option
@artifacts_option
def diff_command(a: str, b: str, fmt: str, store_url: str, artifacts_url: str) -> None:
    """Schema changes and drift from version A to B (NAME, NAME@3 or NAME@<digest prefix>).
    Exits 1 when the schema changed or drift was detected."""
    with _datasets(store_url, artifacts_url) as datasets:
        diff = datasets.diff(a, b)
    if fmt == "json":
        click.echo(json.dumps(diff.to_dict(), indent=2))
    else:
        click.echo(f"{diff.a.ref} -> {diff.b.ref}")
        if diff.same_content:
            click.echo("same content")
        for column in diff.added_columns:
            click.echo(f"+ {column}")
        for column in diff.removed_columns:
            click.echo(f"- {column}")
        for column, (old, new) in diff.changed_kinds.items():
            click.echo(f"~ {column}: {old} -> {new}")
        if diff.drift is not None:
            drifted = diff.drift.drifted_columns
            click.echo(f"drifted columns: {', '.join(drifted) if drifted else 'none'}")
        elif not diff.same_content:
            click.echo("no profile on one side (not a table): no drift report")
    changed = diff.added_columns or diff.removed_columns or diff.changed_kinds
    drifted_any = diff.drift is not None and bool(diff.drift.drifted_columns)
    raise SystemExit(EXIT_FINDING if changed or drifted_any else EXIT_OK)
