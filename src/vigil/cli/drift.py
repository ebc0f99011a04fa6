"""`vigil drift`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from vigil.analysis.drift import METHODS, DriftReport, drift
from vigil.cli.common import EXIT_FINDING, EXIT_OK, fail, format_option
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
@format_option("html")
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
@click.option(
    "--fail-on",
    type=click.Choice(["column", "prediction", "dataset"]),
    default="column",
    show_default=True,
    help="Exit 1 when any compared column drifts (column), when a --prediction column drifts "
    "(prediction), or when the share of drifted columns reaches the dataset rule (dataset).",
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
    fail_on: str,
) -> None:
    """Compare CURRENT with REFERENCE (data files or .vgp profiles), column by column.

    Exit code 1 when drift is found (by default: any compared column drifts; see --fail-on),
    0 when not, 2 on bad input or when nothing could be compared.
    """
    if fail_on == "prediction" and not predictions:
        fail("--fail-on prediction needs the prediction column: give --prediction NAME")
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
    _refuse_empty(report, reference, current)
    sys.exit(EXIT_FINDING if _found(report, fail_on) else EXIT_OK)


def _found(report: DriftReport, fail_on: str) -> bool:
    if fail_on == "dataset":
        return report.dataset_drift
    if fail_on == "prediction":
        return report.prediction_drift
    return bool(report.drifted_columns)


def _refuse_empty(report: DriftReport, reference: str, current: str) -> None:
    """A comparison that compared nothing is not a pass (exit 2, after the report was shown)."""
    for name, rows in ((reference, report.reference_rows), (current, report.current_rows)):
        if rows == 0:
            fail(f"{name!r} has no rows: nothing was compared")
    if not report.columns:
        reasons = "; ".join(f"{c}: {why}" for c, why in report.skipped.items())
        fail(
            "no column could be compared"
            + (f" ({reasons})" if reasons else " (the two inputs share no column)")
        )


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
