"""A throwaway PostgreSQL database per test session.

The server is found at VIGIL_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
In CI (CI=true) an unreachable server fails the tests that need it; locally they skip, saying why.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ADMIN_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL is needed at {ADMIN_URL} ({reason})"
    if in_ci():
        pytest.fail(f"{message}; in CI it must be running (.ci/run starts it)", pytrace=False)
    pytest.skip(f"{message}; set VIGIL_TEST_POSTGRES_URL or start a server to run these tests")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty database, dropped when the session ends."""
    admin_url = make_url(ADMIN_URL)
    if admin_url.drivername in ("postgresql", "postgres"):
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        _unavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        raise AssertionError("unreachable") from exc
    finally:
        admin.dispose()
    with new_database(admin_url, f"vigil_test_{uuid.uuid4().hex[:12]}") as url:
        IN_USE[url] = None
        try:
            yield url
        finally:
            watcher = IN_USE.pop(url, None)
            if watcher is not None:
                watcher.close()


IN_USE: dict[str, psycopg.Connection[Any] | None] = {}
"""The session databases this test process made, each with the connection that watches it."""

LEFT_FOR = 10.0
"""Seconds a session may stay idle in a transaction after a test before it counts as left open."""


def sessions_left_open() -> list[tuple[str, str]]:
    """The sessions on this process's test databases still idle in a transaction LEFT_FOR
    seconds after a test (a connection checked out and never returned, or a thread stuck while
    holding one): each database's name and the last statement the session ran. Such a session
    holds locks the next test's TRUNCATE would wait on forever, so each is ended."""
    found: list[tuple[str, str]] = []
    for url in list(IN_USE):
        watcher = IN_USE[url]
        if watcher is None or watcher.closed or watcher.broken:
            dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
            watcher = IN_USE[url] = psycopg.connect(dsn, autocommit=True)
        deadline = time.monotonic() + LEFT_FOR
        while True:
            rows = watcher.execute(
                "SELECT pid, left(query, 300), extract(epoch FROM now() - state_change) "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
            ).fetchall()
            if not rows:
                break
            if time.monotonic() > deadline:
                # Idle in its transaction for 2 s or more: not a pause between two statements
                # of a thread that is still working.
                rows = [row for row in rows if float(row[2]) >= 2]
                break
            time.sleep(0.5)
        for pid, query, _ in rows:  # ended, so that it holds up no later test
            watcher.execute("SELECT pg_terminate_backend(%s)", (pid,))
            found.append((url.rsplit("/", 1)[-1], str(query)))
    return found


@contextmanager
def new_database(server_url: str | URL, name: str) -> Iterator[str]:
    """The URL of a new, empty database called `name` on `server_url`'s server (any database
    of it), dropped afterwards (its connections ended)."""
    url = make_url(server_url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
