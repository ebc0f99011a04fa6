"""The ingestion transaction's statements, run on the driver's cursor on SQLite.

An upload runs three small statements (claim its batch id, count it into its window, append its
part). Through SQLAlchemy Core each costs about 60 us of Python before SQLite sees it (an
execution context, the compiled cache, parameter processing, a result object), as much as
SQLite's own work. `Prepared` compiles a Core statement once for the engine's dialect (the same
SQL text Core would send), applies each parameter's bind processing (the column types' own, e.g.
`UTCDateTime` to naive UTC) and runs it on the DBAPI cursor of the session's connection, in the
session's transaction. A driver error is raised as SQLAlchemy raises it (`DBAPIError.instance`:
"database is locked" is still an `OperationalError`, which the server answers with 503), and the
request's time limit still applies (SQLite's progress handler is on the connection).

Only where nothing could tell the difference: on SQLite, and only while no one listens to the
engine's cursor events (instrumentation, tests counting statements); otherwise the statement goes
through Core as before. Rows come back as plain tuples, so this is for statements that return
integers and strings only (no result processing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, exc
from sqlalchemy.sql.dml import UpdateBase


class _Compiled:
    """A statement's SQL text for one dialect, its parameters in order and their processing."""

    def __init__(self, statement: UpdateBase, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not compiled.positional or compiled.positiontup is None:
            raise TypeError(f"{dialect.name} has no positional paramstyle")
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup)
        # Literal values compiled into the statement as parameters (e.g. the 1 of `n + 1`).
        self.fixed = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for `params` (bind processing applied once per parameter: a
        parameter used twice, e.g. an upload's arrival time, is listed twice)."""
        done: dict[str, Any] = {}
        values = []
        for name in self.names:
            if name in done:
                values.append(done[name])
                continue
            value = params[name] if name in params else self.fixed[name]
            processor = self.processors.get(name)
            value = done[name] = value if processor is None else processor(value)
            values.append(value)
        return values


class Prepared:
    """A Core statement run on a connection's driver cursor on SQLite (see the module docstring);
    `run` goes through Core where that could be noticed."""

    def __init__(self, statement: UpdateBase) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], str], _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _Compiled:
        """The statement compiled for `dialect` (once per dialect class and paramstyle)."""
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = _Compiled(self.statement, dialect)
            with self._lock:
                self._compiled[key] = found
        return found

    def run(self, connection: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """Run the statement with `params` in `connection`'s transaction; its rows (tuples, or
        Core's rows when it went through Core)."""
        dialect = connection.dialect
        if dialect.name != "sqlite" or connection.engine.dispatch.before_cursor_execute:
            result = connection.execute(self.statement, dict(params))
            return result.all() if result.returns_rows else []
        compiled = self.compiled(dialect)
        arguments = compiled.arguments(params)
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, arguments)
            return cursor.fetchall()  # type: ignore[no-any-return]
        except dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                compiled.sql, arguments, error, dialect.loaded_dbapi.Error
            ) from error
        finally:
            cursor.close()


def run_plain(connection: Connection, sql: str) -> None:
    """Run `sql` (no parameters, no rows: e.g. SAVEPOINT) in `connection`'s transaction, on the
    driver's cursor on SQLite where no one listens (as `Prepared.run`), else through Core."""
    dialect = connection.dialect
    if dialect.name != "sqlite" or connection.engine.dispatch.before_cursor_execute:
        connection.exec_driver_sql(sql)
        return
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(sql, (), error, dialect.loaded_dbapi.Error) from error
    finally:
        cursor.close()
