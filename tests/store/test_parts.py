"""Log calls append parts to windows (tests/store/test_parts_interleaving.py checks interleavings
one step at a time): here writers, readers and the compactor run in real threads, and the ordinary
cases (retried batches, segments, windows created by racing first uploads, kind conflicts,
folding a model's windows) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

import vigil
from tests.waits import patience
from vigil.api.specs import ModelSpec
from vigil.api.wire import LogBatch
from vigil.errors import SchemaConflictError
from vigil.ingestion import service
from vigil.ingestion.compactor import Compactor, compact_round
from vigil.monitor.reader import WindowReader
from vigil.profile import DatasetProfile
from vigil.profile.columns import merge_columns
from vigil.store.core import Store
from vigil.store.models import ProfileWindow, ProfileWindowPart
from vigil.store.stored_profiles import decode_stored, load_stored, tally_of
from vigil.store.window_folds import fold_parts, windows_with_parts
from vigil.store.window_kinds import combine, decode, encode, kinds_of

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
ROWS = 3


def _batch(values: list[float], start: dt.datetime = T0, **extra: object) -> LogBatch:
    profile = vigil.profile({"x": values}, window=(start, start + HOUR))
    return LogBatch(profiles=[profile.to_bytes()], **extra)  # type: ignore[arg-type]


def _log(store: Store, batch: LogBatch, model: str = "m") -> bool:
    with store.session() as session:
        return not service.ingest_log(session, store.predictions, model, batch).duplicate


def _create(store: Store, **spec: object) -> None:
    with store.session() as session:
        service.create_model(session, ModelSpec(name="m", features=["x"], **spec))  # type: ignore[arg-type]


def _parts(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(ProfileWindowPart)) or 0)


def _snapshot(store: Store) -> list[tuple[int, DatasetProfile | None]]:
    """Each window's upload count and merged profile, read together."""
    with store.session() as session:
        try:
            windows = session.scalars(select(ProfileWindow).order_by(ProfileWindow.start)).all()
            found = load_stored(session, [w.id for w in windows])
            return [
                (found[w.id].n_uploads, decode_stored(found[w.id].stored(w), tally_of(session)))
                for w in windows
                if w.id in found
            ]
        finally:
            session.rollback()


