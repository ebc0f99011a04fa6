"""A drift monitor against the trailing windows, tick after tick with the process's cache: each tick
decodes the window that joined its baseline (and, once per block, the oldest block's tail), not
every baseline window, and measures what a cold evaluation measures; a late upload into a
baseline window is in the next tick's baseline."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.client import Client
from vigil.monitor import Monitor
from vigil.monitor import reader as reader_module
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.evaluate import measured_profiles
from vigil.monitor.results import WindowResult
from vigil.store.core import Store
from vigil.store.stored_profiles import decode_stored

MINUTES = dt.timedelta(minutes=5)
TRAILING = 12
ROWS = 15  # 12 windows of 15 rows: below the KLL sketch's k, so its merge is exact in any order


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[dt.datetime]:
    found: collections.Counter[dt.datetime] = collections.Counter()

    def counting_decode(stored: Any, tally: Any) -> Any:
        found[stored.start] += 1
        return decode_stored(stored, tally)

    monkeypatch.setattr(reader_module, "decode_stored", counting_decode)
    return found


@pytest.fixture
def trailing(sqlite_store: Store, tmp_path: Path) -> Iterator[Client]:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 20), rows=ROWS)
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {
                "name": "drift",
                "kind": "data_drift",
                "target": {"model": "m"},
                "baseline": {"type": "trailing", "windows": TRAILING},
                "threshold": {"type": "static", "upper": 0.5},
            }
        ),
    )
    yield client
    client.close()


def _cold(store: Store, hour: int) -> list[WindowResult]:
    start = T0 + hour * HOUR
    return monitors.backfill(store, start, start + HOUR, now=start + HOUR, cache=None)


def _plain(results: list[WindowResult]) -> list[tuple[object, ...]]:
    return [(r.window_start, r.value, r.lower, r.upper, r.breached, r.message) for r in results]


def test_ticks_merge_blocks_and_measure_what_a_cold_tick_measures(
    sqlite_store: Store, trailing: Client, decoded: collections.Counter[dt.datetime]
) -> None:
    cache = EvaluationCache()
    monitors.evaluate_due(sqlite_store, now=T0 + 20 * HOUR + MINUTES, cache=cache)
    per_tick = []
    for hour in range(20, 34):
        log_hours(trailing, range(hour, hour + 1), rows=ROWS, seed=hour, shift=hour % 3)
        decoded.clear()
        (result,) = monitors.evaluate_due(
            sqlite_store, now=T0 + (hour + 1) * HOUR + MINUTES, cache=cache
        )
        assert result.window_start == T0 + hour * HOUR
        per_tick.append(sum(decoded.values()))
        assert _plain([result]) == _plain(_cold(sqlite_store, hour))
    # The direct merge decodes 12 baseline windows and the new one every tick.
    assert max(per_tick) <= 6 + 2
    assert sum(per_tick) <= 3.5 * len(per_tick)

    # The baseline of hour 33 as the warm cache merged it, against the windows themselves.
    window = measured_profiles(sqlite_store, "drift", T0 + 33 * HOUR)
    assert window.reference is not None
    assert window.reference.n_rows == TRAILING * ROWS
    assert window.reference.columns["x"].count == TRAILING * ROWS

    # A late upload into hour 25 (in a block wholly inside hour 34's baseline, 22-33).
    log_hours(trailing, range(25, 26), rows=40, seed=99, shift=5.0)
    log_hours(trailing, range(34, 35), rows=ROWS, seed=34)
    (late,) = [
        r
        for r in monitors.evaluate_due(sqlite_store, now=T0 + 35 * HOUR + MINUTES, cache=cache)
        if r.window_start == T0 + 34 * HOUR
    ]
    cold = _cold(sqlite_store, 34)
    assert _plain([late]) == _plain(cold)
    reference = measured_profiles(sqlite_store, "drift", T0 + 34 * HOUR).reference
    assert reference is not None
    assert reference.n_rows == TRAILING * ROWS + 40
