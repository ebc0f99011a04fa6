"""Group commit: log calls that wait for SQLite's write lock are committed together, in one
transaction, by one of them.

On SQLite one transaction writes at a time, and a log call's transaction costs about as much in
its fixed part (the connection, BEGIN, COMMIT and its write to the WAL, returning the connection)
as in its three statements. `GroupCommit.apply` queues a checked batch and takes its turn; the
thread whose turn it is takes every batch queued by then and writes them in one transaction, each
inside a savepoint of its own:

- each request is answered only after the transaction holding its writes committed (a duplicate
  found in the group too: the batch that claimed its id first may still fail with the group);
- a batch refused or failing inside the group (a column conflicting with its window's, 409; a
  row file that cannot be written) is rolled back to its savepoint alone and gets its own error,
  the others go on;
- when the group as a whole fails (its commit, a savepoint that cannot be rolled back), nothing
  of it is kept, and each batch is written again alone, in a transaction of its own, getting the
  answer it would have had without the group;
- each batch's writes run in its own request's context (its deadline bounds its SQL), the
  transaction's BEGIN and COMMIT in the writing thread's.

A batch alone in its turn (one request at a time) is written as before, with no savepoint.
PostgreSQL writes transactions side by side and does not use this.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vigil.api.specs import IngestResult
from vigil.ingestion.checks import CheckedLog
from vigil.ingestion.service import fold_after_commit, write_checked
from vigil.store.core import Store
from vigil.store.hot_sql import run_plain
from vigil.store.repositories import utcnow

__all__ = ["GroupCommit", "GroupStats"]

SAVEPOINT = "vigil_upload"


@dataclass
class _Queued:
    """A checked batch waiting for its transaction, then its outcome."""

    checked: CheckedLog
    context: contextvars.Context
    done: bool = False
    result: IngestResult | None = None
    to_fold: list[int] = field(default_factory=list)
    error: BaseException | None = None


@dataclass
class GroupStats:
    """How many groups were committed, and how many batches they held (for tests and tuning)."""

    groups: int = 0
    batches: int = 0
    retried_alone: int = 0


class GroupCommit:
    """One store's queue of checked log batches and the turn to write them (see the module
    docstring). Thread-safe; one per server process and store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stats = GroupStats()
        self._turn = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Queued] = []

    def apply(self, session: Session, checked: CheckedLog) -> IngestResult:
        """Write `checked` (with whatever else is queued), fold what it made due, return its
        answer, or raise its own error. `session` is the caller's: a read its checks left open is
        ended first (waiting for the turn while holding SQLite's lock would block the writer)."""
        if session.in_transaction():
            session.rollback()  # the checks wrote nothing
        queued = _Queued(checked, contextvars.copy_context())
        with self._queue_lock:
            self._queue.append(queued)
        with self._turn:
            if not queued.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._write(session, group)
        if queued.error is not None:
            raise queued.error
        assert queued.result is not None
        for window_id in queued.to_fold:
            fold_after_commit(session, window_id)
        return queued.result

    def _write(self, session: Session, group: list[_Queued]) -> None:
        """Write `group` (in the caller's turn) and mark each batch done with its outcome."""
        self.stats.groups += 1
        self.stats.batches += len(group)
        try:
            if len(group) == 1:
                self._alone(session, group[0])
            else:
                self._together(session, group)
        finally:
            for queued in group:
                queued.done = True

    def _alone(self, session: Session, queued: _Queued) -> None:
        """One batch in a transaction of its own, in its own context."""
        try:
            arrival = utcnow()
            result, to_fold = queued.context.run(
                write_checked, session, self.store.predictions, queued.checked, arrival
            )
            if result.duplicate:
                session.rollback()
            else:
                session.commit()
            queued.result, queued.to_fold = result, to_fold
        except BaseException as error:
            session.rollback()
            queued.error = error

    def _together(self, session: Session, group: list[_Queued]) -> None:
        """The batches in one transaction, a savepoint each; alone again if the group fails."""
        outcomes: list[tuple[IngestResult, list[int]] | BaseException] = []
        try:
            arrival = utcnow()
            connection = session.connection()
            for queued in group:
                run_plain(connection, f"SAVEPOINT {SAVEPOINT}")
                try:
                    outcome = queued.context.run(
                        write_checked,
                        session,
                        self.store.predictions,
                        queued.checked,
                        arrival,
                    )
                except Exception as error:
                    run_plain(connection, f"ROLLBACK TO {SAVEPOINT}")
                    outcomes.append(error)
                else:
                    outcomes.append(outcome)
                run_plain(connection, f"RELEASE {SAVEPOINT}")
            session.commit()
        except BaseException:
            session.rollback()
            self.stats.retried_alone += len(group)
            for queued in group:
                self._alone(session, queued)
            return
        for queued, done in zip(group, outcomes, strict=True):
            if isinstance(done, BaseException):
                queued.error = done
            else:
                queued.result, queued.to_fold = done
