"""`service.apply_log(lock=...)`: a log call's write transaction runs inside the lock (the server's
turns on SQLite's write lock), never waits for it while holding SQLite's lock (a read the checks
left open is ended first), folds after releasing it, and uploads from many threads through one
lock are all stored once."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.store.helpers import SPEC, T0, log_batch
from vigil.api.wire import LogBatch
from vigil.ingestion import service
from vigil.store.core import Store
from vigil.store.repositories import ModelCache


class WatchedLock:
    """A lock that records, at each acquire, whether the session was in a transaction, and
    whether a transaction was open while it was held."""

    def __init__(self, session: Session | None = None) -> None:
        self.lock = threading.Lock()
        self.session = session
        self.open_at_acquire: list[bool] = []
        self.held = 0
        self.most_held = 0

    def __enter__(self) -> WatchedLock:
        if self.session is not None:
            self.open_at_acquire.append(self.session.in_transaction())
        self.lock.acquire()
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.session is not None:
            assert not self.session.in_transaction()  # committed or rolled back inside
        self.held -= 1
        self.lock.release()


def _sqlite(path: Path) -> Store:
    store = Store.open(f"sqlite:///{path / 'v.db'}", str(path / "artifacts"))
    with store.session() as session:
        service.create_model(session, SPEC)
    return store


def test_a_read_left_open_by_the_checks_ends_before_the_lock(tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    try:
        with store.session() as session:
            lock = WatchedLock(session)
            # A new cache: the model is read from the store, which opens a transaction.
            batch = log_batch(5, 1)
            checked = service.check_log(session, "churn", batch, models=ModelCache())
            assert session.in_transaction()
            result = service.apply_log(session, store.predictions, checked, lock=lock)
        assert not result.duplicate
        assert lock.open_at_acquire == [False]
        with store.session() as session:
            again = service.ingest_log(
                session, store.predictions, "churn", batch, lock=WatchedLock(session)
            )
        assert again.duplicate
        with store.session() as session:
            assert [(w.n_rows, w.n_uploads) for w in service.list_windows(session, "churn")] == [
                (5, 1)
            ]
    finally:
        store.close()


def test_folds_run_after_the_lock_is_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _sqlite(tmp_path)
    lock = WatchedLock()
    folded_while_held: list[int] = []
    fold = service._fold_after_commit

    def watched(session: Session, window_id: int) -> None:
        folded_while_held.append(lock.held)
        fold(session, window_id)

    monkeypatch.setattr(service, "FOLD_EVERY", 2)
    monkeypatch.setattr(service, "_fold_after_commit", watched)
    try:
        for seed in range(4):
            with store.session() as session:
                service.ingest_log(
                    session, store.predictions, "churn", log_batch(3, seed), lock=lock
                )
        assert folded_while_held == [0, 0]  # the 2nd and 4th uploads folded, the lock free
    finally:
        store.close()


@settings(max_examples=8, deadline=None)
@given(
    plan=st.lists(st.tuples(st.integers(0, 7), st.integers(1, 6)), min_size=1, max_size=16),
    threads=st.integers(1, 4),
)
def test_threads_through_one_lock_store_each_upload_once(
    tmp_path_factory: pytest.TempPathFactory, plan: list[tuple[int, int]], threads: int
) -> None:
    """Uploads (seed, rows; a repeated seed is the same batch sent again) from `threads` threads:
    each batch stored once, the window's counts and files agree, nothing refused."""
    store = _sqlite(tmp_path_factory.mktemp("lock"))
    lock = WatchedLock()
    first: dict[int, int] = {}
    for seed, rows in plan:
        first.setdefault(seed, rows)
    batches = {seed: log_batch(rows, seed) for seed, rows in first.items()}
    sent = [batches[seed] for seed, _ in plan]
    failures: list[BaseException] = []
    answers: list[tuple[str, bool]] = []

    def run(chunk: list[LogBatch]) -> None:
        try:
            for batch in chunk:
                with store.session() as session:
                    result = service.ingest_log(
                        session, store.predictions, "churn", batch, models=store.models, lock=lock
                    )
                answers.append((result.batch_id, result.duplicate))
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=run, args=(sent[i::threads],)) for i in range(threads)]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert failures == []
        assert lock.most_held == 1
        # Each distinct batch answered once as new; every resend as a duplicate.
        new = sorted(b for b, duplicate in answers if not duplicate)
        assert new == sorted(b.batch_id for b in batches.values())
        assert len(answers) == len(sent)
        expected_rows = sum(first.values())
        with store.session() as session:
            [window] = service.list_windows(session, "churn")
        assert (window.start, window.n_uploads, window.n_rows) == (T0, len(batches), expected_rows)
        assert store.predictions.read(1).num_rows == expected_rows
    finally:
        store.close()
