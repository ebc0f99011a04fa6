"""Log calls append parts, compactions fold them, readers merge them: over random interleavings of
the three (and of two compactors whose read, merge and apply steps interleave with everything
else), every read sees exactly what the writers sent that was committed before it, nothing lost
and nothing counted twice, on SQLite and PostgreSQL.

One thread runs the program, so each interleaving is reproducible; the steps of a compaction run
in their own transactions as the compactor runs them. On PostgreSQL a reader's transaction also
stays open across other steps (READ COMMITTED: a window's blob and parts must be read by one
statement). tests/store/test_parts.py runs writers, readers and the compactor in real threads.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import vigil
from tests.store.conftest import _clear
from vigil.api.specs import ModelSpec
from vigil.api.wire import LogBatch
from vigil.ingestion import service
from vigil.ingestion.compactor import compact_round
from vigil.monitor.reader import WindowReader
from vigil.profile import DatasetProfile, NumericColumn
from vigil.store.core import Store
from vigil.store.models import ProfileWindow, ProfileWindowPart
from vigil.store.stored_profiles import tally_of
from vigil.store.window_folds import Fold, apply_fold, merge_parts, read_parts

T0 = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
WINDOWS = 1
NAMES = (f"m{i}" for i in itertools.count())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One store per backend for every example (each example logs to a model of its own)."""
    folder: Path = tmp_path_factory.mktemp("parts")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'vigil.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = Store.open(url, str(folder / "artifacts"))
    if opened.engine.dialect.name == "postgresql":
        _clear(opened)
    try:
        yield opened
    finally:
        opened.close()


@dataclass
class Window:
    rows: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None


@dataclass
class World:
    store: Store
    model: str
    sent: dict[int, Window] = field(default_factory=lambda: {w: Window() for w in range(WINDOWS)})
    batches: list[tuple[LogBatch, int, list[int]]] = field(default_factory=list)
    folds: dict[int, Fold | None] = field(default_factory=dict)
    readers: dict[int, tuple[Session, WindowReader, Any]] = field(default_factory=dict)

    def write(self, window: int, values: list[int], replay: int | None) -> None:
        if replay is not None and self.batches:
            batch, window, values = self.batches[replay % len(self.batches)]
        else:
            start = T0 + window * HOUR
            profile = vigil.profile({"x": [float(v) for v in values]}, window=(start, start + HOUR))
            batch = LogBatch(profiles=[profile.to_bytes()])
        with self.store.session() as session:
            result = service.ingest_log(session, self.store.predictions, self.model, batch)
        if not result.duplicate:  # a replayed batch id counts once
            self.batches.append((batch, window, values))
            sent = self.sent[window]
            sent.rows += len(values)
            sent.total += sum(values)
            sent.low = min([*values, *([sent.low] if sent.low is not None else [])])
            sent.high = max([*values, *([sent.high] if sent.high is not None else [])])

    def check(self, window: int, profile: DatasetProfile | None) -> None:
        sent = self.sent[window]
        if sent.rows == 0:
            assert profile is None or profile.n_rows == 0
            return
        assert profile is not None
        assert profile.n_rows == sent.rows, f"window {window}: {profile.n_rows} != {sent.rows}"
        column = profile.columns["x"]
        assert isinstance(column, NumericColumn)
        assert column.count == sent.rows
        assert column.moments.mean == pytest.approx(sent.total / sent.rows)
        assert (column.min, column.max) == (sent.low, sent.high)

    def read_all(self, how: str) -> None:
        with self.store.session() as session:
            try:
                if how == "merged":
                    for w in range(WINDOWS):
                        start = T0 + w * HOUR
                        merged = service.merged_profile(
                            session, self.model, start=start, end=start + HOUR
                        )
                        self.check(w, merged if merged.n_rows else None)
                else:
                    model_id = service.model_id(session, self.model)
                    reader = WindowReader(session)
                    stored = reader.stored(model_id, None, T0, T0 + WINDOWS * HOUR)
                    by_start = {s.start: s for s in stored}
                    for w in range(WINDOWS):
                        found = by_start.get(T0 + w * HOUR)
                        self.check(w, reader.profile(found) if found else None)
            finally:
                session.rollback()

    def fold_read(self, slot: int, window: int) -> None:
        """A compactor's first step: read the window's blob and parts, merge them."""
        with self.store.session() as session:
            try:
                window_id = self._window_id(session, window)
                pending = read_parts(session, window_id) if window_id is not None else None
            finally:
                session.rollback()
            self.folds[slot] = merge_parts(pending, tally_of(session)) if pending else None

    def fold_apply(self, slot: int) -> None:
        """Its second step, in a transaction of its own (a no-op if the window changed)."""
        fold = self.folds.pop(slot, None)
        if fold is None:
            return
        with self.store.session() as session:
            apply_fold(session, fold)
            session.commit()

    def begin_read(self, slot: int) -> None:
        """A reader whose transaction stays open (PostgreSQL only): metadata now, blobs later.
        A reader already in `slot` is ended first (else its session, left open in its
        transaction, would hold its locks after the test)."""
        self.end_read(slot)
        session = self.store.new_session()
        model_id = service.model_id(session, self.model)
        reader = WindowReader(session)
        self.readers[slot] = (
            session,
            reader,
            reader.stored(model_id, None, T0, T0 + WINDOWS * HOUR),
        )

    def end_read(self, slot: int) -> None:
        if slot not in self.readers:
            return
        session, reader, stored = self.readers.pop(slot)
        try:
            # What was committed until now counts: the blobs are read by this step.
            for window in stored:
                index = int((window.start - T0) / HOUR)
                self.check(index, reader.profile(window))
        finally:
            session.rollback()
            session.close()

    def _window_id(self, session: Session, window: int) -> int | None:
        model_id = service.model_id(session, self.model)
        reader = WindowReader(session)
        stored = reader.stored(model_id, None, T0 + window * HOUR, T0 + (window + 1) * HOUR)
        return stored[0].id if stored else None


