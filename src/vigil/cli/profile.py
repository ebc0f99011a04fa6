"""`vigil profile`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vigil.cli.common import fail, parse_schema
from vigil.errors import VigilError
from vigil.profile import DatasetProfile, profile


@click.command("profile")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the profile (.vgp).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--schema",
    "schema_items",
    multiple=True,
    metavar="COLUMN=KIND",
    help="Force a column's kind (numeric, categorical, boolean, datetime, text, embedding).",
)
def profile_command(
    data: tuple[str, ...], output: str | None, fmt: str, schema_items: tuple[str, ...]
) -> None:
    """Profile DATA (Parquet or CSV files, Parquet folders, or .vgp profiles) into one profile.

    Several inputs are profiled apart and merged, as if they were one table.
    """
    schema = parse_schema(schema_items)
    try:
        merged = DatasetProfile.empty()
        for item in data:
            merged = merged.merge(load_profile(item, schema=schema))
        if output:
            Path(output).write_bytes(merged.to_bytes())
    except VigilError as exc:
        fail(exc)
    except OSError as exc:
        fail(f"cannot write {output!r}: {exc.strerror}")
    if fmt == "json":
        click.echo(json.dumps(merged.to_dict(), indent=2, default=str))
    else:
        click.echo(merged.summary())
        if output:
            click.echo(f"\nprofile written to {output} ({Path(output).stat().st_size:,} bytes)")


def load_profile(item: str, *, schema: dict[str, str] | None = None) -> DatasetProfile:
    """A .vgp file read back, or a data file profiled."""
    path = Path(item)
    if path.suffix == ".vgp":
        if not path.is_file():
            raise VigilError(f"no such profile file: {item!r}")
        return DatasetProfile.from_bytes(path.read_bytes())
    return profile(path, schema=schema or None)
