"""`vigil.ingestion.group_write`: a group of profile-only uploads to existing windows is written in
a few statements (one claim of the ids, one count per window, one insert of the parts), and gives
the answers and leaves the windows exactly as the same batches written one by one would. A group
it cannot write that way (a new window, a column conflicting with its window's) is left to the
savepoint-per-batch path, which answers each batch on its own. On both backends."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

import vigil
from tests.store.conftest import _clear
from tests.store.helpers import SPEC, T0, frame
from vigil.api.wire import LogBatch
from vigil.errors import SchemaConflictError
from vigil.ingestion import service
from vigil.ingestion.group_commit import GroupCommit, Queued
from vigil.store.core import Store
from vigil.store.models import ProfileWindow, ProfileWindowPart
from vigil.store.window_kinds import decode

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def store(store: Store) -> Store:
    """The store on each backend (tests/store/conftest.py), with the churn model."""
    with store.session() as session:
        service.create_model(session, SPEC)
    return store


def _profiles(seed: int, hour: int, columns: tuple[str, ...]) -> bytes:
    table = frame(3 + seed % 4, seed, T0 + hour * HOUR).select(list(columns))
    profile = vigil.profile(table).with_window(T0 + hour * HOUR, T0 + (hour + 1) * HOUR)
    return profile.to_bytes()


FULL = ("age", "city", "label", "proba")


def _batch(seed: int, *hours: int, columns: tuple[str, ...] = FULL) -> LogBatch:
    """A profile-only batch: one profile per hour in `hours` (after T0)."""
    return LogBatch(version="v1", profiles=[_profiles(seed, h, columns) for h in hours])


def _text_age(seed: int, hour: int = 0) -> LogBatch:
    """`age` as text: it conflicts with a window that holds numbers (409)."""
    start = T0 + hour * HOUR
    profile = vigil.profile({"age": [f"old{seed}", "young"]}, window=(start, start + HOUR))
    return LogBatch(version="v1", profiles=[profile.to_bytes()])


Outcome = tuple[Any, ...]


def _write(store: Store, writer: GroupCommit, batches: list[LogBatch]) -> list[Outcome]:
    """`batches` written as one group (checked first, as the server does), each one's outcome:
    ("new" | "duplicate", rows, windows to fold by start) or the error's type."""
    queued = []
    with store.session() as session:
        for batch in batches:
            checked = service.check_log(session, "churn", batch, models=store.models)
            queued.append(Queued(checked, contextvars.copy_context()))
    with store.session() as session, writer._turn:
        writer._write(session, queued)
        starts = {w.id: w.start for w in session.scalars(select(ProfileWindow))}
    outcomes: list[Outcome] = []
    for one in queued:
        if one.error is not None:
            outcomes.append((type(one.error).__name__,))
        else:
            assert one.result is not None
            new = "duplicate" if one.result.duplicate else "new"
            folds = tuple(starts[window_id] for window_id in one.to_fold)
            outcomes.append((new, one.result.n_rows, folds))
    return outcomes


def _state(store: Store) -> tuple[dict[Any, Any], Counter[Any]]:
    """Every window's counters and kinds by (start, segment), and the multiset of its parts (a
    window's first upload is its profile, the later ones its parts)."""
    with store.session() as session:
        windows = {
            (w.start, w.segment): (w.n_rows, w.n_uploads, w.end, decode(w.kinds))
            for w in session.scalars(select(ProfileWindow))
        }
        parts = Counter(
            session.execute(
                select(
                    ProfileWindow.start, ProfileWindowPart.n_rows, ProfileWindowPart.profile
                ).join(ProfileWindow, ProfileWindow.id == ProfileWindowPart.window_id)
            ).all()
        )
    return windows, parts


@contextlib.contextmanager
def _statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements run on the store's engine meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_a_group_to_existing_windows_is_written_in_three_statements(store: Store) -> None:
    writer = GroupCommit(store)
    created = _write(store, writer, [_batch(1, 0)])  # the window's first upload
    again = _batch(2, 0)
    batches = [again, _batch(3, 0), _batch(4, 0), again, _batch(5, 0)]
    with _statements(store) as seen:
        outcomes = _write(store, writer, batches)
    assert [o[0] for o in outcomes] == ["new", "new", "new", "duplicate", "new"]
    assert writer.stats.few_statements == 1
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 3, writes
    assert not any("SAVEPOINT" in s.upper() for s in seen)
    windows, parts = _state(store)
    n_rows = created[0][1] + sum(o[1] for o in outcomes if o[0] == "new")
    assert windows[(T0, "")][:2] == (n_rows, 5)
    assert sum(parts.values()) == 4


