"""Shared pieces of the `vigil` commands: exit codes and how errors reach the person."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from vigil.errors import VigilError

EXIT_OK = 0
EXIT_FINDING = 1
"""Drift was detected or a check failed."""
EXIT_USAGE = 2
"""Bad usage or bad input."""


def fail(error: VigilError | str) -> NoReturn:
    """Print an error for a person and exit with the bad-input code."""
    message = error.message if isinstance(error, VigilError) else error
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def parse_schema(items: Sequence[str]) -> dict[str, str]:
    """`COLUMN=KIND` options into a schema mapping."""
    schema: dict[str, str] = {}
    for item in items:
        name, sep, kind = item.rpartition("=")
        if not sep or not name:
            raise click.BadParameter(
                f"{item!r} is not COLUMN=KIND (e.g. zip=categorical)", param_hint="--schema"
            )
        schema[name] = kind
    return schema
