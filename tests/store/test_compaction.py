from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from tests.store.helpers import SPEC, T0, labels_table, log_batch
from vigil.api.wire import LabelBatch, LogBatch, ipc_to_table, table_to_ipc
from vigil.errors import ConflictError
from vigil.ingestion import service
from vigil.store.core import Store


def _setup(store: Store, batches: int) -> int:
    with store.session() as session:
        service.create_model(session, SPEC)
    for seed in range(batches):
        with store.session() as session:
            service.ingest_log(session, store.predictions, "churn", log_batch(20, seed))
    with store.session() as session:
        return service.model_id(session, "churn")


def _sorted_rows(store: Store, model_id: int) -> list[tuple[object, ...]]:
    table = store.predictions.joined(model_id)
    return sorted(zip(*(table[c].to_pylist() for c in table.column_names), strict=True))


def test_compaction_keeps_the_rows_and_leaves_one_file(store: Store) -> None:
    model_id = _setup(store, 4)
    before = _sorted_rows(store, model_id)
    with store.session() as session:
        assert service.compact_day(session, store.predictions, "churn", T0.date()) == 4
    assert len(store.predictions.files("predictions", model_id)) == 1
    assert _sorted_rows(store, model_id) == before
    assert len(store.artifacts.list("predictions")) == 5  # old files wait for the collector
    with store.session() as session:
        assert service.collect_garbage(session, store.predictions, "churn") == 4
        assert service.compact_day(session, store.predictions, "churn", T0.date()) == 0
    assert len(store.artifacts.list("predictions")) == 1
    assert _sorted_rows(store, model_id) == before


def test_a_replayed_batch_after_compaction_is_still_applied_once(store: Store) -> None:
    model_id = _setup(store, 2)
    sent = log_batch(20, 5)
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", sent)
    with store.session() as session:
        assert service.compact_day(session, store.predictions, "churn", T0.date()) == 3
        assert service.collect_garbage(session, store.predictions, "churn") == 3
    with store.session() as session:
        result = service.ingest_log(session, store.predictions, "churn", sent)
    assert result.duplicate
    assert store.predictions.read(model_id).num_rows == 60
    assert len(store.artifacts.list("predictions")) == 1


def test_new_uploads_after_a_compaction_are_compacted_with_it(store: Store) -> None:
    model_id = _setup(store, 2)
    with store.session() as session:
        service.compact_day(session, store.predictions, "churn", T0.date())
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", log_batch(20, 7))
    with store.session() as session:
        assert service.compact_day(session, store.predictions, "churn", T0.date()) == 2
    assert store.predictions.read(model_id).num_rows == 60
    assert len(store.predictions.files("predictions", model_id)) == 1


def test_labels_are_compacted_and_still_join(store: Store) -> None:
    model_id = _setup(store, 1)
    later = T0 + dt.timedelta(days=1)
    for i in range(3):
        table = labels_table([f"r0-{i}"], [1], later + dt.timedelta(minutes=i))
        with store.session() as session:
            service.ingest_labels(
                session, store.predictions, "churn", LabelBatch(table_to_ipc(table))
            )
    with store.session() as session:
        assert service.compact_day(session, store.predictions, "churn", later.date(), "labels") == 3
    joined = store.predictions.joined(model_id)
    assert sum(v is not None for v in joined["vigil_label"].to_pylist()) == 3
    assert len(store.predictions.files("labels", model_id)) == 1


def test_two_compactions_of_one_day_at_once_change_nothing_twice(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_id = _setup(store, 3)
    stale = store.predictions.files("predictions", model_id)
    with store.session() as session:
        service.compact_day(session, store.predictions, "churn", T0.date())
    files_after_first = store.artifacts.list("predictions")
    monkeypatch.setattr(store.predictions, "files", lambda *a, **k: list(stale))
    with store.session() as session, pytest.raises(ConflictError, match="at the same time"):
        service.compact_day(session, store.predictions, "churn", T0.date())
    monkeypatch.undo()
    assert store.artifacts.list("predictions") == files_after_first
    assert store.predictions.read(model_id).num_rows == 60


def _spanning_batch(seed: int) -> LogBatch:
    """One upload whose rows fall in the last hour of T0's day and the first of the next."""
    late = dt.datetime.combine(T0.date(), dt.time(23), tzinfo=dt.UTC)
    first, second = (
        log_batch(10, seed, late),
        log_batch(10, seed + 100, late + dt.timedelta(hours=1)),
    )
    rows = pa.concat_tables([ipc_to_table(first.rows), ipc_to_table(second.rows)])
    profiles = [*first.profiles, *second.profiles]
    return LogBatch(version="v1", profiles=profiles, rows=table_to_ipc(rows))


def test_a_batch_spanning_two_days_keeps_its_rows_of_the_other_day(store: Store) -> None:
    """Superseding a batch hides all its files: compacting one day rewrites the batch's files of
    the other day too, and compacting that day afterwards loses nothing either."""
    model_id = _setup(store, 2)
    with store.session() as session:
        service.ingest_log(session, store.predictions, "churn", _spanning_batch(9))
    before = _sorted_rows(store, model_id)
    assert len(before) == 60
    with store.session() as session:
        assert service.compact_day(session, store.predictions, "churn", T0.date()) == 3
    assert _sorted_rows(store, model_id) == before
    next_day = T0.date() + dt.timedelta(days=1)
    with store.session() as session:
        service.ingest_log(
            session,
            store.predictions,
            "churn",
            log_batch(5, 11, dt.datetime.combine(next_day, dt.time(2), tzinfo=dt.UTC)),
        )
        assert service.compact_day(session, store.predictions, "churn", next_day) == 2
        service.collect_garbage(session, store.predictions, "churn")
    assert len(_sorted_rows(store, model_id)) == 65
    assert set(before) <= set(_sorted_rows(store, model_id))
