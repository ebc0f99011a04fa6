"""Shared pieces of the `vigil` commands: exit codes and how errors reach the person."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from vigil.config import DEFAULT_ARTIFACTS_URL, DEFAULT_STORE_URL, Settings
from vigil.errors import VigilError

EXIT_OK = 0
EXIT_FINDING = 1
"""Drift was detected or a check failed."""
EXIT_USAGE = 2
"""Bad usage or bad input."""


class FullHelpGroup(click.Group):
    """A command group whose help lists each command with its whole first paragraph, wrapped,
    never cut off with '...'."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            text = command.short_help or inspect.cleandoc(command.help or "").split("\n\n")[0]
            rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def fail(error: VigilError | str) -> NoReturn:
    """Print an error for a person and exit with the bad-input code."""
    message = error.message if isinstance(error, VigilError) else error
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def load_settings(**given: Any) -> Settings:
    """The command's one `Settings`: the options `given` (flat names, e.g. store_url=...), then
    the VIGIL_* variables, then the defaults. A bad value exits 2 with one line naming its
    variable. Build it once per command and pass it (or its sections) down."""
    try:
        return Settings.from_env(**given)
    except VigilError as exc:
        fail(exc)


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


def existing_store_folder(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A SQLite store outside the default place must be in a folder that exists: a command
    creates only the default `.vigil` folder, never one the person did not ask for (a typo in
    a path would otherwise start a new, empty store)."""
    if value == DEFAULT_STORE_URL or not value.startswith("sqlite:///"):
        return value
    database = value.removeprefix("sqlite:///").split("?", 1)[0]
    if database in ("", ":memory:"):
        return value
    folder = Path(database).expanduser().parent
    if not folder.is_dir():
        raise click.BadParameter(
            f"the folder {str(folder)!r} of store {value!r} does not exist; create it first",
            ctx=ctx,
            param=param,
        )
    return value


# Options shared by the commands that work on a store, or on a server instead of it.
store_option = click.option(
    "--store",
    "store_url",
    envvar="VIGIL_STORE_URL",
    default=DEFAULT_STORE_URL,
    show_default=True,
    callback=existing_store_folder,
    help="Store URL: sqlite:///path/vigil.db or postgresql://user@host/db.",
)
artifacts_option = click.option(
    "--artifacts",
    "artifacts_url",
    envvar="VIGIL_ARTIFACTS_URL",
    default=DEFAULT_ARTIFACTS_URL,
    show_default=True,
    help="Artifact store: a local folder or s3://bucket/prefix.",
)
url_option = click.option(
    "--url",
    envvar="VIGIL_URL",
    default=None,
    help="A Vigil server to use instead of the store (with --token or VIGIL_TOKEN).",
)
token_option = click.option(
    "--token", envvar="VIGIL_TOKEN", default=None, help="The server's API token."
)
