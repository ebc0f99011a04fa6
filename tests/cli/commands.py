"""The command tree of `vigil`, walked: every leaf command with its path (for the inventory
and bad-input tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click

from vigil.cli import cli


def leaf_commands() -> Iterator[tuple[str, click.Command]]:
    """('models alias set', command), ... for every command that is not a group."""

    def walk(group: click.Group, prefix: list[str]) -> Iterator[tuple[str, click.Command]]:
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None, name
            if isinstance(command, click.Group):
                yield from walk(command, [*prefix, name])
            else:
                yield " ".join([*prefix, name]), command

    yield from walk(cli, [])


def option_names(command: click.Command) -> set[str]:
    return {o for p in command.params if isinstance(p, click.Option) for o in p.opts}


def table(out: str) -> list[list[str]]:
    """The rows of a table `vigil` printed (header first), cells split at 2+ spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]
