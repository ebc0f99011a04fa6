"""Shared pieces of the `vigil` commands: exit codes, how errors reach the person, the output
options (`format_option`, `print_table`, `print_json`) and where a command reads
(`backend_options`, `Backend`)."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast
from urllib.parse import urlsplit

import click

from vigil.config import DEFAULT_ARTIFACTS_URL, DEFAULT_STORE_URL, Settings
from vigil.errors import VigilError

if TYPE_CHECKING:  # the store needs SQLAlchemy, the API client httpx: imported when used
    from vigil.api.client import VigilApi
    from vigil.store.core import Store

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
    """Print an error for a person, on one line, and exit with the bad-input code."""
    message = error.message if isinstance(error, VigilError) else error
    click.echo(f"error: {' '.join(message.split())}", err=True)
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


def server_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A Vigil server's address: http(s)://HOST[:PORT][/PREFIX], without a trailing slash."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        _ = parts.port  # reading the port is what checks it
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a URL ({exc})", ctx=ctx, param=param) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not a Vigil server's address; give http(s)://HOST[:PORT]",
            ctx=ctx,
            param=param,
        )
    return value.rstrip("/")


url_option = click.option(
    "--url",
    envvar="VIGIL_URL",
    default=None,
    callback=server_url,
    help="A Vigil server to use instead of the store (with --token or VIGIL_TOKEN).",
)
token_option = click.option(
    "--token", envvar="VIGIL_TOKEN", default=None, help="The server's API token."
)


# --- Output: --format text|json (with --json as its alias) and one table printer -------------

F = TypeVar("F", bound=Callable[..., Any])


def format_option(*extra: str) -> Callable[[F], F]:
    """`--format text|json` (plus `extra` formats, e.g. "html") and `--json`, its alias.

    The command receives the chosen format as `fmt` ("text" unless one was given); `--json`
    with a different `--format` is a usage error (exit 2)::

        @click.command("list")
        @format_option()
        def list_command(fmt: str) -> None:
            ...
            if fmt == "json": ...
    """
    choices = ["text", "json", *extra]

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            as_json = kwargs.pop("format_as_json", False)
            chosen = kwargs.pop("fmt")
            if as_json and chosen not in (None, "json"):
                raise click.UsageError(f"--json and --format {chosen} disagree: give one of them")
            kwargs["fmt"] = "json" if as_json else (chosen or "text")
            return command(*args, **kwargs)

        wrapper = click.option(
            "--json",
            "format_as_json",
            is_flag=True,
            help="Same as --format json.",
        )(wrapper)
        wrapper = click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=None,
            help="Output format. [default: text]",
        )(wrapper)
        return cast(F, wrapper)

    return decorate


def print_json(value: Any, *, lines: bool = False) -> None:
    """`value` as indented JSON, or (`lines`, for a sequence) one compact JSON object per line.
    Times and other values are written as the API writes them (pydantic's JSON forms)."""
    from pydantic_core import to_jsonable_python

    if lines:
        for item in value:
            click.echo(json.dumps(item, default=to_jsonable_python))
    else:
        click.echo(json.dumps(value, indent=2, default=to_jsonable_python))


def cell(value: Any) -> str:
    """One table cell: '-' for None, 6 significant digits for a float, a time to the second;
    tabs and line breaks become spaces (a cell stays on its line)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return " ".join(str(value).split()) if value != "" else "-"


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """The lines of a table: a header line, then one line per row, columns aligned (numbers to
    the right), two spaces between columns, no trailing spaces."""
    body = [[cell(v) for v in row] for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"a row has {len(row)} cells for {len(headers)} headers")
    heads = [h.upper() for h in headers]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(heads)]
    right = [
        any(r[i] != "-" for r in body) and all(r[i] == "-" or _numeric(r[i]) for r in body)
        for i in range(len(heads))
    ]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line(heads), *(line(r) for r in body)]


def print_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str | None = None
) -> None:
    """Print a table with `format_table`; with no rows, print `empty` instead (if given)
    or the header line alone."""
    materialised = list(rows)
    if not materialised and empty is not None:
        click.echo(empty)
        return
    for text in format_table(headers, materialised):
        click.echo(text)


# --- Where a command reads: the store, or a Vigil server (--url/--token) ---------------------


@dataclass(frozen=True)
class Backend:
    """The store options of a command (--store, --artifacts) and the server options (--url,
    --token): with `url` the command talks to that Vigil server, else it opens the store."""

    store_url: str
    artifacts_url: str
    url: str | None = None
    token: str | None = None

    @property
    def remote(self) -> bool:
        return self.url is not None

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The opened store; a `VigilError` inside the block ends the command (one line, exit
        2)."""
        from vigil.store.core import Store

        try:
            opened = Store.open(self.store_url, self.artifacts_url)
        except VigilError as exc:
            fail(exc)
        try:
            yield opened
        except VigilError as exc:
            fail(exc)
        finally:
            opened.close()

    @contextmanager
    def api(self, *, timeout: float = 300.0) -> Iterator[VigilApi]:
        """The server's API client (`vigil.api.client.VigilApi`); an error answer or an
        unreachable server ends the command (one line, exit 2)."""
        from vigil.api.client import VigilApi

        if self.url is None:
            raise RuntimeError("Backend.api() needs --url")
        try:
            with VigilApi(self.url, self.token, timeout=timeout) as client:
                yield client
        except VigilError as exc:
            fail(exc)


def store_options(command: F) -> F:
    """--store and --artifacts, given to the command as one `backend: Backend` (for commands
    that work on the store itself and never through a server)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["backend"] = Backend(kwargs.pop("store_url"), kwargs.pop("artifacts_url"))
        return command(*args, **kwargs)

    return cast(F, store_option(artifacts_option(wrapper)))


def backend_options(command: F) -> F:
    """--store, --artifacts, --url and --token, given to the command as one `backend: Backend`.
    Every command that reads the store takes them (the inventory test in tests/cli checks it)::

        @click.command("list")
        @backend_options
        def list_command(backend: Backend) -> None:
            if backend.remote:
                with backend.api() as api:
                    items = api.monitors.all()
            else:
                with backend.store() as store:
                    items = list_monitors(store)
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["backend"] = Backend(
            kwargs.pop("store_url"),
            kwargs.pop("artifacts_url"),
            kwargs.pop("url"),
            kwargs.pop("token"),
        )
        return command(*args, **kwargs)

    return cast(F, store_option(artifacts_option(url_option(token_option(wrapper)))))
