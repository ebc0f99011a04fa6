"""On SQLite the tick reads a model's windows in spans by seeking the window key's index once per
stored version (`reader._in_spans(..., seek=True)`: a recursive CTE finds the versions). It reads
what the plain statement reads, in the same order, for any stored versions, segments, spans and
rolled-up windows; and SQLite runs it as index ranges, not a read of every window of the model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import sqlite

from tests.monitor.conftest import HOUR, T0, client_for, create_model
from vigil.monitor.reader import StoredWindow, WindowReader, _in_spans
from vigil.store.core import Store
from vigil.store.models import MonitoredModel, ProfileWindow

HOURS = 20
VERSIONS = ["", "1", "10", "2", "v2", "é"]
SEGMENTS = ["", "city=a"]
ONCE = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Two models (m and n); their windows are written by each example."""
    folder: Path = tmp_path_factory.mktemp("seek")
    opened = Store.open(f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts"))
    client = client_for(opened, folder)
    create_model(client)
    client.create_model("n", features=["x"])
    client.close()
    try:
        yield opened
    finally:
        opened.close()


windows = st.lists(
    st.tuples(
        st.sampled_from(["m", "n"]),
        st.sampled_from(VERSIONS),
        st.sampled_from(SEGMENTS),
        st.integers(0, HOURS - 1),
        st.sampled_from([1, 1, 1, 24]),  # hours long: 24 is a day retention rolled up
    ),
    max_size=60,
    unique_by=lambda w: w[:4],
)
spans = st.lists(
    st.tuples(st.integers(-2, HOURS + 1), st.integers(0, 8)).map(
        lambda p: (T0 + p[0] * HOUR, T0 + (p[0] + p[1]) * HOUR)
    ),
    min_size=1,
    max_size=6,
)


def _write(store: Store, rows: list[tuple[str, str, str, int, int]]) -> dict[str, int]:
    with store.session() as session:
        ids = dict(session.execute(select(MonitoredModel.name, MonitoredModel.id)).all())
        session.execute(delete(ProfileWindow))
        if rows:
            session.execute(
                insert(ProfileWindow),
                [
                    {
                        "model_id": ids[model],
                        "version": version,
                        "segment": segment,
                        "start": T0 + hour * HOUR,
                        "end": T0 + (hour + length) * HOUR,
                        "n_rows": 1 + hour,
                        "n_uploads": 1,
                        "first_arrival": T0 + (hour + 1) * HOUR,
                        "last_arrival": T0 + (hour + 1) * HOUR,
                        "profile": b"",
                    }
                    for model, version, segment, hour, length in rows
                ],
            )
        session.commit()
    return ids


@ONCE
@given(rows=windows, spans=spans, segment=st.sampled_from(SEGMENTS))
def test_seeking_reads_what_the_plain_statement_reads(
    store: Store,
    rows: list[tuple[str, str, str, int, int]],
    spans: list[tuple[dt.datetime, dt.datetime]],
    segment: str,
) -> None:
    ids = _write(store, rows)
    params: dict[str, object] = {"model_id": ids["m"], "segment": segment, "version": None}
    for i, (first, end) in enumerate(spans):
        params[f"first{i}"], params[f"end{i}"] = first, end
    with store.session() as session:
        plain = [
            StoredWindow(*r) for r in session.execute(_in_spans(len(spans), False, False), params)
        ]
        sought = [
            StoredWindow(*r) for r in session.execute(_in_spans(len(spans), False, True), params)
        ]
        read = WindowReader(session)._query(ids["m"], None, spans, segment)
    assert sought == plain
    assert read == plain
    expected = sorted(
        (T0 + hour * HOUR, version)
        for model, version, seg, hour, _ in rows
        if model == "m" and seg == segment and any(f <= T0 + hour * HOUR < e for f, e in spans)
    )
    assert [(w.start, w.version) for w in plain] == expected  # the law is not vacuous


def test_sqlite_reads_each_span_as_an_index_range(store: Store) -> None:
    _write(store, [("m", v, "", h, 1) for v in VERSIONS[:3] for h in range(HOURS)])
    compiled = _in_spans(2, False, True).compile(dialect=sqlite.dialect())
    named = {"model_id": 1, "segment": "", "first0": T0, "end0": T0 + HOUR}
    named |= {"first1": T0 + 5 * HOUR, "end1": T0 + 7 * HOUR}
    values = tuple(str(named[key]) for key in compiled.positiontup or ())
    with store.engine.connect() as connection:
        explained = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
        plan = [r[3] for r in explained]
    ranges = [p for p in plan if "version=? AND segment=? AND start>? AND start<?" in p]
    assert len(ranges) == 2, plan
    assert not any("last_arrival" in p for p in plan), plan


def test_a_reader_seeks_on_sqlite_only(store: Store) -> None:
    with store.session() as session:
        assert WindowReader(session)._seek
    postgresql = _in_spans(2, False, False)
    assert "model_versions" not in str(postgresql)
