"""`vigil validate`: check CURRENT against a suite suggested from REFERENCE, or against a saved
suite (--suite). Exit 0 when the suite passes, 1 when it fails, 2 on bad usage or input."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

import click

from vigil.analysis.validation import Severity, Suite, suggest_checks
from vigil.cli.common import EXIT_FINDING, EXIT_OK, fail, format_option, parse_schema
from vigil.cli.profile import load_profile
from vigil.errors import VigilError


@click.command("validate")
@click.argument("data", nargs=-1, required=True, metavar="[REFERENCE] CURRENT")
@click.option(
    "--suite",
    "suite_path",
    type=click.Path(dir_okay=False),
    help="Run this suite (YAML) instead of one suggested from REFERENCE; REFERENCE may be omitted.",
)
@format_option()
@click.option(
    "--save-suite",
    type=click.Path(dir_okay=False),
    help="Write the suite that was run (suggested or loaded) as YAML, to edit and keep in git.",
)
@click.option(
    "--fail-on",
    type=click.Choice(list(get_args(Severity))),
    default=None,
    help="Lowest failed severity that fails the run [default: the suite's, 'warning'].",
)
@click.option(
    "--schema",
    "schema_items",
    multiple=True,
    metavar="COLUMN=KIND",
    help="Force a column's kind when profiling REFERENCE and CURRENT data files.",
)
@click.option("--all", "show_all", is_flag=True, help="List passed checks too (text format).")
def validate_command(
    data: tuple[str, ...],
    suite_path: str | None,
    fmt: str,
    save_suite: str | None,
    fail_on: Severity | None,
    schema_items: tuple[str, ...],
    show_all: bool,
) -> None:
    """Validate CURRENT (a Parquet/CSV file or a .vgp profile).

    Without --suite, checks are suggested from REFERENCE (see docs/validation.md for the rules):
    `vigil validate train.parquet today.parquet`. With --suite, REFERENCE is not needed and,
    when given, not read: `vigil validate --suite checks.yaml today.parquet`.
    """
    if len(data) > 2:
        raise click.UsageError(f"expected at most REFERENCE and CURRENT, got {len(data)} paths")
    if suite_path is None and len(data) != 2:
        raise click.UsageError("give REFERENCE and CURRENT (or --suite FILE and CURRENT)")
    current_path = data[-1]
    schema = parse_schema(schema_items) or None
    try:
        if suite_path is not None:
            suite = Suite.load(suite_path)
        else:
            suite = suggest_checks(load_profile(data[0], schema=schema))
        if save_suite:
            _write(save_suite, suite)
        if Path(current_path).suffix == ".vgp":
            result = suite.validate(load_profile(current_path), fail_on=fail_on)
        else:
            result = suite.validate(Path(current_path), fail_on=fail_on, schema=schema)
    except VigilError as exc:
        fail(exc)
    if fmt == "json":
        click.echo(result.to_json())
    else:
        click.echo(result.summary(show_passed=show_all))
        if save_suite:
            click.echo(f"\nsuite written to {save_suite} ({len(suite)} checks)")
    sys.exit(EXIT_OK if result.passed else EXIT_FINDING)


def _write(path: str, suite: Suite) -> None:
    try:
        suite.save(path)
    except OSError as exc:
        fail(f"cannot write {path!r}: {exc.strerror}")
