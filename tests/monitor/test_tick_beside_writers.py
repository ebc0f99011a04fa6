"""A tick reads and measures in read sessions: on SQLite it gets as far as writing its results
while another connection holds the write lock, and only that short write waits for it.

The test holds the write lock (`BEGIN IMMEDIATE` on a connection of its own) until the tick has
measured every monitor (`write_all` called). A tick whose reads waited for the lock would never
get there while the lock is held; the test then fails after a load-scaled wait."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.monitor.conftest import HOUR, T0, client_for, log_hours
from tests.waits import patience
from vigil import monitor as monitors
from vigil.monitor import Monitor, evaluate
from vigil.monitor.results import WindowResult
from vigil.store.core import Store


def test_a_tick_measures_while_the_write_lock_is_held(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(sqlite_store, tmp_path)
    client.create_model("m", features=["x", "y", "city"], scores=["score"])
    for kind in ("volume", "data_drift"):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {
                    "name": f"m-{kind}",
                    "kind": kind,
                    "target": {"model": "m"},
                    "baseline": {"type": "trailing", "windows": 2},
                    "threshold": {"type": "static", "upper": 0.5},
                }
            ),
        )
    log_hours(client, range(0, 6))
    client.close()

    measured = threading.Event()
    write_all = evaluate.write_all

    def signalled(*args: Any) -> Any:
        measured.set()
        return write_all(*args)

    monkeypatch.setattr(evaluate, "write_all", signalled)
    results: list[WindowResult] = []
    failures: list[BaseException] = []

    def tick() -> None:
        try:
            results.extend(monitors.evaluate_due(sqlite_store, now=T0 + 6 * HOUR))
        except BaseException as exc:
            failures.append(exc)

    path = str(sqlite_store.engine.url.database)
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    ticking = threading.Thread(target=tick)
    try:
        ticking.start()
        reached = measured.wait(patience(20))
    finally:
        lock.execute("ROLLBACK")
        lock.close()
        ticking.join()
    assert reached, "the tick did not measure while another connection held the write lock"
    assert failures == []
    assert {r.monitor for r in results} == {"m-volume", "m-data_drift"}
    assert len(results) >= 2
