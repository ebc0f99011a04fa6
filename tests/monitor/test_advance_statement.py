"""The statement moving a monitor's `evaluated_until` (`recording._advance_statement`, built once)
does what the statement it replaced did, built anew with the values in it: moves it forward to
`closed`, never back, sets it when unset, and touches no other monitor; on both backends."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import or_, select, update

from tests.monitor.conftest import HOUR, T0
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.monitor.recording import _advance_statement
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorRow

ONCE = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
times = st.none() | st.integers(-3, 3).map(lambda h: T0 + h * HOUR)


def _old(monitor_id: int, closed: dt.datetime) -> object:
    return (
        update(MonitorRow)
        .where(
            MonitorRow.id == monitor_id,
            or_(MonitorRow.evaluated_until.is_(None), MonitorRow.evaluated_until < closed),
        )
        .values(evaluated_until=closed)
        .execution_options(synchronize_session=False)
    )


@ONCE
@given(
    current=st.tuples(times, times),
    closed=st.integers(-3, 3).map(lambda h: T0 + h * HOUR),
)
def test_the_prebuilt_statement_moves_the_cursor_as_the_old_one(
    store: Store, current: tuple[dt.datetime | None, dt.datetime | None], closed: dt.datetime
) -> None:
    with store.session() as session:
        made = session.scalars(select(MonitorRow.id)).first() is not None
    if not made:
        for name in ("a", "b"):
            definition = {"name": name, "kind": "volume", "target": {"model": "m"}}
            monitors.save_monitor(store, Monitor.model_validate(definition))
    found = []
    for new in (True, False):
        with store.session() as session:
            ids = session.scalars(select(MonitorRow.id).order_by(MonitorRow.name)).all()
            for row_id, until in zip(ids, current, strict=True):
                session.execute(
                    update(MonitorRow).where(MonitorRow.id == row_id).values(evaluated_until=until)
                )
            if new:
                session.execute(_advance_statement(), {"monitor_id": ids[0], "closed": closed})
            else:
                session.execute(_old(ids[0], closed))  # type: ignore[call-overload]
            session.commit()
            found.append(
                session.scalars(select(MonitorRow.evaluated_until).order_by(MonitorRow.name)).all()
            )
    assert found[0] == found[1]
    first, other = current
    assert found[0] == [closed if first is None else max(first, closed), other]
