"""`vigil drift`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vigil.analysis.drift import METHODS, DriftReport, drift
from vigil.cli.common import EXIT_FINDING, EXIT_OK, fail
from vigil.cli.profile import load_profile
from vigil.errors import InvalidInputError, VigilError
from vigil.profile import DatasetProfile


def _load(item: str) -> DatasetProfile | Path:
    """A .vgp profile read back; a data file is passed on as a path (so small files get the
    exact path)."""
    path = Path(item)
    if path.suffix == ".vgp":
        return load_profile(item)
    if not path.exists():
        raise InvalidInputError(f"no such file or folder: {item!r}", path=item)
    return path


@click.command("drift")
@click.argument("reference")
@click.argument("current")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="html needs -o.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here.")
@click.option(
    "--method",
    type=click.Choice(sorted(METHODS)),
    help="Method for every column it accepts (default: by column kind).",
)
@click.option(
    "--threshold",
    type=float,
    help="p-value level for tests, distance for distances (default: the method's).",
)
@click.option(
    "--columns",
    multiple=True,
    metavar="NAMES",
    help="Compare only these columns (comma-separated or repeated).",
)
@click.option(
    "--prediction", "predictions", multiple=True, metavar="NAME", help="A prediction column."
)
@click.option("--target", "targets", multiple=True, metavar="NAME", help="A target column.")
@click.option(
    "--exact/--no-exact",
    default=None,
    help="Force or forbid statistics on raw data (default: raw when both have <= 100,000 rows).",
)
def drift_command(
    reference: str,
    current: str,
    fmt: str,
    output: str | None,
    method: str | None,
    threshold: float | None,
    columns: tuple[str, ...],
    predictions: tuple[str, ...],
    targets: tuple[str, ...],
    exact: bool | None,
) -> None:
    """Compare CURRENT with REFERENCE (data files or .vgp profiles), column by column.

    Exit code 0 when the dataset does not drift, 1 when it does, 2 on bad input.
    """
    if fmt == "html" and not output:
        fail("--format html writes a file: give -o OUT.html")
    try:
        report = drift(
            _load(reference),
            _load(current),
            columns=[c.strip() for item in columns for c in item.split(",") if c.strip()] or None,
            method=method,
            threshold=threshold,
            exact=exact,
            prediction_columns=predictions,
            target_columns=targets,
        )
        _emit(report, fmt, output)
    except VigilError as exc:
        fail(exc)
    except OSError as exc:
        fail(f"cannot write {output!r}: {exc.strerror}")
    sys.exit(EXIT_FINDING if report.dataset_drift else EXIT_OK)


def _emit(report: DriftReport, fmt: str, output: str | None) -> None:
    if fmt == "html":
        assert output is not None
        report.to_html(output)
        click.echo(f"{report.summary().splitlines()[0]}\nreport written to {output}")
        return
    text = report.to_json() if fmt == "json" else report.summary()
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)
