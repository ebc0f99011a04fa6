"""A group of uploads to existing windows written in a few statements: every batch id claimed in
one INSERT, each window counted once for all its uploads, every part appended in one INSERT.

Written one upload at a time, a group of n uploads to one window runs 3n statements (claim,
count, part) and, to keep each upload's failure its own, 2n savepoint statements around them:
on PostgreSQL a round trip each, everywhere a trip through SQLAlchemy and the driver (measured
in docs/benchmarks.md, "A group in a few statements"). `vigil.ingestion.group_write` decides
when a group can be written this way.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import UpdateBase

from vigil.store.hot_sql import Prepared
from vigil.store.models import IngestedBatch, ProfileWindowPart

__all__ = ["ROWS_PER_STATEMENT", "add_parts", "claim_batches"]

ROWS_PER_STATEMENT = 64
"""Rows per multi-row INSERT (a longer list is sent in several): at most 64 x 5 parameters, far
below SQLite's limit, and a few dozen compiled statements per process."""

_PARTS = cast(Table, ProfileWindowPart.__table__)
_BATCHES = cast(Table, IngestedBatch.__table__)
_PART_COLUMNS = ("window_id", "n_rows", "created_at", "profile")
_CLAIM_COLUMNS = ("batch_id", "model_id", "kind", "n_rows", "received_at")


def _values(columns: Sequence[str], n: int | None) -> Any:
    """The VALUES of `n` rows (parameters `column_i`), or of one row (`column`) when None."""
    if n is None:
        return {c: bindparam(c) for c in columns}
    return [{c: bindparam(f"{c}_{i}") for c in columns} for i in range(n)]


def _parts(n: int | None, dialect: str) -> UpdateBase:
    return insert(_PARTS).values(_values(_PART_COLUMNS, n))


def _claims(n: int | None, dialect: str) -> UpdateBase:
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(_BATCHES).values(_values(_CLAIM_COLUMNS, n))
    return statement.on_conflict_do_nothing().returning(_BATCHES.c.batch_id)


class _ManyRows:
    """A multi-row statement. On SQLite (the driver's cursor, `Prepared`) it is built and
    compiled once per row count, and run in chunks of at most ROWS_PER_STATEMENT rows. Elsewhere
    the one-row statement `one[dialect]` runs with every row's parameters: SQLAlchemy sends them
    as multi-row statements of its own ("insertmanyvalues"), from a compiled form it caches (a
    statement holding several rows of values is compiled again at every execution)."""

    def __init__(
        self, build: Callable[[int | None, str], UpdateBase], one: Mapping[str, UpdateBase]
    ) -> None:
        self._build = build
        self._one = one
        self._built: dict[int, Prepared] = {}
        self._lock = threading.Lock()

    def run(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        dialect = "postgresql" if connection.dialect.name == "postgresql" else "sqlite"
        if not rows:
            return []
        if dialect != "sqlite":
            result = connection.execute(self._one[dialect], [dict(row) for row in rows])
            return list(result.all()) if result.returns_rows else []
        found: list[Any] = []
        for first in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[first : first + ROWS_PER_STATEMENT]
            params = {
                f"{name}_{i}": value for i, row in enumerate(chunk) for name, value in row.items()
            }
            found.extend(self._prepared(len(chunk)).run(connection, params))
        return found

    def _prepared(self, n: int) -> Prepared:
        """The statement of `n` rows, for SQLite."""
        prepared = self._built.get(n)
        if prepared is None:
            prepared = Prepared(self._build(n, "sqlite"))
            with self._lock:
                self._built[n] = prepared
        return prepared


_ADD_PARTS = _ManyRows(_parts, {"postgresql": _parts(None, "postgresql")})
_CLAIM_BATCHES = _ManyRows(_claims, {"postgresql": _claims(None, "postgresql")})


def claim_batches(
    connection: Connection, batches: Sequence[tuple[str, int, int]], kind: str, at: dt.datetime
) -> set[str]:
    """Record each `(batch id, model id, rows)` of `batches` (ids distinct); the ids recorded now
    (the others had been before: retries or replays)."""
    rows = [
        {
            "batch_id": batch_id,
            "model_id": model_id,
            "kind": kind,
            "n_rows": n_rows,
            "received_at": at,
        }
        for batch_id, model_id, n_rows in batches
    ]
    return {str(row[0]) for row in _CLAIM_BATCHES.run(connection, rows)}


def add_parts(
    connection: Connection, parts: Sequence[tuple[int, int, bytes]], at: dt.datetime
) -> None:
    """Append each `(window id, rows, profile blob)` of `parts` to its window."""
    rows = [
        {"window_id": window_id, "n_rows": n_rows, "created_at": at, "profile": blob}
        for window_id, n_rows, blob in parts
    ]
    _ADD_PARTS.run(connection, rows)
