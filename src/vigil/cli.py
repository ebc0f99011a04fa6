"""The `vigil` command. Exit codes: 0 nothing wrong, 1 drift or a failed check, 2 bad usage or input."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from vigil import __version__
from vigil.errors import VigilError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2


def fail(error: VigilError | str) -> NoReturn:
    """Print an error for a person and exit with the bad-input code."""
    message = error.message if isinstance(error, VigilError) else error
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _parse_schema(items: Sequence[str]) -> dict[str, str]:
    schema: dict[str, str] = {}
    for item in items:
        name, sep, kind = item.rpartition("=")
        if not sep or not name:
            raise click.BadParameter(
                f"{item!r} is not COLUMN=KIND (e.g. zip=categorical)", param_hint="--schema"
            )
        schema[name] = kind
    return schema


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="vigil")
def cli() -> None:
    """Vigil: monitor machine-learning models in production and keep the history of how they
    were built."""


@cli.command("profile")
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
    from vigil.profile import DatasetProfile

    schema = _parse_schema(schema_items)
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


def load_profile(item: str, *, schema: dict[str, str] | None = None) -> Any:
    """A .vgp file read back, or a data file profiled."""
    from vigil.profile import DatasetProfile, profile

    path = Path(item)
    if path.suffix == ".vgp":
        if not path.is_file():
            raise VigilError(f"no such profile file: {item!r}")
        return DatasetProfile.from_bytes(path.read_bytes())
    return profile(path, schema=schema or None)


@cli.command("demo")
@click.option("--rows", default=20_000, show_default=True, help="Training rows to generate.")
@click.option("--seed", default=7, show_default=True)
@click.option("--out", "out_dir", default=".vigil/demo", show_default=True, type=click.Path())
def demo_command(rows: int, seed: int, out_dir: str) -> None:
    """Generate a training set and a production week, profile them and show what changed."""
    from vigil.demo import run_demo

    try:
        run_demo(Path(out_dir), rows=rows, seed=seed, echo=click.echo)
    except VigilError as exc:
        fail(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of raising SystemExit (usage errors exit 2)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_USAGE
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