values = st.lists(st.integers(-50, 50), min_size=1, max_size=6)
write = st.tuples(st.just("write"), st.integers(0, WINDOWS - 1), values, st.none())
replay = st.tuples(st.just("write"), st.integers(0, WINDOWS - 1), values, st.integers(0, 50))
fold_read = st.tuples(st.just("fold_read"), st.integers(0, 1), st.integers(0, WINDOWS - 1))
fold_apply = st.tuples(st.just("fold_apply"), st.integers(0, 1))
# Weighted (one_of picks a branch uniformly): races need writes and fold steps between others.
steps = st.one_of(
    write,
    write,
    write,
    replay,
    fold_read,
    fold_read,
    fold_apply,
    fold_apply,
    st.tuples(st.just("compact"), st.integers(1, 3)),
    st.tuples(st.just("read"), st.sampled_from(["merged", "reader"])),
    st.tuples(st.just("begin_read"), st.integers(0, 1)),
    st.tuples(st.just("end_read"), st.integers(0, 1)),
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(steps, min_size=10, max_size=40))
# The races that matter, always run: a fold read before another fold and a new upload, applied
# after them (must change nothing); two folds of the same parts (the second must change nothing);
# a reader whose transaction spans a fold.
@example(
    program=[
        ("write", 0, [1], None),
        ("write", 0, [2], None),
        ("fold_read", 0, 0),
        ("write", 0, [3], None),
        ("compact", 1),
        ("fold_apply", 0),
        ("read", "merged"),
    ]
)
@example(
    program=[
        ("write", 0, [1], None),
        ("write", 0, [2, 5], None),
        ("fold_read", 0, 0),
        ("fold_read", 1, 0),
        ("fold_apply", 1),
        ("write", 0, [4], None),
        ("fold_apply", 0),
        ("read", "reader"),
    ]
)
@example(
    program=[
        ("write", 0, [1], None),
        ("write", 0, [2], None),
        ("begin_read", 0),
        ("compact", 1),
        ("end_read", 0),
    ]
)
def test_reads_see_every_committed_upload_once_whatever_the_interleaving(
    shared_store: Store, program: list[tuple[Any, ...]]
) -> None:
    store = shared_store
    postgres = store.engine.dialect.name == "postgresql"
    world = World(store, next(NAMES))
    with store.session() as session:
        service.create_model(session, ModelSpec(name=world.model, features=["x"]))
    try:
        for step in program:
            name, args = step[0], step[1:]
            if name in ("begin_read", "end_read") and not postgres:
                continue  # on SQLite an open transaction holds the write lock: nothing interleaves
            if name == "compact":
                compact_round(store, min_parts=args[0], settle_seconds=3600)
            elif name == "read":
                world.read_all(args[0])
            else:
                getattr(world, name)(*args)
        for slot in list(world.readers):
            world.end_read(slot)
        world.read_all("merged")
        # Everything folds in the end, and then the window blobs alone hold everything.
        compact_round(store, min_parts=1, settle_seconds=0)
        with store.session() as session:
            model_id = service.model_id(session, world.model)
            left = session.scalar(
                select(func.count())
                .select_from(ProfileWindowPart)
                .where(ProfileWindowPart.window_id.in_(_window_ids(session, model_id)))
            )
            assert left == 0
        world.read_all("reader")
    finally:
        for session, _, _ in world.readers.values():
            session.close()


def _window_ids(session: Session, model_id: int) -> list[int]:
    return list(session.scalars(select(ProfileWindow.id).where(ProfileWindow.model_id == model_id)))