def _threads(count: int, target: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(patience(120))
    return errors


def test_writers_readers_and_the_compactor_in_threads_lose_and_double_nothing(
    store: Store,
) -> None:
    _create(store)
    writers, uploads = 4, 12
    done = threading.Event()
    reads: list[tuple[int, int]] = []

    def write(i: int) -> None:
        for k in range(uploads):
            _log(store, _batch([float(i), float(k), 1.0]))

    def read() -> None:
        while not done.is_set():
            for n_uploads, profile in _snapshot(store):
                assert profile is not None
                reads.append((n_uploads, profile.n_rows))

    compactor = Compactor(store, interval_seconds=0.01, min_parts=3, settle_seconds=0)
    reader = threading.Thread(target=read)
    compactor.start()
    reader.start()
    try:
        errors = _threads(writers, write)
    finally:
        done.set()
        reader.join(patience(60))
        compactor.stop()
    assert errors == []
    # Every read saw, in one snapshot, exactly ROWS rows per upload counted.
    assert reads
    assert [(n, rows) for n, rows in reads if rows != n * ROWS] == []
    [(n_uploads, profile)] = _snapshot(store)
    assert profile is not None
    assert (n_uploads, profile.n_rows) == (writers * uploads, writers * uploads * ROWS)
    assert profile.columns["x"].count == writers * uploads * ROWS
    assert compactor.parts_folded > 0
    compact_round(store, min_parts=1, settle_seconds=0)
    assert _parts(store) == 0
    [(_, folded)] = _snapshot(store)
    assert folded is not None
    assert folded.n_rows == writers * uploads * ROWS


def test_a_retried_batch_counts_once_before_and_after_folding(store: Store) -> None:
    _create(store)
    first, second = _batch([1.0, 2.0]), _batch([3.0])
    assert _log(store, first)
    assert _log(store, second)
    assert not _log(store, second)  # the retry
    assert _parts(store) == 1
    compact_round(store, min_parts=1, settle_seconds=0)
    assert not _log(store, first)
    assert _parts(store) == 0
    with store.session() as session:
        [window] = service.list_windows(session, "m")
        assert (window.n_rows, window.n_uploads) == (3, 2)
        assert service.merged_profile(session, "m").n_rows == 3


def test_segments_get_windows_and_parts_of_their_own(store: Store) -> None:
    _create(store, segments=["city"])
    hour = (T0, T0 + HOUR)
    for city, values in [("a", [1.0]), ("b", [2.0, 3.0]), ("a", [4.0]), ("a", [5.0, 6.0])]:
        whole = vigil.profile({"x": values}, window=hour).to_bytes()
        segment = vigil.profile({"x": values}, window=hour).to_bytes()
        _log(store, LogBatch(profiles=[whole, segment], segments=["", f"city={city}"]))
    assert _parts(store) == 3 + 2  # the whole traffic's and city=a's later uploads
    with store.session() as session:
        assert service.merged_profile(session, "m").n_rows == 6
        assert service.merged_profile(session, "m", segment="city=a").n_rows == 4
        assert service.merged_profile(session, "m", segment="city=b").n_rows == 2
        model_id = service.model_id(session, "m")
        assert fold_parts(session, model_id) == 5
        session.commit()
        assert service.merged_profile(session, "m", segment="city=a").n_rows == 4
    assert _parts(store) == 0


def test_first_uploads_racing_for_a_new_window_create_it_once(store: Store) -> None:
    _create(store)
    racers = 6
    barrier = threading.Barrier(racers, timeout=patience(60))

    def first(i: int) -> None:
        batch = _batch([float(i)] * (i + 1))
        barrier.wait()
        _log(store, batch)

    assert _threads(racers, first) == []
    [(n_uploads, profile)] = _snapshot(store)
    assert profile is not None
    assert (n_uploads, profile.n_rows) == (racers, sum(range(1, racers + 1)))
    assert _parts(store) == racers - 1


def test_fold_parts_folds_the_windows_before_a_time_only(store: Store) -> None:
    _create(store)
    for hour in range(3):
        for _ in range(3):
            _log(store, _batch([1.0, 2.0], T0 + hour * HOUR))
    with store.session() as session:
        model_id = service.model_id(session, "m")
        assert len(windows_with_parts(session, model_id=model_id)) == 3
        assert fold_parts(session, model_id, before=T0 + 2 * HOUR) == 4
        session.commit()
        assert len(windows_with_parts(session, model_id=model_id)) == 1
        blobs = session.scalars(select(ProfileWindow.profile).order_by(ProfileWindow.start)).all()
        assert [DatasetProfile.from_bytes(b).n_rows for b in blobs[:2]] == [6, 6]
        assert service.merged_profile(session, "m").n_rows == 18


@pytest.mark.parametrize("stored", [True, False])
def test_a_column_of_another_kind_is_refused_whether_or_not_the_window_keeps_its_kinds(
    store: Store, stored: bool
) -> None:
    _create(store)
    _log(store, _batch([1.0]))
    _log(store, _batch([2.0]))
    with store.session() as session:
        [kept] = session.scalars(select(ProfileWindow.kinds)).all()
        assert decode(kept) == {"x": ("NumericColumn", None)}
        if not stored:  # as a window written before windows kept their kinds
            session.execute(update(ProfileWindow).values(kinds=None))
            session.commit()
    text = vigil.profile({"x": ["a"]}, window=(T0, T0 + HOUR)).to_bytes()
    with pytest.raises(SchemaConflictError, match="column 'x' of profile #0 is string"):
        _log(store, LogBatch(profiles=[text]))
    assert store.window_kinds.store_reads == (0 if stored else 1)
    with store.session() as session:
        [window] = service.list_windows(session, "m")
        assert (window.n_rows, window.n_uploads) == (2, 2)
    assert _parts(store) == 1


def test_a_window_keeps_the_kinds_its_uploads_add_and_computes_missing_ones_once(
    store: Store,
) -> None:
    with store.session() as session:
        service.create_model(session, ModelSpec(name="m", features=["x", "y"]))
    _log(store, _batch([1.0]))
    with store.session() as session:
        session.execute(update(ProfileWindow).values(kinds=None))
        session.commit()
    # The next upload reads the pieces once and stores the kinds with its own column added.
    _log(store, LogBatch(profiles=[vigil.profile({"y": ["a"]}, window=(T0, T0 + HOUR)).to_bytes()]))
    _log(store, _batch([3.0]))
    assert store.window_kinds.store_reads == 1
    with store.session() as session:
        [kept] = session.scalars(select(ProfileWindow.kinds)).all()
    assert decode(kept) == {"x": ("NumericColumn", None), "y": ("StringColumn", None)}
    # Another process (its own store object, nothing remembered) refuses a conflict from them.
    other = Store(store.engine, store.artifacts)
    text = vigil.profile({"y": [1.0]}, window=(T0, T0 + HOUR)).to_bytes()
    with pytest.raises(SchemaConflictError, match="column 'y' of profile #0 is numeric"):
        _log(other, LogBatch(profiles=[text]))
    assert other.window_kinds.store_reads == 0


def test_stored_kinds_round_trip_and_anything_else_reads_as_unknown() -> None:
    kinds = {"x": ("NumericColumn", None), "e": ("EmbeddingColumn", 3)}
    assert decode(encode(kinds)) == kinds
    for text in (None, "", "[]", '{"x": "NumericColumn"}', '{"x": ["E", 2.5]}', "{"):
        assert decode(text) is None


def test_window_kinds_agree_with_merging_columns() -> None:
    """The kinds check refuses exactly the pairs of columns that merging refuses."""
    samples = {
        "numeric": [1.0, 2.0],
        "string": ["a", "b"],
        "boolean": [True, False],
        "datetime": [T0, T0 + HOUR],
        "unknown": [None, None],
        "embedding2": [[1.0, 2.0], [3.0, 4.0]],
        "embedding3": [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]],
    }
    columns = {name: vigil.profile({"c": values}).columns["c"] for name, values in samples.items()}
    for a_name, a in columns.items():
        for b_name, b in columns.items():
            try:
                merge_columns("c", a, b)
                merges = True
            except SchemaConflictError:
                merges = False
            a_kinds = kinds_of(DatasetProfile({"c": a}, 2))
            b_kinds = kinds_of(DatasetProfile({"c": b}, 2))
            try:
                combine(a_kinds, b_kinds)
                accepted = True
            except SchemaConflictError:
                accepted = False
            assert accepted == merges, (a_name, b_name)


