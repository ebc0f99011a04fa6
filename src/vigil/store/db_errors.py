"""What a database error means for the request that met it.

Only contention is worth a retry (a 503 with Retry-After): a locked SQLite file, a PostgreSQL
lock, deadlock or serialization failure, a connection that dropped. A statement the database
refuses because of what the request asked for (too complex, a value out of range) fails the
same way every time: that is the request's fault, a 4xx. Anything else is a fault of the
server, a 500 whose details stay in the server log.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.exc import DataError, DBAPIError, OperationalError, StatementError

StoreErrorKind = Literal["contention", "request", "fault"]

# SQLite's messages (sqlite3 has no error classes finer than OperationalError).
_SQLITE_CONTENTION = ("database is locked", "database table is locked", "database is busy")
_SQLITE_REQUEST = (
    "expression tree is too large",
    "too many sql variables",
    "too many terms in compound select",
    "parser stack overflow",
    "string or blob too big",
    "like or glob pattern too complex",
    "integer overflow",
)
_UNREACHABLE = (
    "could not connect",
    "connection refused",
    "connection failed",
    "server closed the connection",
    "unable to open database file",
)
# PostgreSQL SQLSTATE classes and codes: 08 connection, 40 transaction rollback (deadlock,
# serialization), 53 insufficient resources, 57P01-03 shutdown, 55P03 lock not available;
# 22 data exception and 54 program limit exceeded are the request's.
_PG_CONTENTION_PREFIXES = ("08", "40", "53", "57P0", "55P03")
_PG_REQUEST_PREFIXES = ("22", "54")


def is_bind_overflow(exc: BaseException) -> bool:
    """SQLite's driver refusing to bind a Python int past 64 bits (it raises this OverflowError
    itself, not wrapped by SQLAlchemy): a value the request carried, never a server fault."""
    return isinstance(exc, OverflowError) and "too large to convert to SQLite INTEGER" in str(exc)


def classify(exc: StatementError) -> StoreErrorKind:
    """Whether `exc` is contention (retry later), the request's fault, or the server's."""
    original = exc.orig
    if isinstance(original, OverflowError):  # a Python int too large to bind (SQLite)
        return "request"
    if isinstance(exc, DataError):
        return "request"
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(sqlstate, str):
        if sqlstate.startswith(_PG_CONTENTION_PREFIXES):
            return "contention"
        if sqlstate.startswith(_PG_REQUEST_PREFIXES):
            return "request"
        return "fault"
    message = str(original).lower()
    if any(text in message for text in _SQLITE_CONTENTION):
        return "contention"
    if any(text in message for text in _SQLITE_REQUEST):
        return "request"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "contention"  # the connection dropped: the next attempt gets a fresh one
    if isinstance(exc, OperationalError) and any(text in message for text in _UNREACHABLE):
        return "contention"  # the store is down or restarting: a later attempt can succeed
    if isinstance(exc, OperationalError) and sqlstate is None and "interrupted" in message:
        return "contention"  # a statement stopped at the request's time limit
    return "fault"
