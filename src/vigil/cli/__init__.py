"""The `vigil` command. Exit codes: 0 nothing wrong, 1 drift or a failed check, 2 bad usage or input.

Each command lives in its own module and is registered in `COMMANDS` by the module and attribute
that hold it. A command's module (and what it needs: SciPy, SQLAlchemy, FastAPI...) is imported
only when that command runs, so `vigil --version` or `vigil profile` start quickly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module

import click

from vigil import __version__
from vigil.cli.common import EXIT_OK, EXIT_USAGE, FullHelpGroup
from vigil.errors import VigilError

COMMANDS: dict[str, tuple[str, str]] = {
    "profile": ("vigil.cli.profile", "profile_command"),
    "demo": ("vigil.cli.demo", "demo_command"),
    "validate": ("vigil.cli.validate", "validate_command"),
    "drift": ("vigil.cli.drift", "drift_command"),
    "monitors": ("vigil.cli.monitors", "monitors_group"),
    "alerts": ("vigil.cli.monitors", "alerts_group"),
    "server": ("vigil.cli.server", "server_command"),
    "token": ("vigil.cli.server", "token_group"),
    "db": ("vigil.cli.server", "db_group"),
    "datasets": ("vigil.cli.datasets", "datasets_command"),
    "runs": ("vigil.cli.runs", "runs_command"),
    "models": ("vigil.cli.models", "models_group"),
    "performance": ("vigil.cli.performance", "performance_group"),
    "events": ("vigil.cli.events", "events_group"),
    "explain": ("vigil.cli.explain", "explain_group"),
    "import": ("vigil.cli.import_cmd", "import_group"),
}


class LazyGroup(FullHelpGroup):
    """A group whose commands are imported on first use (`vigil --help` imports them all)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target
        command = getattr(import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module}.{attribute} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="vigil")
def cli() -> None:
    """Vigil: monitor machine-learning models in production and keep the history of how they
    were built."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of raising SystemExit (usage errors exit 2)."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {one_line(exc)}", err=True)
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_USAGE
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
    except VigilError as exc:  # a command that did not catch its own: still one line, exit 2
        click.echo(f"error: {' '.join(exc.message.split())}", err=True)
        return EXIT_USAGE
    except OSError as exc:  # a file or folder the person named cannot be read or written
        click.echo(f"error: {os_problem(exc)}", err=True)
        return EXIT_USAGE
    except Exception as exc:
        message = unreachable_store(exc)
        if message is None:
            raise
        click.echo(f"error: {message}", err=True)
        return EXIT_USAGE
    return EXIT_OK


def one_line(exc: click.ClickException) -> str:
    """A usage error as one line: click's message and, for a command, where its help is."""
    message = " ".join(exc.format_message().split())
    context = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and context is not None:
        return f"{message} (see '{context.command_path} --help')"
    return message


def os_problem(exc: OSError) -> str:
    """One line for an OSError: the path and what the system said."""
    reason = exc.strerror or type(exc).__name__
    if exc.filename is not None:
        return f"cannot use {str(exc.filename)!r}: {reason}"
    return " ".join(str(exc).split()) or reason


def unreachable_store(exc: BaseException) -> str | None:
    """One line for a store that cannot be reached (PostgreSQL down, a SQLite file that cannot
    be opened), or None when `exc` is something else."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None  # SQLAlchemy is imported only by the commands that use a store
    from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError

    # DatabaseError itself (not its subclasses, e.g. IntegrityError): a file that is not a database
    if not isinstance(exc, OperationalError | InterfaceError) and type(exc) is not DatabaseError:
        return None
    cause = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    first = cause[0] if cause else type(exc).__name__
    return f"cannot use the store: {first} (check --store or VIGIL_STORE_URL)"


if __name__ == "__main__":
    sys.exit(main())