def test_without_a_compactor_every_few_uploads_fold_their_window(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "FOLD_EVERY", 4)
    _create(store)
    for k in range(10):
        _log(store, _batch([float(k)]))
        # The 4th and 8th uploads folded parts 1..3 and 4..7 after their commits.
        assert _parts(store) == ((k + 1) % 4 if k >= 3 else k)
    [(n_uploads, profile)] = _snapshot(store)
    assert profile is not None
    assert (n_uploads, profile.n_rows) == (10, 10)


def test_no_compactor_thread_on_an_in_memory_store(tmp_path: Path) -> None:
    """Its one connection is shared by every session: a second thread would mix transactions."""
    memory = Store.open("sqlite://", str(tmp_path / "artifacts"))
    try:
        compactor = Compactor(memory)
        compactor.start()
        assert "vigil-compactor" not in {t.name for t in threading.enumerate()}
        compactor.stop()
    finally:
        memory.close()
    on_file = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    try:
        compactor = Compactor(on_file)
        compactor.start()
        assert "vigil-compactor" in {t.name for t in threading.enumerate()}
        compactor.stop()
        assert "vigil-compactor" not in {t.name for t in threading.enumerate()}
    finally:
        on_file.close()


def test_the_reader_says_where_each_stored_window_ends(store: Store) -> None:
    _create(store)
    _log(store, _batch([1.0], T0 + HOUR))
    with store.session() as session:
        model_id = service.model_id(session, "m")
        [stored] = WindowReader(session).stored(model_id, None, T0, T0 + 2 * HOUR)
        session.rollback()
    assert (stored.start, stored.end) == (T0 + HOUR, T0 + 2 * HOUR)
