"""The `vigil` command. Exit codes: 0 nothing wrong, 1 drift or a failed check, 2 bad usage or input.

Each command lives in its own module here and is registered in `COMMANDS`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from vigil import __version__
from vigil.cli.common import EXIT_OK, EXIT_USAGE
from vigil.cli.datasets import datasets_command
from vigil.cli.demo import demo_command
from vigil.cli.drift import drift_command
from vigil.cli.models import models_group
from vigil.cli.monitors import alerts_group, monitors_group
from vigil.cli.profile import profile_command
from vigil.cli.runs import runs_command
from vigil.cli.validate import validate_command
from vigil.server.cli_commands import COMMANDS as STORE_AND_SERVER_COMMANDS

COMMANDS: list[click.Command] = [
    profile_command,
    demo_command,
    validate_command,
    drift_command,
    monitors_group,
    alerts_group,
    *STORE_AND_SERVER_COMMANDS,
    datasets_command,
    runs_command,
    models_group,
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="vigil")
def cli() -> None:
    """Vigil: monitor machine-learning models in production and keep the history of how they
    were built."""


for _command in COMMANDS:
    cli.add_command(_command)


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
