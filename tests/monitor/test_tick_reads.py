"""A tick reads a model's window metadata once for all its monitors on one grid: their new windows,
the grace period checked for late data and the new windows' baselines in one statement, not two
statements per monitor; and it measures what monitors reading on their own measure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.client import Client
from vigil.monitor import Monitor
from vigil.monitor import evaluate as evaluate_module
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.reader import WindowReader
from vigil.monitor.results import WindowResult
from vigil.store.core import Store

MINUTES = dt.timedelta(minutes=5)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many metadata statements the readers ran (one entry per statement)."""
    found: list[int] = []
    stored_in = WindowReader._stored_in

    def counting(self: WindowReader, model_id: int, *args: Any) -> Any:
        found.append(model_id)
        return stored_in(self, model_id, *args)

    monkeypatch.setattr(WindowReader, "_stored_in", counting)
    return found


@pytest.fixture
def fleet(sqlite_store: Store, tmp_path: Path) -> Iterator[Client]:
    """Model m, 30 hours: drift against its first 6 hours, missing values learned from the 5
    windows before, volume learned from the same hour of the weeks before (its default)."""
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 30), rows=40, missing=0.1)
    learned = {"type": "learned", "k": 3.0, "min_windows": 3, "direction": "both"}
    for name, kind, extra in (
        (
            "drift",
            "data_drift",
            {"baseline": {"type": "period", "start": T0.isoformat(), "end": (T0 + 6 * HOUR)}},
        ),
        ("missing", "missing_values", {"baseline": {"type": "trailing", "windows": 5}}),
        ("volume", "volume", {}),
    ):
        threshold = {"threshold": learned} if name == "missing" else {}
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {"name": name, "kind": kind, "target": {"model": "m"}, **extra, **threshold}
            ),
        )
    yield client
    client.close()


def _figures(results: list[WindowResult]) -> list[tuple[object, ...]]:
    return sorted((r.monitor, r.window_start, r.value, r.lower, r.upper) for r in results)


def test_a_tick_reads_a_models_window_metadata_once(
    sqlite_store: Store, fleet: Client, statements: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = EvaluationCache()
    monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + MINUTES, cache=cache)
    log_hours(fleet, range(30, 31), rows=40, missing=0.1, seed=1)
    statements.clear()
    steady = monitors.evaluate_due(sqlite_store, now=T0 + 31 * HOUR + MINUTES, cache=cache)
    assert sorted(r.monitor for r in steady) == ["drift", "missing", "volume"]
    assert len(statements) == 1  # six before: each monitor's late-data check and its windows

    # Without the shared read, each monitor reads on its own: the same results.
    log_hours(fleet, range(31, 32), rows=40, missing=0.1, seed=2)
    statements.clear()
    with monkeypatch.context() as patched:
        patched.setattr(evaluate_module, "_prefetch", lambda runs, now: None)
        alone = monitors.evaluate_due(sqlite_store, now=T0 + 32 * HOUR + MINUTES, cache=None)
    assert len(statements) > 1
    hour_31 = T0 + 31 * HOUR
    shared = monitors.backfill(sqlite_store, hour_31, hour_31 + HOUR, now=hour_31 + HOUR)
    assert _figures(shared) == _figures([r for r in alone if r.window_start == hour_31])
