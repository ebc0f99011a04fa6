"""A round of the scheduler leases the monitors it evaluates: on PostgreSQL, two server processes
ticking at once evaluate each monitor once, and a lease ends with its round or its process."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.store.conftest import store, store_url
from tests.store.pg import postgres_url
from vigil import monitor as monitors
from vigil.monitor import Monitor, MonitorSettings
from vigil.monitor.scheduler import TICK_LOCK_BASE, leases, tick
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorRow

__all__ = ["postgres_url", "store", "store_url"]


def _two_monitors(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(3))
    client.close()
    for name in ("a", "b"):
        monitor = {"name": name, "kind": "no_data", "target": {"model": "m"}}
        monitors.save_monitor(store, Monitor.model_validate(monitor))


def test_a_round_skips_the_monitors_another_process_holds(store: Store, tmp_path: Path) -> None:
    _two_monitors(store, tmp_path)
    settings = MonitorSettings(webhook_allow_loopback=True)
    now = T0 + 5 * HOUR
    if store.engine.dialect.name != "postgresql":
        with leases(store) as names:
            assert names is None  # one process: every monitor
        assert {r.monitor for r in tick(store, settings, now=now).results} == {"a", "b"}
        return
    with store.session() as session:
        a_id = session.query(MonitorRow.id).filter(MonitorRow.name == "a").scalar()
    other = store.engine.connect()  # another server process's round, holding monitor a
    try:
        assert other.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": TICK_LOCK_BASE + a_id}
        ).scalar()
        other.commit()
        with leases(store) as names:
            assert names == ["b"]
            with leases(store) as again:  # a second round at the same time gets nothing
                assert again == []
        assert {r.monitor for r in tick(store, settings, now=now).results} == {"b"}
    finally:
        other.invalidate()  # the other process ends (or dies): its lease with it
        other.close()
    assert {r.monitor for r in tick(store, settings, now=now).results} == {"a"}
    with leases(store) as names:
        assert names == ["a", "b"]  # the rounds above released theirs
    with store.engine.connect() as connection:  # and so did this one: none left in the pool
        held = (
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :high"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert connection.execute(text(held), {"high": TICK_LOCK_BASE >> 32}).scalar() == 0
