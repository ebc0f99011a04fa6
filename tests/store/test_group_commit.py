"""`vigil.ingestion.group_commit`: log calls waiting for SQLite's write lock are committed together.
Groups are formed on purpose here (the test holds the turn while threads queue), so every case
is certain: each request gets the answer it would get alone, a refusal or a failure inside a group
stays its own, a group that fails as a whole is written again batch by batch, and nothing
acknowledged is lost or doubled (hypothesis over groups of new, resent and failing batches)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from tests.store.helpers import SPEC, T0, log_batch
from tests.waits import wait_until
from vigil.api.specs import IngestResult
from vigil.api.wire import LogBatch
from vigil.errors import SchemaConflictError
from vigil.ingestion import group_commit, service
from vigil.ingestion.group_commit import GroupCommit
from vigil.store.core import Store
from vigil.store.predictions import PredictionStore
from vigil.store.repositories import ModelCache

Outcome = IngestResult | BaseException


def _store(path: Path) -> Store:
    store = Store.open(f"sqlite:///{path / 'v.db'}", str(path / "artifacts"))
    with store.session() as session:
        service.create_model(session, SPEC)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = _store(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def _apply(store: Store, group: GroupCommit, batch: LogBatch) -> Outcome:
    try:
        with store.session() as session:
            checked = service.check_log(session, "churn", batch, models=store.models)
            return group.apply(session, checked)
    except Exception as error:
        return error


def _as_one_group(store: Store, group: GroupCommit, batches: list[LogBatch]) -> list[Outcome]:
    """`batches` sent from one thread each while the test holds the turn, so that all of them
    queue, then written as one group."""
    outcomes: list[Outcome | None] = [None] * len(batches)

    def send(i: int) -> None:
        outcomes[i] = _apply(store, group, batches[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    with group._turn:
        for thread in threads:
            thread.start()
        assert wait_until(lambda: len(group._queue) == len(batches), 10)
    for thread in threads:
        thread.join()
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


def _window(store: Store) -> tuple[int, int]:
    with store.session() as session:
        windows = service.list_windows(session, "churn")
    return (windows[0].n_uploads, windows[0].n_rows) if windows else (0, 0)


def _text_age(seed: int) -> LogBatch:
    """A batch whose `age` is text: it conflicts with a window that holds numbers (409)."""
    profile = vigil.profile({"age": ["old", "young"]}, window=(T0, T0 + dt.timedelta(hours=1)))
    return LogBatch(version="v1", profiles=[profile.to_bytes()])


def test_one_group_answers_each_batch_as_alone(store: Store) -> None:
    group = GroupCommit(store)
    first = log_batch(4, 1)
    batches = [first, log_batch(5, 2), first, log_batch(6, 3)]
    outcomes = _as_one_group(store, group, batches)
    assert (group.stats.groups, group.stats.batches, group.stats.retried_alone) == (1, 4, 0)
    results = [o for o in outcomes if isinstance(o, IngestResult)]
    assert len(results) == 4
    # The resent batch is a duplicate whichever of the two was written first.
    assert sorted(r.duplicate for r in results) == [False, False, False, True]
    assert _window(store) == (3, 15)
    assert store.predictions.read(1).num_rows == 15


def test_a_refusal_inside_a_group_is_its_own(store: Store) -> None:
    group = GroupCommit(store)
    with store.session() as session:  # the window holds numbers first
        service.ingest_log(session, store.predictions, "churn", log_batch(3, 0))
    batches = [log_batch(4, 1), _text_age(9), log_batch(5, 2)]
    outcomes = _as_one_group(store, group, batches)
    assert isinstance(outcomes[1], SchemaConflictError)
    assert [isinstance(o, IngestResult) and not o.duplicate for o in outcomes] == [
        True,
        False,
        True,
    ]
    assert group.stats.retried_alone == 0
    assert _window(store) == (3, 12)
    # The refused batch claimed nothing: sent again later (alone) it is refused again, not a
    # duplicate.
    assert isinstance(_apply(store, group, batches[1]), SchemaConflictError)


def test_a_failing_file_fails_its_batch_only(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    group = GroupCommit(store)
    doomed = log_batch(4, 1)
    append = PredictionStore.append

    def failing(self: PredictionStore, kind: str, model: int, batch_id: str, t: pa.Table) -> object:
        if batch_id == doomed.batch_id:
            raise OSError("disk full")
        return append(self, kind, model, batch_id, t)  # type: ignore[arg-type]

    monkeypatch.setattr(PredictionStore, "append", failing)
    outcomes = _as_one_group(store, group, [log_batch(3, 0), doomed, log_batch(5, 2)])
    assert isinstance(outcomes[1], OSError)
    assert _window(store) == (2, 8)
    monkeypatch.setattr(PredictionStore, "append", append)
    retried = _apply(store, group, doomed)  # its id was not claimed: the retry is stored
    assert isinstance(retried, IngestResult)
    assert not retried.duplicate
    assert _window(store) == (3, 12)


def test_a_group_that_fails_is_written_again_batch_by_batch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = GroupCommit(store)
    calls: list[str] = []
    plain = group_commit.run_plain

    def release_fails_once(connection: object, sql: str) -> None:
        calls.append(sql)
        if sql.startswith("RELEASE") and calls.count(sql) == 2:
            raise RuntimeError("the group's transaction broke")
        plain(connection, sql)  # type: ignore[arg-type]

    monkeypatch.setattr(group_commit, "run_plain", release_fails_once)
    first = log_batch(4, 1)
    outcomes = _as_one_group(store, group, [first, log_batch(5, 2), first])
    assert group.stats.retried_alone == 3
    assert all(isinstance(o, IngestResult) for o in outcomes)
    assert sorted(o.duplicate for o in outcomes if isinstance(o, IngestResult)) == [
        False,
        False,
        True,
    ]
    assert _window(store) == (2, 9)
    assert store.predictions.read(1).num_rows == 9


def test_a_read_left_open_is_ended_and_folds_run_after_the_turn(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = GroupCommit(store)
    held: list[bool] = []
    fold = service.fold_after_commit

    def watched(session: object, window_id: int) -> None:
        held.append(group._turn.locked())
        fold(session, window_id)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "FOLD_EVERY", 2)
    monkeypatch.setattr(group_commit, "fold_after_commit", watched)
    for seed in range(4):
        with store.session() as session:
            checked = service.check_log(session, "churn", log_batch(3, seed), models=ModelCache())
            assert session.in_transaction()  # the model was read
            group.apply(session, checked)
    assert held == [False, False]
    assert _window(store) == (4, 12)


kinds = st.sampled_from(["new", "resend", "fails"])


@settings(max_examples=12, deadline=None)
@given(groups=st.lists(st.lists(kinds, min_size=1, max_size=5), min_size=1, max_size=4))
def test_groups_lose_and_double_nothing(
    tmp_path_factory: pytest.TempPathFactory, groups: list[list[str]]
) -> None:
    """Groups of new batches, resends of any batch sent before or in the same group, and batches
    whose file cannot be written: every batch answered as new is stored once, nothing else."""
    store = _store(tmp_path_factory.mktemp("group"))
    group = GroupCommit(store)
    doomed: set[str] = set()
    append = PredictionStore.append

    def failing(self: PredictionStore, kind: str, model: int, batch_id: str, t: pa.Table) -> object:
        if batch_id in doomed:
            raise OSError("disk full")
        return append(self, kind, model, batch_id, t)  # type: ignore[arg-type]

    sent: list[LogBatch] = []
    stored: dict[str, int] = {}
    seed = 0
    PredictionStore.append = failing  # type: ignore[method-assign,assignment]
    try:
        for kinds_of_group in groups:
            batches: list[LogBatch] = []
            for kind in kinds_of_group:
                if kind == "resend" and (sent or batches):
                    batches.append((sent + batches)[seed % len(sent + batches)])
                else:
                    seed += 1
                    batch = log_batch(seed % 5 + 1, seed)
                    if kind == "fails":
                        doomed.add(batch.batch_id)
                    batches.append(batch)
            outcomes = _as_one_group(store, group, batches)
            # Within a group the order of writing is the threads' arrival: look per batch id.
            by_id: dict[str, list[Outcome]] = {}
            for batch, outcome in zip(batches, outcomes, strict=True):
                by_id.setdefault(batch.batch_id, []).append(outcome)
            for batch_id, answers in by_id.items():
                if batch_id in doomed and batch_id not in stored:
                    assert all(isinstance(a, OSError) for a in answers)
                    continue
                results = [a for a in answers if isinstance(a, IngestResult)]
                assert len(results) == len(answers)
                new = [r for r in results if not r.duplicate]
                # Stored before: only duplicates; else stored now, by exactly one of them.
                assert len(new) == (0 if batch_id in stored else 1)
                if new:
                    stored[batch_id] = new[0].n_rows
            sent += batches
        assert _window(store) == (len(stored), sum(stored.values()))
        files = store.predictions.files("predictions", 1)
        assert sorted(k.rsplit("/", 1)[1].removesuffix(".parquet") for k in files) == sorted(stored)
        assert group.stats.batches == sum(len(g) for g in groups)
    finally:
        PredictionStore.append = append  # type: ignore[method-assign]
        store.close()
