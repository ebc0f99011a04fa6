"""`vigil.store.hot_sql`: the ingestion statements run on SQLite's driver cursor store exactly
what Core stores (same values, same text of times), raise SQLAlchemy's errors, and go through
Core whenever someone listens to the engine's cursor events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, event, exc, text, update

from vigil.api.specs import ModelSpec
from vigil.ingestion import service
from vigil.store.core import Store
from vigil.store.hot_sql import Prepared
from vigil.store.models import ProfileWindow
from vigil.store.profile_windows import (
    _ADD_PART,
    _CLAIM_BATCH,
    _COUNT_UPLOAD,
    _NEW_WINDOW,
    BatchRepository,
    WindowRepository,
)

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def _dump(store: Store) -> list[tuple[object, ...]]:
    """Every ingestion row with SQLite's own type and text of each value."""
    rows: list[tuple[object, ...]] = []
    with store.engine.connect() as connection:
        for table in ("profile_windows", "profile_window_parts", "ingested_batches"):
            columns = [c[1] for c in connection.execute(text(f"PRAGMA table_info({table})")).all()]
            # The claim's time is the clock's: its type and the length of its text only.
            listed = ", ".join(
                f'typeof("{c}"), ' + (f'length("{c}")' if c == "received_at" else f'"{c}"')
                for c in columns
            )
            rows += [
                (table, *row)
                for row in connection.execute(text(f"SELECT {listed} FROM {table} ORDER BY 2"))
            ]
    return rows


def _writes(store: Store, uploads: list[tuple[int, int, str]]) -> list[tuple[int, int, str | None]]:
    """Claims and appends, one transaction per upload: (window offset in hours, rows, batch)."""
    answers = []
    for hours, n_rows, batch_id in uploads:
        start = T0 + dt.timedelta(hours=hours)
        arrival = T0 + dt.timedelta(minutes=hours * 7 + n_rows, microseconds=n_rows)
        with store.session() as session:
            if BatchRepository(session).claim(batch_id, 1, "log", n_rows):
                answers.append(
                    WindowRepository(session).append(
                        1,
                        "v1",
                        start,
                        start + dt.timedelta(hours=1),
                        n_rows,
                        b"p%d" % n_rows,
                        arrival,
                    )
                )
            session.commit()
    return answers


def _model(store: Store) -> None:
    with store.session() as session:
        service.create_model(session, ModelSpec(name="m", features=["x"]))


def _core_store(path: Path) -> Store:
    """A store whose engine has a cursor listener: every statement goes through Core."""
    store = Store.open(f"sqlite:///{path / 'core.db'}", str(path / "a-core"))
    event.listen(store.engine, "before_cursor_execute", lambda *args: None)
    return store


uploads = st.lists(
    st.tuples(st.integers(0, 3), st.integers(1, 500), st.sampled_from(["a", "b", "c", "d", "e"])),
    max_size=12,
)


@settings(max_examples=20, deadline=None)
@given(uploads=uploads)
def test_driver_cursor_writes_what_core_writes(
    tmp_path_factory: pytest.TempPathFactory, uploads: list[tuple[int, int, str]]
) -> None:
    path = tmp_path_factory.mktemp("hot")
    hot = Store.open(f"sqlite:///{path / 'hot.db'}", str(path / "a-hot"))
    core = _core_store(path)
    try:
        for store in (hot, core):
            _model(store)
        assert _writes(hot, uploads) == _writes(core, uploads)
        assert _dump(hot) == _dump(core)
        # Windows and batches as the ORM reads them back (times are UTC-aware again).
        with hot.session() as session:
            windows = WindowRepository(session).list(1, profiles=False)
            assert all(w.start.tzinfo is not None for w in windows)
            assert sum(w.n_uploads for w in windows) == len({b for _, _, b in uploads})
    finally:
        hot.close()
        core.close()


def test_literal_and_repeated_parameters_are_bound() -> None:
    from sqlalchemy.dialects import sqlite

    compiled = Prepared(_COUNT_UPLOAD).compiled(sqlite.dialect())
    arguments = compiled.arguments(
        {
            "k_model_id": 1,
            "k_version": "v",
            "k_segment": "",
            "k_start": T0,
            "added_rows": 5,
            "added_uploads": 3,
            "new_end": T0,
            "arrival": T0,
        }
    )
    assert len(arguments) == compiled.sql.count("?")
    assert arguments.count("2026-03-02 10:00:00.000000") == 2 + 4 + 1  # end x2, arrival x4, start
    table = cast(Table, ProfileWindow.__table__)
    windows = table.c
    literal = update(table).values(n_uploads=windows.n_uploads + 7)
    compiled = Prepared(literal.where(windows.id == 1)).compiled(sqlite.dialect())
    assert compiled.arguments({}) == [7, 1]  # the literals, bound as parameters


def test_driver_errors_are_sqlalchemy_errors(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    try:
        with store.session() as session:
            part = {"window_id": 999, "n_rows": 1, "profile": b"x", "created_at": T0}
            with pytest.raises(exc.IntegrityError):  # no such window: a foreign key refuses it
                Prepared(_ADD_PART).run(session.connection(), part)
    finally:
        store.close()


def test_listeners_see_every_statement(tmp_path: Path) -> None:
    store = _core_store(tmp_path)
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda c, cur, sql, *a: seen.append(sql))
    try:
        _model(store)
        seen.clear()
        _writes(store, [(0, 3, "a"), (0, 4, "b"), (0, 4, "b")])
        statements = [s.split()[0] + " " + s.split()[2] for s in seen if not s.startswith("BEGIN")]
        assert statements == [
            "INSERT ingested_batches",
            "UPDATE SET",  # no window yet
            "INSERT profile_windows",
            "INSERT ingested_batches",
            "UPDATE SET",
            "INSERT profile_window_parts",
            "INSERT ingested_batches",  # a retry: claimed before, nothing else
        ]
    finally:
        store.close()


def test_statements_compile_for_sqlite_only_where_positional() -> None:
    from sqlalchemy.dialects import postgresql

    with pytest.raises(TypeError, match="positional"):
        Prepared(_CLAIM_BATCH["postgresql"]).compiled(postgresql.dialect())  # type: ignore[no-untyped-call]
    assert Prepared(_NEW_WINDOW["sqlite"]).statement is not None
