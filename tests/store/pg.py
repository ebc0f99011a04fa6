"""A throwaway PostgreSQL database per test session.

The server is found at VIGIL_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
In CI (CI=true) an unreachable server fails the tests that need it; locally they skip, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
        yield url


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
