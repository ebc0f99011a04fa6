"""The tick's statements built once (`reader._in_spans`, `alerts._active_statement`,
`evaluate._evaluated_statement`) read what the statements they replaced read, built anew with
the values in them: the same stored windows in the same order for any spans, version and
segment; the same active alert for any alerts; the same stored results for any range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.monitor import Monitor, alerts
from vigil.monitor.evaluate import _evaluated_statement
from vigil.monitor.reader import StoredWindow, WindowReader
from vigil.monitor.results import SEEN_UPLOADS
from vigil.store.core import Store
from vigil.store.models import MonitoredModel, ProfileWindow
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow

HOURS = 30
TIMES = [T0 + h * HOUR for h in range(-2, HOURS + 2)]
ONCE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Model m with hours 0 to 29 logged, two monitors on it."""
    folder: Path = tmp_path_factory.mktemp("prebuilt")
    opened = Store.open(f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts"))
    client = client_for(opened, folder)
    create_model(client)
    log_hours(client, range(HOURS), rows=5)
    log_hours(client, range(3, 9), rows=5, seed=1)  # windows of two uploads
    for name in ("a", "b"):
        monitors.save_monitor(
            opened,
            Monitor.model_validate({"name": name, "kind": "volume", "target": {"model": "m"}}),
        )
    client.close()
    try:
        yield opened
    finally:
        opened.close()


def _old_query(
    session: Session,
    model_id: int,
    version: str | None,
    spans: list[tuple[dt.datetime, dt.datetime]],
    segment: str,
) -> list[StoredWindow]:
    """`WindowReader._query` as it was: the statement built with the values in it."""
    within = or_(
        *(and_(ProfileWindow.start >= first, ProfileWindow.start < end) for first, end in spans)
    )
    query = select(
        ProfileWindow.id,
        ProfileWindow.model_id,
        ProfileWindow.segment,
        ProfileWindow.start,
        ProfileWindow.version,
        ProfileWindow.n_rows,
        ProfileWindow.n_uploads,
        ProfileWindow.last_arrival,
        ProfileWindow.end,
    ).where(ProfileWindow.model_id == model_id, ProfileWindow.segment == segment, within)
    if version is not None:
        query = query.where(ProfileWindow.version == version)
    query = query.order_by(ProfileWindow.start, ProfileWindow.version)
    return [StoredWindow(*row) for row in session.execute(query)]


spans = st.lists(
    st.tuples(st.sampled_from(TIMES), st.integers(0, 8)).map(lambda p: (p[0], p[0] + p[1] * HOUR)),
    min_size=1,
    max_size=6,
)


@ONCE
@given(
    spans=spans,
    version=st.sampled_from([None, "", "v1", "other"]),
    segment=st.sampled_from(["", "s"]),
)
def test_window_metadata_as_before(
    store: Store, spans: list[tuple[dt.datetime, dt.datetime]], version: str | None, segment: str
) -> None:
    with store.session() as session:
        model_id = session.scalar(select(MonitoredModel.id).where(MonitoredModel.name == "m"))
        assert model_id is not None
        new = WindowReader(session)._query(model_id, version, spans, segment)
        assert new == _old_query(session, model_id, version, spans, segment)
        if version is None and segment == "":  # the law is not vacuous
            covered = {t for first, end in spans for t in TIMES if first <= t < end}
            assert len(new) >= len(covered & {T0 + h * HOUR for h in range(HOURS)})


def _old_active(session: Session, monitor_id: int, target: str) -> AlertRow | None:
    """`alerts.active_alert` as it was."""
    return session.scalars(
        select(AlertRow)
        .where(
            AlertRow.monitor_id == monitor_id,
            AlertRow.target == target,
            AlertRow.state.in_(alerts.ACTIVE),
        )
        .order_by(AlertRow.id.desc())
        .limit(1)
    ).first()


alert_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from(["m", "m@v1", "other"]),
        st.sampled_from(["open", "acknowledged", "resolved"]),
    ),
    max_size=12,
)


@ONCE
@given(rows=alert_rows)
def test_the_active_alert_as_before(store: Store, rows: list[tuple[str, str, str]]) -> None:
    with store.session() as session:
        ids = {name: id_ for name, id_ in session.execute(select(MonitorRow.name, MonitorRow.id))}
        for name, target, state in rows:
            session.add(_alert(ids[name], name, target, state))
        session.flush()
        for monitor_id in ids.values():
            for target in ("m", "m@v1", "other", "none"):
                found = alerts.active_alert(session, monitor_id, target)
                assert found is _old_active(session, monitor_id, target)
                wanted = [
                    i
                    for i, (name, t, state) in enumerate(rows)
                    if ids[name] == monitor_id and t == target and state != "resolved"
                ]
                assert (found is None) == (not wanted)
        session.rollback()


def _alert(monitor_id: int, name: str, target: str, state: str) -> AlertRow:
    return AlertRow(
        monitor_id=monitor_id,
        monitor_name=name,
        target=target,
        kind="volume",
        severity="warning",
        state=state,
        message="",
        first_window_start=T0,
        last_window_start=T0,
        details={},
        opened_at=T0,
        updated_at=T0,
    )


results = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 12), st.none() | st.integers(1, 3)),
    max_size=16,
    unique_by=lambda r: (r[0], r[1]),
)


@ONCE
@given(
    rows=results,
    wanted=st.sets(st.sampled_from(["a", "b"]), min_size=1),
    since=st.integers(-1, 13),
    hours=st.integers(0, 14),
)
def test_stored_results_as_before(
    store: Store, rows: list[tuple[str, int, int | None]], wanted: set[str], since: int, hours: int
) -> None:
    """The late-data check's read of stored results: the same rows as the statement built with
    its values (results stored with and without an upload count)."""
    with store.session() as session:
        ids = {name: id_ for name, id_ in session.execute(select(MonitorRow.name, MonitorRow.id))}
        session.execute(delete(MonitorResultRow))
        if rows:
            session.execute(insert(MonitorResultRow), [_result(ids[n], h, u) for n, h, u in rows])
        monitor_ids = [ids[n] for n in sorted(wanted)]
        first, until = T0 + since * HOUR, T0 + (since + hours) * HOUR
        new = session.execute(
            _evaluated_statement(), {"monitors": monitor_ids, "since": first, "until": until}
        ).all()
        old = session.execute(
            select(
                MonitorResultRow.monitor_id,
                MonitorResultRow.window_start,
                MonitorResultRow.evaluated_at,
                MonitorResultRow.details[SEEN_UPLOADS].as_integer(),
            ).where(
                MonitorResultRow.monitor_id.in_(monitor_ids),
                MonitorResultRow.window_start >= first,
                MonitorResultRow.window_start < until,
            )
        ).all()
        assert sorted(new) == sorted(old)
        expected = [
            (ids[n], T0 + h * HOUR)
            for n, h, _ in rows
            if n in wanted and first <= T0 + h * HOUR < until
        ]
        assert sorted((m, s) for m, s, _, _ in new) == sorted(expected)
        session.rollback()


def _result(monitor_id: int, hour: int, uploads: int | None) -> dict[str, Any]:
    start = T0 + hour * HOUR
    details: dict[str, Any] = {} if uploads is None else {SEEN_UPLOADS: uploads}
    return {
        "monitor_id": monitor_id,
        "window_start": start,
        "window_end": start + HOUR,
        "value": 1.0,
        "lower": None,
        "upper": None,
        "breached": False,
        "message": "",
        "details": details,
        "evaluated_at": start + HOUR,
    }
