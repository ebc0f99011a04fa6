"""`vigil datasets add|list|diff`: content-addressed dataset versions in the store, or on a Vigil
server (--url/--token)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from vigil.cli.common import (
    EXIT_FINDING,
    EXIT_OK,
    Backend,
    FullHelpGroup,
    backend_options,
    format_option,
    print_json,
    print_table,
)

if TYPE_CHECKING:  # the store needs SQLAlchemy: imported when a datasets command runs
    from vigil.api.client import VigilApi
    from vigil.api.tracking import DatasetVersionOut
    from vigil.profile import DatasetProfile
    from vigil.tracking.datasets import DatasetDiff, DatasetService


@contextmanager
def _datasets(backend: Backend) -> Iterator[DatasetService]:
    from vigil.tracking.datasets import DatasetService

    with backend.store() as store:
        yield DatasetService(store)


@click.group("datasets", cls=FullHelpGroup)
def datasets_command() -> None:
    """Content-addressed dataset versions: add, list, diff."""


def _version_row(v: DatasetVersionOut) -> list[object]:
    return [v.ref, v.digest[:12], v.size, v.n_chunks, v.n_rows, v.created_at, v.owner]


_VERSION_HEADERS = ["version", "digest", "bytes", "chunks", "rows", "created", "owner"]


@datasets_command.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", "-n", required=True, help="Dataset name (versions are numbered per name).")
@backend_options
@format_option()
def add_command(path: Path, name: str, backend: Backend, fmt: str) -> None:
    """Add PATH as a version of dataset NAME (the same content gives the same version)."""
    from vigil.actors import current_user
    from vigil.tracking.datasets import prepare, push

    if backend.remote:
        with backend.api() as api:
            version = push(
                prepare(path),
                name,
                missing=api.datasets.missing_chunks,
                put_chunk=api.datasets.put_chunk,
                register=api.datasets.register_version,
            )
    else:
        with _datasets(backend) as datasets:
            version = datasets.add(path, name, owner=current_user())
    if fmt == "json":
        print_json(version.model_dump(mode="json"))
        return
    click.echo(
        f"{version.ref}  sha256:{version.digest}  {version.size} bytes  "
        f"{version.n_chunks} chunk(s)" + (f"  {version.n_rows} rows" if version.n_rows else "")
    )


@datasets_command.command("list")
@click.option("--name", "-n", default=None, help="Only this dataset's versions.")
@click.option("--actor", default=None, help="Only versions this person added.")
@backend_options
@format_option()
def list_command(name: str | None, actor: str | None, backend: Backend, fmt: str) -> None:
    """List dataset versions (JSON: one version per line)."""
    if backend.remote:
        params = {k: v for k, v in (("name", name), ("actor", actor)) if v}
        with backend.api() as api:
            versions = api.datasets.versions(params)
    else:
        with _datasets(backend) as datasets:
            versions = datasets.versions(name, actor=actor)
    if fmt == "json":
        print_json([v.model_dump(mode="json") for v in versions], lines=True)
    else:
        print_table(
            _VERSION_HEADERS, [_version_row(v) for v in versions], empty="no dataset versions"
        )


def _stored_profile(api: VigilApi, version: DatasetVersionOut) -> DatasetProfile | None:
    """The profile the server stored for a dataset version (None when it has none)."""
    from vigil.profile import DatasetProfile

    return (
        DatasetProfile.from_bytes(api.datasets.profile(version.ref))
        if version.has_profile
        else None
    )


@datasets_command.command("diff")
@click.argument("a")
@click.argument("b")
@backend_options
@format_option()
def diff_command(a: str, b: str, backend: Backend, fmt: str) -> None:
    """Schema changes and drift from version A to B (NAME, NAME@3 or NAME@<digest prefix>).
    Exits 1 when the schema changed or drift was detected."""
    from vigil.tracking.datasets import diff_versions

    diff: DatasetDiff
    if backend.remote:
        with backend.api() as api:
            va, vb = api.datasets.version(a), api.datasets.version(b)
            diff = diff_versions(va, vb, _stored_profile(api, va), _stored_profile(api, vb))
    else:
        with _datasets(backend) as datasets:
            diff = datasets.diff(a, b)
    if fmt == "json":
        print_json(diff.to_dict())
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
