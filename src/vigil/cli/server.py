"""The store and server commands of `vigil`: `server`, `token create|list|rotate|revoke`, `db`.

`vigil.cli` registers `COMMANDS`. The store URL comes from --store, else VIGIL_STORE_URL, else the
default SQLite file under ./.vigil.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from vigil.api.specs import Scope
from vigil.cli.common import (
    Backend,
    FullHelpGroup,
    backend_options,
    format_option,
    load_settings,
    print_json,
    print_table,
    store_option,
)
from vigil.cli.db import compact_command
from vigil.config import ServerSettings, StoreSettings, variable
from vigil.errors import VigilError

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings
    from sqlalchemy.orm import Session


def fail(error: VigilError) -> NoReturn:
    """Report a store error as a usage error (exit code 2), without a traceback."""
    raise click.ClickException(error.message)


@contextmanager
def _session(store_url: str) -> Iterator[Session]:
    """A session on the (migrated) store, without touching the artifact store."""
    from vigil.store.db import create_store_engine, session_factory, upgrade

    engine = create_store_engine(store_url)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _default(section: type[BaseSettings], field: str) -> str:
    return f"{variable(section, field)}, else {section.model_fields[field].default}"


@click.command("server")
@store_option
@click.option(
    "--artifacts",
    "artifacts_url",
    default=None,
    help=f"Artifact store: a folder or s3://bucket/prefix. [default: "
    f"{_default(StoreSettings, 'artifacts_url')}]",
)
@click.option(
    "--s3-endpoint",
    "s3_endpoint_url",
    default=None,
    help="S3 endpoint of a non-AWS S3 server (MinIO, Ceph...); credentials come from AWS_*. "
    "[default: VIGIL_S3_ENDPOINT_URL]",
)
@click.option("--host", default=None, help=f"[default: {_default(ServerSettings, 'host')}]")
@click.option(
    "--port", default=None, type=int, help=f"[default: {_default(ServerSettings, 'port')}]"
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def server_command(
    store_url: str,
    artifacts_url: str | None,
    s3_endpoint_url: str | None,
    host: str | None,
    port: int | None,
    log_level: str,
) -> None:
    """Run the Vigil server (REST API, /metrics, /health).

    Every other setting comes from its VIGIL_* variable (docs/server.md, "Settings").
    """
    from vigil.server.app import serve

    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    options = {
        "artifacts_url": artifacts_url,
        "s3_endpoint_url": s3_endpoint_url,
        "host": host,
        "port": port,
    }
    given = {name: value for name, value in options.items() if value is not None}
    settings = load_settings(store_url=store_url, **given)
    _check_store(settings.store.store_url)
    serve(settings, log_level=log_level)


def _check_store(store_url: str) -> None:
    """Refuse to start on a store URL that is not one, or a database that cannot be reached,
    with one line (exit 2) before the server starts, not a traceback from its start-up."""
    from vigil.store.db import create_store_engine

    try:
        engine = create_store_engine(store_url)
    except VigilError as exc:
        fail(exc)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


@click.group("token", cls=FullHelpGroup)
def token_group() -> None:
    """Create, list, rotate and revoke API tokens."""


expires_in_option = click.option(
    "--expires-in",
    default=None,
    metavar="DURATION",
    help="Lifetime: a whole number and a unit of s, m, h, d or w (e.g. 90d). Default: no expiry.",
)


def _duration(value: str | None, name: str) -> dt.timedelta | None:
    from vigil.ranges import parse_duration

    try:
        return parse_duration(value, name=name) if value is not None else None
    except VigilError as exc:
        fail(exc)


def _when(moment: dt.datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"


@token_group.command("create")
@backend_options
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    required=True,
    help="read < write < admin; each includes the ones before it.",
)
@click.option("--name", default="", help="What the token is for.")
@click.option(
    "--owner", default="", help="Who holds the token: their changes are recorded under this name."
)
@expires_in_option
def token_create(
    backend: Backend, scope: str, name: str, owner: str, expires_in: str | None
) -> None:
    """Create an API token and print it (it is shown only once). With --url, on that server
    (an admin token)."""
    from vigil.api.specs import TokenIn
    from vigil.store.repositories import TokenRepository

    lifetime = _duration(expires_in, "--expires-in")
    if backend.remote:
        spec = TokenIn(scope=Scope(scope), name=name, owner=owner, expires_in=expires_in)
        with backend.api(timeout=30.0) as api:
            made = api.tokens.create(spec)
        token_id, expires_at, secret = made.id, made.expires_at, made.token
    else:
        try:
            with _session(backend.store_url) as session:
                token, secret = TokenRepository(session).create(
                    Scope(scope), name=name, owner=owner, expires_in=lifetime
                )
                session.commit()
        except VigilError as exc:
            fail(exc)
        token_id, expires_at = token.id, token.expires_at
    click.echo(secret)
    expiry = f", expires {_when(expires_at)}" if expires_at else ""
    click.echo(f"token {token_id} (scope {scope}{expiry}) created; it is shown only once", err=True)


@token_group.command("list")
@backend_options
@format_option()
def token_list(backend: Backend, fmt: str) -> None:
    """List tokens: id, scope, owner, name, state, expiry and last use (never secrets)."""
    from vigil.api.specs import TokenOut
    from vigil.store.repositories import TokenRepository, utcnow

    tokens: list[TokenOut]
    if backend.remote:
        with backend.api(timeout=30.0) as api:
            tokens = api.tokens.all()
    else:
        try:
            with _session(backend.store_url) as session:
                tokens = [
                    TokenOut.model_validate(t, from_attributes=True)
                    for t in TokenRepository(session).list()
                ]
        except VigilError as exc:
            fail(exc)
    if fmt == "json":
        print_json([t.model_dump(mode="json") for t in tokens])
        return
    now = utcnow()
    rows = []
    for token in tokens:
        if token.revoked_at:
            state = f"revoked {_when(token.revoked_at)}"
        elif token.expires_at and token.expires_at <= now:
            state = "expired"
        else:
            state = "active"
        rows.append(
            [
                token.id,
                token.scope.value,
                token.owner,
                token.name,
                state,
                _when(token.expires_at),
                _when(token.last_used_at),
            ]
        )
    print_table(
        ["id", "scope", "owner", "name", "state", "expires", "last used"], rows, empty="no tokens"
    )


@token_group.command("rotate")
@backend_options
@click.argument("token_ref", metavar="TOKEN")
@expires_in_option
@click.option(
    "--grace",
    default=None,
    metavar="DURATION",
    help="Let the old token work this much longer (e.g. 1h) instead of revoking it now.",
)
def token_rotate(
    backend: Backend, token_ref: str, expires_in: str | None, grace: str | None
) -> None:
    """Replace TOKEN (an id, or the name of one live token) by a new one with the same name,
    owner and scope, print the new secret, and revoke the old one (after --grace if given).
    With --url, TOKEN is an id."""
    from vigil.api.specs import TokenRotateIn
    from vigil.store.repositories import TokenRepository

    lifetime, overlap = _duration(expires_in, "--expires-in"), _duration(grace, "--grace")
    if backend.remote:
        with backend.api(timeout=30.0) as api:
            made = api.tokens.rotate(token_ref, TokenRotateIn(expires_in=expires_in, grace=grace))
        click.echo(made.token)
        click.echo(
            f"token {made.id} replaces {token_ref}; the new secret is shown only once", err=True
        )
        return
    try:
        with _session(backend.store_url) as session:
            tokens = TokenRepository(session)
            old, new, secret = tokens.rotate(
                tokens.resolve(token_ref).id, expires_in=lifetime, grace=overlap
            )
            session.commit()
    except VigilError as exc:
        fail(exc)
    click.echo(secret)
    until = f"expires {_when(old.expires_at)}" if overlap else "revoked"
    click.echo(
        f"token {new.id} replaces {old.id} ({until}); the new secret is shown only once",
        err=True,
    )


@token_group.command("revoke")
@backend_options
@click.argument("token_id")
def token_revoke(backend: Backend, token_id: str) -> None:
    """Revoke the token with id TOKEN_ID."""
    from vigil.store.repositories import TokenRepository

    if backend.remote:
        with backend.api(timeout=30.0) as api:
            api.tokens.revoke(token_id)
    else:
        try:
            with _session(backend.store_url) as session:
                TokenRepository(session).revoke(token_id)
                session.commit()
        except VigilError as exc:
            fail(exc)
    click.echo(f"token {token_id} revoked")


@click.group("db", cls=FullHelpGroup)
def db_group() -> None:
    """Manage the store's database."""


@db_group.command("upgrade")
@store_option
def db_upgrade(store_url: str) -> None:
    """Bring the store's schema up to date (the server also does this when it starts)."""
    from vigil.store.db import create_store_engine, current_revision, upgrade

    try:
        engine = create_store_engine(store_url)
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
        engine.dispose()
    except VigilError as exc:
        fail(exc)
    click.echo(f"store at revision {after} (was {before or 'empty'})")


db_group.add_command(compact_command)


COMMANDS: list[click.Command] = [server_command, token_group, db_group]
