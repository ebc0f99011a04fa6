"""The compactor: folds the parts that log calls append to windows into the windows' profiles, in
the background, so that reading a window stays bounded.

A log call appends its profile as a part of its window (`WindowRepository.append`); readers merge a
window's parts when they read it. The compactor folds a window as soon as it has `min_parts` parts,
and any window whose oldest part has waited `settle_seconds` (so a quiet window ends up as one
blob). A window with many parts is folded first. Reads stay bounded because the compactor runs
without pause while there is such work; readers never fold (they read in read sessions, which
neither write nor wait for the writers). Where no compactor runs (the client's local mode, a
script on the store), every `FOLD_EVERY`-th upload to a window folds it after its commit
(`vigil.ingestion.service.ingest_log`), so parts stay bounded there too.

Each fold reads a window's blob and parts, merges them outside any transaction, then applies the
result in a short one (`apply_fold`: exact under the window's row lock, a no-op when another fold
changed the window meanwhile), so several server processes may each run a compactor. They share
the work: a compactor folds a window only under its fold lease (`vigil.store.leases`, key
`FOLD_LOCK_BASE` + the window's id), skips a window another process holds, and checks that a
window it leased is still due (the lease's previous holder may just have folded it). Without the
lease, two processes folded the same busy window and one of each pair of folds was discarded as
raced: twice the CPU per upload. A lease ends with its fold, or with its process (a killed
process's windows are folded by the others' next rounds).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, case, func, select
from sqlalchemy.orm import Session

from vigil.store.core import Store
from vigil.store.leases import FOLD_LOCK_BASE, Leases
from vigil.store.models import ProfileWindowPart
from vigil.store.sql import utcnow
from vigil.store.window_folds import fold_committed, windows_with_parts

logger = logging.getLogger("vigil.ingestion")


@dataclass(frozen=True)
class CompactionRound:
    windows: int
    """Windows whose parts were folded."""
    parts: int
    """Parts folded."""
    raced: int
    """Folds given up because another fold changed the window meanwhile (tried again later)."""
    leased: int = 0
    """Due windows left alone because another process held their fold lease."""


def compact_round(
    store: Store,
    *,
    min_parts: int = 64,
    settle_seconds: float = 10.0,
    limit: int = 100,
    now: dt.datetime | None = None,
) -> CompactionRound:
    """Fold the windows due now (at most `limit`, most parts first); see the module docstring."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=settle_seconds)
    windows = parts = raced = leased = 0
    # The reads go in read sessions: on SQLite they then do not hold the write lock.
    with store.read_session() as reader, store.session() as session:
        try:
            due = windows_with_parts(reader, min_parts=min_parts, older_than=cutoff, limit=limit)
        finally:
            reader.rollback()
        if not due:
            return CompactionRound(0, 0, 0)
        with Leases(store.engine) as leases:
            for window_id in due:
                key = FOLD_LOCK_BASE + window_id
                if not leases.take(key):
                    leased += 1
                    continue
                try:
                    due_still = _still_due(reader, window_id, min_parts, cutoff)
                    done = fold_committed(session, window_id) if due_still else None
                finally:
                    leases.release(key)
                if done is None:
                    continue
                windows += 1 if done else 0
                parts += done
                raced += 0 if done else 1
    return CompactionRound(windows, parts, raced, leased)


_PARTS = cast(Table, ProfileWindowPart.__table__).c
_SETTLED = case((_PARTS.created_at < bindparam("cutoff", type_=_PARTS.created_at.type), 1), else_=0)
_PARTS_OF = select(func.count(_PARTS.id), func.coalesce(func.sum(_SETTLED), 0)).where(
    _PARTS.window_id == bindparam("window_id")
)


def _still_due(session: Session, window_id: int, min_parts: int, cutoff: dt.datetime) -> bool:
    """Whether the window still has `min_parts` parts or one older than `cutoff`."""
    try:
        count, old = (
            session.connection()
            .execute(_PARTS_OF, {"window_id": window_id, "cutoff": cutoff})
            .one()
        )
    finally:
        session.rollback()
    return bool(count >= min_parts or old) and count > 0


def _in_memory(store: Store) -> bool:
    url = store.engine.url
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


class Compactor:
    """Runs `compact_round` in a daemon thread until `stop`: again at once while rounds find work,
    else every `interval_seconds`."""

    def __init__(
        self,
        store: Store,
        *,
        interval_seconds: float = 1.0,
        min_parts: int = 64,
        settle_seconds: float = 10.0,
    ) -> None:
        if interval_seconds <= 0 or min_parts < 1 or settle_seconds < 0:
            raise ValueError(
                "Compactor needs interval_seconds > 0, min_parts >= 1 and settle_seconds >= 0, "
                f"got {interval_seconds}, {min_parts} and {settle_seconds}"
            )
        self.store = store
        self.interval_seconds = interval_seconds
        self.min_parts = min_parts
        self.settle_seconds = settle_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.parts_folded = 0

    def start(self) -> None:
        """Start the thread, except on an in-memory SQLite store: its one connection is shared by
        every session, so a second thread's transactions would mix with the requests' (there,
        uploads fold their windows themselves, see the module docstring)."""
        if self._thread is not None or _in_memory(self.store):
            return
        self._thread = threading.Thread(target=self._run, name="vigil-compactor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        wait = self.interval_seconds
        while not self._stop.wait(wait):
            try:
                done = compact_round(
                    self.store, min_parts=self.min_parts, settle_seconds=self.settle_seconds
                )
            except Exception:  # keep running: the next round may succeed (e.g. store back up)
                logger.exception("compacting window parts failed")
                wait = self.interval_seconds
                continue
            self.parts_folded += done.parts
            # More may be due at once (a busy window): go on without waiting, but yield a moment.
            wait = 0.001 if done.parts else self.interval_seconds

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in progress (waiting at most `timeout` seconds for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def fold_if_free(session: Session, window_id: int) -> int | None:
    """`fold_committed` under the window's fold lease, for folds outside the compactor (an
    upload's, `vigil.ingestion.service`): None when another process holds the lease (its fold
    takes these parts too) or there was nothing to fold."""
    bind = session.get_bind()
    with Leases(bind.engine) as leases:
        if not leases.take(FOLD_LOCK_BASE + window_id):
            return None
        return fold_committed(session, window_id)
