"""Retention's deletions: raw row days, resolved alerts with their history, the model's events
with their deliveries; open alerts and pending deliveries are never deleted."""

from __future__ import annotations

import datetime as dt
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.retention.helpers import (
    HOUR,
    SPEC,
    START,
    add_alert,
    add_monitor,
    batch,
    hour_table,
    log_hours,
)
from vigil.api.retention import RetentionIn
from vigil.ingestion import retention, rollup, service
from vigil.profile import DatasetProfile
from vigil.store.collab_tables import EventDeliveryRow, EventRow
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertEventRow, AlertRow

DAY = dt.timedelta(days=1)


def _policy(store: Store, **days: int) -> None:
    with store.session() as session:
        retention.set_policy(session, SPEC.name, RetentionIn(**days))


def test_row_days_older_than_the_policy_are_deleted_whole(store: Store) -> None:
    log_hours(store, 72, rows=10)
    model_id = 1
    assert store.predictions.read(model_id).num_rows == 720
    _policy(store, rows_days=3)
    [outcome] = retention.apply(store, now=START + 4 * DAY + 12 * HOUR)
    # Now - 3 days is Oct 31 12:00: Oct 30 is deleted, Oct 31 (not over by then) kept whole.
    assert [(kind, day.isoformat(), files) for kind, day, files in outcome.row_days] == [
        ("predictions", "2026-10-30", 24),
    ]
    rows = store.predictions.read(model_id)
    assert rows.num_rows == 480
    assert min(rows["vigil_timestamp"].to_pylist()) >= START + DAY
    # Windows are not rows: the profiles stay.
    again = retention.apply(store, now=START + 4 * DAY + 12 * HOUR)
    assert again[0].row_days == []


def test_resolved_alerts_go_with_their_history_and_open_ones_stay(store: Store) -> None:
    log_hours(store, 1, rows=5)
    mine, other = add_monitor(store, "mine", SPEC.name), add_monitor(store, "other", "another")
    closed = ("opened", "resolved")
    old = add_alert(store, mine, "resolved", START + DAY, events=closed)
    recent = add_alert(store, mine, "resolved", START + 20 * DAY, events=closed)
    still_open = add_alert(store, mine, "open", None)
    not_mine = add_alert(store, other, "resolved", START + DAY, events=closed)
    _policy(store, alerts_days=10)
    [outcome] = retention.apply(store, now=START + 25 * DAY)
    assert outcome.alerts == 1
    with store.session() as session:
        assert {a.id for a in session.query(AlertRow)} == {recent, still_open, not_mine}
        assert {e.alert_id for e in session.query(AlertEventRow)} == {recent, still_open, not_mine}
    assert old not in (recent, still_open, not_mine)


def _event(store: Store, subject: str, at: dt.datetime, delivery: str | None) -> int:
    with store.session() as session:
        event = EventRow(type="alert.opened", subject=subject, actor="a", at=at, data={})
        session.add(event)
        session.flush()
        if delivery is not None:
            session.add(
                EventDeliveryRow(
                    event_id=event.id,
                    channel="ops",
                    state=delivery,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
        session.commit()
        return event.id


def test_old_events_go_with_their_deliveries_unless_one_is_pending(store: Store) -> None:
    log_hours(store, 1, rows=5)
    add_monitor(store, "mine", SPEC.name)
    old = START
    doomed = {
        _event(store, SPEC.name, old, "sent"),
        _event(store, f"{SPEC.name}@production", old, None),
        _event(store, f"{SPEC.name}[country=FR]", old, "failed"),
        _event(store, "mine", old, None),
    }
    kept = {
        _event(store, SPEC.name, old, "pending"),
        _event(store, SPEC.name, START + 20 * DAY, "sent"),
        _event(store, f"{SPEC.name}x", old, None),  # another model whose name starts alike
        _event(store, "another", old, None),
    }
    _policy(store, events_days=10)
    [planned] = retention.apply(store, now=START + 25 * DAY, dry_run=True)
    assert planned.events == 4
    [outcome] = retention.apply(store, now=START + 25 * DAY)
    assert outcome.events == 4
    with store.session() as session:
        assert {e.id for e in session.query(EventRow)} == kept
        deliveries = {d.event_id: d.state for d in session.query(EventDeliveryRow)}
    assert sorted(deliveries.values()) == ["pending", "sent"]
    assert set(deliveries) <= kept
    assert not doomed & kept


def test_a_model_without_a_policy_keeps_everything(store: Store) -> None:
    log_hours(store, 30, rows=5)
    [outcome] = retention.apply(store, models=[SPEC.name], now=START + 400 * DAY)
    assert not outcome.changed
    assert retention.apply(store, now=START + 400 * DAY) == []


@settings(max_examples=8, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 47), st.integers(1, 20)), min_size=1, max_size=6),
    st.data(),
)
def test_rolling_up_then_merging_is_merging(
    hours: list[tuple[int, int]], data: st.DataObject
) -> None:
    """Counts exact for any set of hours, uploads and rows, rolled up into days or straight into
    a month: the rolled rows merge into what the fine rows merged into."""
    period = data.draw(st.sampled_from(["day", "month"]))
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/v.db", f"{folder}/artifacts")
        try:
            with store.session() as session:
                service.create_model(session, SPEC)
            for i, (hour, n) in enumerate(hours):
                at = START + hour * HOUR
                with store.session() as session:
                    service.ingest_log(
                        session, store.predictions, SPEC.name, batch(hour_table(at, n, i), at)
                    )
            with store.session() as session:
                direct = service.merged_profile(session, SPEC.name)
                for item in rollup.plan(session, 1, "UTC", period, START + 60 * DAY):
                    rollup.roll(session, 1, item)
                rolled = service.merged_profile(session, SPEC.name)
                windows = service.list_windows(session, SPEC.name)
        finally:
            store.close()
    assert rolled.n_rows == direct.n_rows == sum(n for _, n in hours)
    for name in ("amount", "user", "label", "proba"):
        assert rolled.columns[name].count == direct.columns[name].count
    assert sum(w.n_rows for w in windows) == direct.n_rows
    assert sum(w.n_uploads for w in windows) == len(hours)
    assert isinstance(rolled, DatasetProfile)
