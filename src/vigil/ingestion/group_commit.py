"""Group commit: log calls that wait for SQLite's write lock are committed together, in one
transaction, by one of them.

On SQLite one transaction writes at a time, and a log call's transaction costs about as much in
its fixed part (the connection, BEGIN, COMMIT and its write to the WAL, returning the connection)
as in its three statements. `GroupCommit.apply` queues a checked batch and takes its turn; the
thread whose turn it is takes every batch queued by then and writes them in one transaction. When
none of them can fail on its own (profiles only, to windows that exist, with columns that merge),
they are written in a few statements for them all (`vigil.ingestion.group_write`: one claim of
their ids, one count per window, one insert of their parts); otherwise each inside a savepoint of
its own:

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
On PostgreSQL, which writes transactions side by side, callers do not wait for a turn (the
server does not call `apply` there); only the batches handed over are grouped (below).

A batch can also be handed over without a thread waiting for it (`GroupCommit.submit`, as the
server's log route does for a small upload it checked on its event loop): the store's writer
thread takes its turn for it, and whichever thread wrote it calls its `notify` once it is
committed (or failed), then folds the windows it made due. A group's batches handed over with one
`notify` are told in one call, so that a server's event loop is woken once per group, not once
per batch. Those batches join the same queue and groups as the waiting callers', so they are
committed with them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vigil.api.specs import IngestResult
from vigil.ingestion.checks import CheckedLog
from vigil.ingestion.group_write import write_together
from vigil.ingestion.service import fold_after_commit, write_checked
from vigil.store.core import Store
from vigil.store.hot_sql import run_plain
from vigil.store.repositories import utcnow

__all__ = ["GroupCommit", "GroupStats", "Notify", "Queued"]

SAVEPOINT = "vigil_upload"

logger = logging.getLogger("vigil.ingestion")


Notify = Callable[[list["Queued"]], object]
"""Tells the thread that handed batches over that they are written (see `GroupCommit.submit`)."""


@dataclass
class Queued:
    """A checked batch waiting for its transaction, then its outcome: `result`, or `error`."""

    checked: CheckedLog
    context: contextvars.Context
    notify: Notify | None = None
    """Called once it is written, when it was handed over (`GroupCommit.submit`)."""
    waiter: object = None
    """What the thread that handed it over waits on (e.g. its request's future)."""
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
    handed_over: int = 0
    """Batches handed over with `submit` (the others waited in `apply`)."""
    few_statements: int = 0
    """Groups written in a few statements for all their batches (`write_together`)."""


class GroupCommit:
    """One store's queue of checked log batches and the turn to write them (see the module
    docstring). Thread-safe; one per server process and store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.one_writer = store.engine.dialect.name == "sqlite"
        """Whether the store writes one transaction at a time (SQLite): then callers waiting to
        write join the groups (`apply`); PostgreSQL writes them side by side, and groups only
        the batches handed over (`submit`), which would otherwise each wait for their window's
        row lock and flush a commit of their own."""
        self.stats = GroupStats()
        self._turn = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[Queued] = []
        self._wake = threading.Semaphore(0)
        self._writer: threading.Thread | None = None
        self._closing = False

    def submit(self, checked: CheckedLog, notify: Notify, waiter: object = None) -> None:
        """Hand `checked` over to the store's writer thread (started on first use) and return at
        once. Once its transaction committed or failed, `notify` is called in the thread that
        wrote it with every batch of its group handed over with this same `notify` (this one
        among them: `waiter` tells them apart), once; it must not block (e.g.
        `loop.call_soon_threadsafe`). Its writes run in the caller's context at this call (a
        request's deadline bounds their SQL)."""
        queued = Queued(checked, contextvars.copy_context(), notify, waiter)
        with self._queue_lock:
            if self._closing:
                raise RuntimeError("the group commit is closed: no writer takes new batches")
            self._queue.append(queued)
            self.stats.handed_over += 1
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_handed_over, name="vigil-group-writer", daemon=True
                )
                self._writer.start()
        self._wake.release()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the writer thread once it has written every batch handed over (at most
        `timeout` seconds); `submit` refuses new ones from now on."""
        with self._queue_lock:
            self._closing = True
            writer = self._writer
        if writer is not None:
            self._wake.release()
            writer.join(timeout)

    def _write_handed_over(self) -> None:
        """The writer thread: takes the turn for the batches handed over (and any waiting caller's
        queued with them), in groups, until closed with nothing left."""
        while True:
            self._wake.acquire()
            with self._queue_lock:
                if self._closing and not self._queue:
                    return
            group: list[Queued] = []
            try:
                with self.store.session() as session:
                    with self._turn:
                        with self._queue_lock:
                            group, self._queue = self._queue, []
                        if group:
                            self._write(session, group)
                    self._finish(session, group)
            except Exception as error:  # not the batches' own errors (`_write` keeps those)
                logger.exception("writing %d handed-over log batch(es) failed", len(group))
                untold = [q for q in group if q.result is None and q.error is None]
                for queued in untold:
                    queued.done, queued.error = True, error
                _notify(untold)

    def apply(self, session: Session, checked: CheckedLog) -> IngestResult:
        """Write `checked` (with whatever else is queued), fold what it made due, return its
        answer, or raise its own error. `session` is the caller's: a read its checks left open is
        ended first (waiting for the turn while holding SQLite's lock would block the writer)."""
        if session.in_transaction():
            session.rollback()  # the checks wrote nothing
        queued = Queued(checked, contextvars.copy_context())
        with self._queue_lock:
            self._queue.append(queued)
        group: list[Queued] = []
        with self._turn:
            if not queued.done:
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._write(session, group)
        self._finish(session, group)
        if queued.error is not None:
            raise queued.error
        assert queued.result is not None
        for window_id in queued.to_fold:
            fold_after_commit(session, window_id)
        return queued.result

    def _finish(self, session: Session, group: list[Queued]) -> None:
        """After the turn: notify the handed-over batches of `group` (the waiting callers look at
        their own), then fold the windows they made due."""
        handed_over = [queued for queued in group if queued.notify is not None]
        _notify(handed_over)
        for queued in handed_over:
            for window_id in queued.to_fold:
                fold_after_commit(session, window_id)

    def _write(self, session: Session, group: list[Queued]) -> None:
        """Write `group` (in the caller's turn) and mark each batch done with its outcome. The
        batches go in the order of their first windows, so that two processes' groups take
        their windows' row locks (PostgreSQL) in one order and never wait on each other."""
        self.stats.groups += 1
        self.stats.batches += len(group)
        group = sorted(group, key=_first_window)
        try:
            if len(group) == 1:
                self._alone(session, group[0])
            else:
                self._together(session, group)
        finally:
            for queued in group:
                queued.done = True

    def _alone(self, session: Session, queued: Queued) -> None:
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

    def _together(self, session: Session, group: list[Queued]) -> None:
        """The batches in one transaction: in a few statements for all of them when nothing can
        fail on its own (`vigil.ingestion.group_write`), else a savepoint each; alone again if
        the group fails."""
        if self._in_few_statements(session, group):
            return
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

    def _in_few_statements(self, session: Session, group: list[Queued]) -> bool:
        """Write `group` with `write_together` and commit it; False, with nothing of it kept,
        when it needs the savepoints (or failed: they give each batch its own answer)."""
        try:
            outcomes = write_together(session, [queued.checked for queued in group], utcnow())
            if outcomes is None:
                session.rollback()
                return False
            session.commit()
        except Exception:
            session.rollback()
            logger.debug("a group of %d log batches goes batch by batch", len(group), exc_info=True)
            return False
        self.stats.few_statements += 1
        for queued, (result, to_fold) in zip(group, outcomes, strict=True):
            queued.result, queued.to_fold = result, to_fold
        return True


def _first_window(queued: Queued) -> tuple[int, dt.datetime, str]:
    """The (model, start, segment) of the first window a batch writes (its profiles' earliest)."""
    checked = queued.checked
    keys = [
        (p.window.start, segment)
        for p, segment in zip(checked.profiles, checked.segments, strict=True)
        if p.window is not None
    ]
    start, segment = min(keys) if keys else (_NO_WINDOW, "")
    return checked.model_id, start, segment


_NO_WINDOW = dt.datetime.min.replace(tzinfo=dt.UTC)


def _notify(handed_over: list[Queued]) -> None:
    """Call each `notify` of the handed-over batches once, with its batches (a failure is
    logged: they are written)."""
    by_notify: dict[Notify, list[Queued]] = {}
    for queued in handed_over:
        assert queued.notify is not None
        by_notify.setdefault(queued.notify, []).append(queued)
    for notify, batches in by_notify.items():
        try:
            notify(batches)
        except Exception:
            logger.exception("notifying %d handed-over log batch(es) failed", len(batches))
