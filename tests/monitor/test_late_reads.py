"""The late-data check of a tick reads a model's stored results once for all its monitors (one
statement per model, not per monitor), and finds the same late windows for each: its own grace
period only, its own results only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.monitor.conftest import HOUR, T0, client_for, log_hours
from vigil import monitor as monitors
from vigil.client import Client
from vigil.monitor import Monitor
from vigil.store.core import Store

MINUTES = dt.timedelta(minutes=5)


def _monitor(name: str, model: str, kind: str, grace_hours: int) -> Monitor:
    return Monitor.model_validate(
        {
            "name": name,
            "kind": kind,
            "target": {"model": model},
            "grace": dt.timedelta(hours=grace_hours),
            "baseline": {"type": "trailing", "windows": 2},
            "threshold": {"type": "static", "upper": 0.5},
        }
    )


@pytest.fixture
def two_models(sqlite_store: Store, tmp_path: Path) -> Iterator[Client]:
    """Models m and n, hours 0 to 11 logged, each with monitors of 3 and 6 hours' grace (and one
    of the default day), all evaluated up to hour 12."""
    client = client_for(sqlite_store, tmp_path)
    for model in ("m", "n"):
        client.create_model(model, features=["x", "y", "city"], scores=["score"])
        for name, kind, grace in (
            ("short", "missing_values", 3),
            ("long", "volume", 6),
            ("day", "data_drift", 24),
        ):
            monitors.save_monitor(sqlite_store, _monitor(f"{model}-{name}", model, kind, grace))
    log_hours(client, range(0, 12))
    with _renamed(client, "n"):
        log_hours(client, range(0, 12), seed=1)
    monitors.evaluate_due(sqlite_store, now=T0 + 12 * HOUR + MINUTES)
    yield client
    client.close()


@contextmanager
def _renamed(client: Client, model: str) -> Iterator[None]:
    """`log_hours` logs into model m: this makes it log into `model`."""
    log = client.log

    def renamed(_: str, *args: Any, **kwargs: Any) -> Any:
        return log(model, *args, **kwargs)

    client.log = renamed  # type: ignore[method-assign]
    try:
        yield
    finally:
        client.log = log  # type: ignore[method-assign]


def _result_reads(store: Store) -> list[str]:
    """Collects the statements reading a range of stored results (the late-data check)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = " ".join(statement.split())
        if text.startswith("SELECT") and "monitor_results.window_start >=" in text:
            seen.append(text)

    for engine in {store.engine, store.read_engine}:  # a tick reads in a read session
        event.listen(engine, "before_cursor_execute", before)
    return seen


def test_late_data_is_found_with_one_read_per_model_and_each_monitor_keeps_its_grace(
    sqlite_store: Store, two_models: Client
) -> None:
    log_hours(two_models, range(7, 8), seed=5)  # model m, hour 7: within 6 h of 13:00, not 3 h
    log_hours(two_models, range(10, 11), seed=6)  # model m, hour 10: within both
    log_hours(two_models, range(12, 13), seed=7)  # the new hour
    with _renamed(two_models, "n"):
        log_hours(two_models, range(12, 13), seed=8)
    reads = _result_reads(sqlite_store)
    results = monitors.evaluate_due(sqlite_store, now=T0 + 13 * HOUR + MINUTES)
    assert len(reads) == 2  # one per model, for its three monitors
    evaluated = sorted((r.monitor, (r.window_start - T0) // HOUR) for r in results)
    assert evaluated == [
        ("m-day", 7),
        ("m-day", 10),
        ("m-day", 12),
        ("m-long", 7),
        ("m-long", 10),
        ("m-long", 12),
        ("m-short", 10),
        ("m-short", 12),
        ("n-day", 12),
        ("n-long", 12),
        ("n-short", 12),
    ]
    # Nothing is late any more: the next tick evaluates nothing, still with one read per model.
    reads.clear()
    assert monitors.evaluate_due(sqlite_store, now=T0 + 13 * HOUR + 2 * MINUTES) == []
    assert len(reads) == 2
