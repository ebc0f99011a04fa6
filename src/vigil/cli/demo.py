"""`vigil demo`."""

from __future__ import annotations

from pathlib import Path

import click

from vigil.cli.common import fail
from vigil.errors import VigilError


@click.command("demo")
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
