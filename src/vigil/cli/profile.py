"""`vigil profile`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from vigil.cli.common import fail, format_option, parse_schema
from vigil.errors import InvalidInputError, VigilError
from vigil.profile import DatasetProfile, profile


@click.command("profile")
@click.argument("data", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the profile (.vgp).")
@format_option()
@click.option(
    "--schema",
    "schema_items",
    multiple=True,
    metavar="COLUMN=KIND",
    help="Force a column's kind (numeric, categorical, boolean, datetime, text, embedding).",
)
@click.option(
    "--spark",
    "use_spark",
    is_flag=True,
    help="Read DATA (Parquet files or folders) with Spark and profile it there.",
)
@click.option(
    "--spark-master", default="local[*]", show_default=True, help="Spark master URL for --spark."
)
def profile_command(
    data: tuple[str, ...],
    output: str | None,
    fmt: str,
    schema_items: tuple[str, ...],
    use_spark: bool,
    spark_master: str,
) -> None:
    """Profile DATA (Parquet or CSV files, Parquet folders, or .vgp profiles) into one profile.

    Several inputs are profiled apart and merged, as if they were one table.
    """
    schema = parse_schema(schema_items)
    try:
        if use_spark:
            merged = _profile_on_spark(data, schema, spark_master)
        else:
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


def _profile_on_spark(data: tuple[str, ...], schema: dict[str, str], master: str) -> DatasetProfile:
    from vigil import spark

    missing = [item for item in data if not Path(item).exists() and "://" not in item]
    if missing:
        raise InvalidInputError(f"no such file or folder: {missing[0]!r}", path=missing[0])
    session = spark.local_session(master)
    frame = session.read.parquet(*data)
    return spark.profile(frame, schema=schema or None)


def load_profile(item: str, *, schema: dict[str, str] | None = None) -> DatasetProfile:
    """A .vgp file read back, or a data file profiled."""
    path = Path(item)
    if path.suffix == ".vgp":
        if not path.is_file():
            raise InvalidInputError(f"no such profile file: {item!r}", path=item)
        return DatasetProfile.from_bytes(path.read_bytes())
    return profile(path, schema=schema or None)
