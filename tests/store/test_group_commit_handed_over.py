"""`GroupCommit.submit`: a checked log batch handed over to the store's writer thread, as the
server's log route does for a small upload it checked on its event loop, on both backends. Each batch handed over
is written once and notified once, with the answer it would get from a waiting caller; it joins
the waiting callers' groups; whichever thread wrote it folds the windows it made due; closing
writes what was handed over, then refuses more."""

from __future__ import annotations

import logging
import threading

import pytest

from tests.store.helpers import SPEC, log_batch
from tests.store.test_group_commit import _apply, _text_age, _window
from tests.waits import wait_until
from vigil.api.specs import IngestResult
from vigil.api.wire import LogBatch
from vigil.errors import SchemaConflictError
from vigil.ingestion import group_commit, service
from vigil.ingestion.group_commit import GroupCommit, Queued
from vigil.store.core import Store


@pytest.fixture
def store(store: Store) -> Store:
    """The store on each backend (tests/store/conftest.py), with the churn model."""
    with store.session() as session:
        service.create_model(session, SPEC)
    return store


class Answers:
    """The notifications of handed-over batches, by batch (each must come once)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.got: list[Queued] = []
        self.threads: list[str] = []
        self.calls: list[int] = []
        """How many batches each call told."""

    def __call__(self, batches: list[Queued]) -> None:
        with self.lock:
            self.calls.append(len(batches))
            for queued in batches:
                self.got.append(queued)
                self.threads.append(threading.current_thread().name)

    def wait(self, n: int) -> list[IngestResult | BaseException]:
        assert wait_until(lambda: len(self.got) >= n, 20), f"{len(self.got)} of {n} notified"
        assert len(self.got) == n
        assert len({id(q) for q in self.got}) == n  # each batch once
        return [q.error if q.error is not None else q.result for q in self.got]  # type: ignore[misc]


def _submit(store: Store, group: GroupCommit, batch: LogBatch, answers: Answers) -> None:
    with store.session() as session:
        checked = service.check_log(session, "churn", batch, models=store.models)
    group.submit(checked, answers)


def test_handed_over_batches_are_written_and_notified_once(store: Store) -> None:
    group, answers = GroupCommit(store), Answers()
    first = log_batch(4, 1)
    for batch in (first, log_batch(5, 2), first, log_batch(6, 3)):
        _submit(store, group, batch, answers)
    outcomes = answers.wait(4)
    group.close()
    assert all(isinstance(o, IngestResult) for o in outcomes)
    by_id = {
        q.checked.batch.batch_id: q for q in answers.got if q.result and not q.result.duplicate
    }
    assert sorted(by_id) == sorted(
        {first.batch_id, *(q.checked.batch.batch_id for q in answers.got)}
    )
    assert sum(1 for q in answers.got if q.result and q.result.duplicate) == 1
    assert set(answers.threads) == {"vigil-group-writer"}
    assert (group.stats.batches, group.stats.handed_over) == (4, 4)
    assert _window(store) == (3, 15)
    assert store.predictions.read(1).num_rows == 15


def test_handed_over_and_waiting_batches_join_one_group(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches handed over and two callers waiting, all queued while the turn is held: the
    first thread to get the turn writes all four as one group, and folds the handed-over ones'
    windows itself (here every second upload folds)."""
    monkeypatch.setattr(service, "FOLD_EVERY", 2)
    folded: list[tuple[int, str]] = []
    fold = service.fold_after_commit

    def spy(session: object, window_id: int) -> None:
        folded.append((window_id, threading.current_thread().name))
        fold(session, window_id)  # type: ignore[arg-type]

    monkeypatch.setattr(group_commit, "fold_after_commit", spy)
    group, answers = GroupCommit(store), Answers()
    waiting: list[IngestResult | BaseException] = []
    batches = [log_batch(3 + i, 10 + i) for i in range(4)]
    callers = [
        threading.Thread(target=lambda b=b: waiting.append(_apply(store, group, b)), name=f"c{i}")
        for i, b in enumerate(batches[2:])
    ]
    with group._turn:
        for batch in batches[:2]:
            _submit(store, group, batch, answers)
        for caller in callers:
            caller.start()
        assert wait_until(lambda: len(group._queue) == 4, 10)
    for caller in callers:
        caller.join()
    outcomes = answers.wait(2)
    group.close()
    assert all(isinstance(o, IngestResult) and not o.duplicate for o in [*outcomes, *waiting])
    assert (group.stats.groups, group.stats.batches) == (1, 4)
    assert _window(store) == (4, sum(3 + i for i in range(4)))
    # Uploads 2 and 4 of the window made it due; a handed-over batch's fold ran in the thread
    # that wrote the group, a waiting caller's in its own.
    writer = answers.threads[0]
    assert set(answers.threads) == {writer}
    # (The writer may be a caller, which then folds its own window too.)
    handed_due = sum(1 for q in answers.got if q.to_fold)
    assert handed_due == 1
    assert len(folded) == 2
    assert sum(name == writer for _, name in folded) >= handed_due
    assert all(name in (writer, "c0", "c1") for _, name in folded)


def test_a_refusal_handed_over_is_its_own(store: Store) -> None:
    group, answers = GroupCommit(store), Answers()
    with store.session() as session:  # the window holds numbers first
        service.ingest_log(session, store.predictions, "churn", log_batch(3, 0))
    with group._turn:  # one group
        for batch in (log_batch(4, 1), _text_age(9), log_batch(5, 2)):
            _submit(store, group, batch, answers)
        assert wait_until(lambda: len(group._queue) == 3, 10)
    outcomes = answers.wait(3)
    group.close()
    assert answers.calls == [3]  # one group, told in one call
    refused = [o for o in outcomes if isinstance(o, SchemaConflictError)]
    assert len(refused) == 1
    assert "age" in str(refused[0])
    assert sum(isinstance(o, IngestResult) and not o.duplicate for o in outcomes) == 2
    assert group.stats.retried_alone == 0
    assert _window(store) == (3, 12)


def test_close_writes_what_was_handed_over_then_refuses(store: Store) -> None:
    group, answers = GroupCommit(store), Answers()
    closer = threading.Thread(target=group.close)
    with group._turn:
        for i in range(3):
            _submit(store, group, log_batch(2, 20 + i), answers)
        closer.start()  # it waits for the writer, which waits for the turn
        assert wait_until(lambda: group._closing, 10)
        with pytest.raises(RuntimeError, match="closed"):
            _submit(store, group, log_batch(2, 99), answers)
    closer.join(30)
    assert not closer.is_alive()
    assert len(answers.wait(3)) == 3
    assert group._writer is not None
    assert not group._writer.is_alive()
    assert _window(store) == (3, 6)


def test_a_failing_notify_is_logged_and_the_others_are_told(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    group, answers = GroupCommit(store), Answers()

    def broken(batches: list[Queued]) -> None:
        raise RuntimeError("the event loop is closed")

    with group._turn:
        _submit(store, group, log_batch(2, 30), answers)
        with store.session() as session:
            checked = service.check_log(session, "churn", log_batch(3, 31), models=store.models)
        group.submit(checked, broken)
        _submit(store, group, log_batch(4, 32), answers)
        assert wait_until(lambda: len(group._queue) == 3, 10)
    with caplog.at_level(logging.ERROR, logger="vigil.ingestion"):
        assert len(answers.wait(2)) == 2
        group.close()
    assert "notifying 1 handed-over log batch(es) failed" in caplog.text
    assert _window(store) == (3, 9)  # the batch whose notify failed is written all the same
