"""Engines, sessions and migrations for the metadata store.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with `BEGIN IMMEDIATE`,
so two writers queue on the lock instead of failing with "database is locked" halfway through.
A read-only engine (`read_only=True`, a store's `Store.read_session`) begins deferred instead: its
transactions read a snapshot of the last commit and never take or wait for the write lock (WAL
readers do not block writers, nor writers them), and its connections refuse to write
(`PRAGMA query_only`).
Migrations run under a lock (a file lock beside the SQLite file, an advisory lock on PostgreSQL),
so several processes starting at once upgrade the schema exactly once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from vigil.errors import InvalidInputError
from vigil.store.hot_sql import run_plain

SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_LOCK_KEY = int.from_bytes(hashlib.sha256(b"vigil-migrations").digest()[:7], "big")


def parse_store_url(url: str) -> URL:
    """Parse a store URL; `postgresql://` uses the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidInputError(
            f"store URL {url!r} is not a database URL; use sqlite:///path/to/vigil.db "
            "or postgresql://user@host/db",
            store_url=url,
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InvalidInputError(
            f"store URL {url!r} names backend {parsed.get_backend_name()!r}; "
            "Vigil supports sqlite and postgresql",
            store_url=url,
        )
    return parsed


def _is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def has_read_engine(url: URL) -> bool:
    """Whether the store at `url` gets a read-only engine of its own: a SQLite file, where every
    other transaction holds the one write lock. PostgreSQL's reads never wait for writers, and an
    in-memory SQLite database is one connection shared by all sessions."""
    return url.get_backend_name() == "sqlite" and not _is_memory(url)


def create_store_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for the store at `url`, set up for safe concurrent use. With `read_only`, on a
    SQLite file: one whose transactions read a snapshot without the write lock and cannot write
    (see the module docstring); ValueError for any other store (`has_read_engine`)."""
    parsed = parse_store_url(url)
    if read_only and not has_read_engine(parsed):
        raise ValueError(f"only a SQLite file has a read-only engine, not {parsed!r}")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    if _is_memory(parsed):
        engine = create_engine(
            parsed,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            **kwargs,
        )
    else:
        assert parsed.database is not None
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
    memory = _is_memory(parsed)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode survives a crash of the process (kill -9); only a power cut can
            # lose the last transactions.
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # On the driver's cursor (as the upload's statements, `vigil.store.hot_sql`): through
        # Core, this statement cost a fifth of a session's begin and commit.
        run_plain(connection, begin)

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_engine_for(engine: Engine) -> Engine:
    """The engine of a store's read sessions (`Store.read_session`): on a SQLite file a
    read-only engine of its own (`has_read_engine`; see the module docstring), on PostgreSQL
    `engine`'s pool with read-only transactions, and `engine` itself in memory (one connection
    serves every session there)."""
    if has_read_engine(engine.url):
        return create_store_engine(engine.url.render_as_string(hide_password=False), read_only=True)
    if engine.dialect.name == "postgresql":
        return engine.execution_options(postgresql_readonly=True)
    return engine


READERS_KEY = "vigil.readers"
"""Where a Store's sessions carry the factory of its read sessions (`Session.info`)."""


@contextlib.contextmanager
def reader_beside(session: Session) -> Iterator[Session]:
    """A read session of the store `session` belongs to (`Store.read_session`), closed after the
    block; `session` itself for a session made outside a Store (the caller ends its read)."""
    readers = session.info.get(READERS_KEY)
    if readers is None:
        yield session
        return
    with readers() as reader:
        yield reader


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The revision the migrations lead to; several heads (one branch per area, e.g. tracking and
    monitors, each starting from the same revision) are joined with '+', in sorted order."""
    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    if not heads:
        raise RuntimeError("the store has no migrations")
    # A head that another branch `depends_on` is not kept in the version table once that branch
    # is applied (Alembic counts it as applied with it), so it is not reported either.
    return "+".join(sorted(heads - _dependency_ancestors(script, heads)))


def _dependency_ancestors(script: ScriptDirectory, heads: set[str]) -> set[str]:
    """The heads that another head reaches through its parents and `depends_on` links (only a
    `depends_on` link can reach a head: no head is another revision's `down_revision`)."""

    def parents(name: str) -> list[str]:
        revision = script.get_revision(name)
        assert revision is not None
        linked = [script.get_revision(d) for d in _names(revision.dependencies)]
        return _names(revision.down_revision) + [r.revision for r in linked if r is not None]

    pending = [parent for head in heads for parent in parents(head)]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending += parents(name)
    return heads & seen


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def current_revision(engine: Engine) -> str | None:
    """The store's revision, in the form of `head_revision`; None for an empty database."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) if heads else None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the store's schema to `revision` (every branch's head by default); safe when
    several processes call it at once."""
    config = alembic_config()
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        return
    lock: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if not _is_memory(url):
        assert url.database is not None
        lock = _file_lock(Path(url.database).expanduser().with_suffix(".migrate.lock"))
    with lock, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
