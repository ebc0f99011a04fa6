"""`vigil demo`."""

from __future__ import annotations

from pathlib import Path

import click

from vigil.cli.common import fail
from vigil.errors import VigilError


@click.command("demo")
@click.option(
    "--rows",
    default=20_000,
    show_default=True,
    type=click.IntRange(min=500),
    help="Training rows to generate (at least 500: the model is trained and validated on them).",
)
@click.option("--seed", default=7, show_default=True)
@click.option("--out", "out_dir", default=".vigil/demo", show_default=True, type=click.Path())
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="Then start the server on the demo's store and print the dashboard's address and a token.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo_command(rows: int, seed: int, out_dir: str, serve: bool, host: str, port: int) -> None:
    """Generate a model's training data and 30 days of traffic, track and register it, monitor it,
    show what changed, then serve the dashboard on it."""
    from vigil.demo import run_demo

    try:
        store_url, artifacts_url = run_demo(Path(out_dir), rows=rows, seed=seed, echo=click.echo)
        if serve:
            from vigil.demo.serve import serve_demo

            serve_demo(store_url, artifacts_url, host=host, port=port, echo=click.echo)
    except VigilError as exc:
        fail(exc)
