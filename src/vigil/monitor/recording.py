"""The write phase of a tick: each monitor's measured windows recorded (its results, its alert,
its cursor), after the read and measure phases of its model's monitors.

On PostgreSQL every monitor is written in its own transaction, under its lock (several server
processes may record one monitor: `_lock`), as before; only now after its model's other monitors
were measured, not between them. On SQLite every write transaction holds the whole store's
write lock, whichever process runs it, so no lock of a monitor's own is needed: a model's
monitors are written together, in one transaction of at most `WINDOWS_PER_TRANSACTION` windows
(a monitor with more has its own), so a steady tick commits once per model instead of once per
monitor. The statements are the same and run in the same order, so the results, alerts and
events are the same. Should a monitor's writes fail, its transaction is rolled back and its
monitors are written again one by one: the others' results are kept, as when each had its own
transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Update, bindparam, or_, text, update
from sqlalchemy.orm import Session

from vigil.monitor.kinds import Measurement
from vigil.monitor.monitor_run import MonitorRun
from vigil.monitor.reader import ReadWindow
from vigil.monitor.results import WindowResult, record
from vigil.monitor.thresholds import Bounds
from vigil.store.leases import RECORD_LOCK_BASE
from vigil.store.monitor_tables import MonitorRow

logger = logging.getLogger("vigil.monitor")

# Windows recorded in one write transaction: enough to amortise a commit, few enough that
# another writer waits for milliseconds, not for a range (on SQLite every transaction holds the
# write lock).
WINDOWS_PER_TRANSACTION = 12

Measured = list[tuple[ReadWindow, Measurement, Bounds | None]]
"""A monitor's measured windows: each window, its measurement and its bounds."""


@dataclass(frozen=True)
class Pending:
    """A monitor measured and not yet recorded: its windows, and where its cursor moves."""

    run: MonitorRun
    measured: Measured
    closed: dt.datetime


def write(session: Session, pending: Pending) -> list[WindowResult]:
    """Record one monitor's measured windows and move its cursor (the caller commits)."""
    _lock(session, pending.run)
    results = record(pending.run, pending.measured)
    session.execute(
        _advance_statement(), {"monitor_id": pending.run.row_id, "closed": pending.closed}
    )
    return results


def write_one(session: Session, pending: Pending) -> list[WindowResult]:
    """Record one monitor in its own transaction."""
    results = write(session, pending)
    session.commit()
    return results


def write_all(session: Session, pending: Sequence[Pending]) -> dict[int, list[WindowResult]]:
    """Record the measured monitors (of one model) in transactions as the module docstring
    says; their results by monitor id (none for a monitor whose writes failed: logged)."""
    done: dict[int, list[WindowResult]] = {}
    for chunk in _transactions(session, pending):
        try:
            written = {p.run.row_id: write(session, p) for p in chunk}
            session.commit()
        except Exception:
            session.rollback()
            if len(chunk) == 1:
                logger.exception("monitor %s: evaluation failed", chunk[0].run.monitor.name)
                continue
            for p in chunk:  # one by one: one monitor's failure keeps the others' results
                try:
                    done[p.run.row_id] = write_one(session, p)
                except Exception:
                    session.rollback()
                    logger.exception("monitor %s: evaluation failed", p.run.monitor.name)
            continue
        done.update(written)
    return done


def _transactions(session: Session, pending: Sequence[Pending]) -> Iterator[list[Pending]]:
    """The monitors each write transaction records, in order: one each but on SQLite, where
    they are grouped up to `WINDOWS_PER_TRANSACTION` windows."""
    if session.get_bind().dialect.name != "sqlite":
        yield from ([p] for p in pending)
        return
    chunk: list[Pending] = []
    size = 0
    for p in pending:
        if chunk and size + len(p.measured) > WINDOWS_PER_TRANSACTION:
            yield chunk
            chunk, size = [], 0
        chunk.append(p)
        size += len(p.measured)
    if chunk:
        yield chunk


def _lock(session: Session, run: MonitorRun) -> None:
    """On PostgreSQL, hold the monitor's lock for this write transaction, so that two server
    processes record one monitor's results one after the other (SQLite serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECORD_LOCK_BASE + run.row_id}
        )


@functools.cache
def _advance_statement() -> Update:
    """The statement moving a monitor's `evaluated_until` forward to `closed` (never back),
    built once (a tick runs it for every monitor, and building it took longer than running
    it), on the table rather than the ORM entity (the ORM's bulk-update machinery cost more than
    the statement). Parameters: monitor_id, closed."""
    table: Any = MonitorRow.__table__
    until = table.c.evaluated_until
    closed = bindparam("closed", type_=until.type)
    return (
        update(table)
        .where(table.c.id == bindparam("monitor_id"), or_(until.is_(None), until < closed))
        .values(evaluated_until=closed)
    )