def test_a_conflicting_column_is_refused_alone_by_the_savepoints(store: Store) -> None:
    writer = GroupCommit(store)
    _write(store, writer, [_batch(1, 0)])
    outcomes = _write(store, writer, [_batch(2, 0), _text_age(3), _batch(4, 0)])
    assert outcomes[1] == (SchemaConflictError.__name__,)
    assert [o[0] for o in outcomes[::2]] == ["new", "new"]
    assert writer.stats.few_statements == 0
    assert _state(store)[0][(T0, "")][1] == 3


def test_a_group_adding_columns_stores_them(store: Store) -> None:
    writer = GroupCommit(store)
    _write(store, writer, [_batch(1, 0, columns=("age",))])
    _write(store, writer, [_batch(2, 0, columns=("age",)), _batch(3, 0)])
    assert writer.stats.few_statements == 1
    kinds = _state(store)[0][(T0, "")][3]
    assert kinds is not None
    assert sorted(kinds) == sorted(FULL)
    # What they added is what a later upload is checked against.
    assert _write(store, writer, [_batch(4, 0), _text_age(5)])[1] == ("SchemaConflictError",)


# A batch: a full profile for one hour, a profile of `age` alone, `age` as text, two hours at
# once, or one sent before (in this group or an earlier one).
_kinds = st.one_of(
    st.tuples(st.just("full"), st.integers(0, 2)),
    st.tuples(st.just("age"), st.integers(0, 2)),
    st.tuples(st.just("text"), st.integers(0, 2)),
    st.tuples(st.just("two"), st.integers(0, 1)),
    st.tuples(st.just("again"), st.integers(0, 50)),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    groups=st.lists(st.lists(_kinds, min_size=1, max_size=6), min_size=1, max_size=3),
    fold_every=st.integers(2, 4),
)
def test_groups_answer_and_store_as_one_by_one(
    store: Store,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    groups: list[list[tuple[str, int]]],
    fold_every: int,
) -> None:
    """Random groups, written as groups on the backend and one by one (in the group's order) on
    a SQLite store of their own: the same answer for each batch (new, duplicate, refused; the
    windows it folds) and the same windows (counters, kinds, parts)."""
    if store.engine.dialect.name == "postgresql":
        _clear(store)
    else:  # a new file for each example
        store = Store.open(
            f"sqlite:///{tmp_path_factory.mktemp('grouped') / 'v.db'}",
            str(tmp_path_factory.mktemp("artifacts")),
        )
    with store.session() as session:
        service.create_model(session, SPEC)
    one_by_one = Store.open(
        f"sqlite:///{tmp_path_factory.mktemp('alone') / 'v.db'}",
        str(tmp_path_factory.mktemp("artifacts")),
    )
    monkeypatch.setattr(service, "FOLD_EVERY", fold_every)
    try:
        with one_by_one.session() as session:
            service.create_model(session, SPEC)
        grouped, alone = GroupCommit(store), GroupCommit(one_by_one)
        first = _batch(0, 0)
        assert _write(store, grouped, [first]) == _write(one_by_one, alone, [first])
        sent = [first]
        seed = 1
        for kinds in groups:
            batches: list[LogBatch] = []
            for kind, n in kinds:
                seed += 1
                if kind == "again":
                    batch = (sent + batches)[n % len(sent + batches)]
                elif kind == "full":
                    batch = _batch(seed, n)
                elif kind == "age":
                    batch = _batch(seed, n, columns=("age",))
                elif kind == "text":
                    batch = _text_age(seed, n)
                else:
                    batch = _batch(seed, n, n + 1)
                batches.append(batch)
            together = _write(store, grouped, batches)
            ordered = sorted(range(len(batches)), key=lambda i: _first(batches[i]))
            each = [()] * len(batches)
            for i in ordered:
                each[i] = _write(one_by_one, alone, [batches[i]])[0]
            assert together == each
            sent += batches
        assert _state(store) == _state(one_by_one)
        assert alone.stats.few_statements == 0
    finally:
        one_by_one.close()
        if store.engine.dialect.name == "sqlite":
            store.close()


def _first(batch: LogBatch) -> dt.datetime:
    """The first window of a batch (the order `GroupCommit` writes a group in)."""
    return min(
        p.window.start for p in map(vigil.DatasetProfile.from_bytes, batch.profiles) if p.window
    )
