"""A tick keeps a fixed baseline's side of the drift statistics between ticks (the cache's
`ReferenceMemo`), and keeps nothing of a trailing baseline's (another profile every window)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.monitor.caches import EvaluationCache
from vigil.store.core import Store

MINUTES = dt.timedelta(minutes=5)


def _drift(name: str, baseline: dict[str, object]) -> Monitor:
    return Monitor.model_validate(
        {
            "name": name,
            "kind": "data_drift",
            "target": {"model": "m"},
            "baseline": baseline,
            "threshold": {"type": "static", "upper": 0.5},
        }
    )


def test_a_fixed_baselines_side_is_kept_and_a_trailing_ones_is_not(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 12), rows=60)
    period = {"type": "period", "start": T0.isoformat(), "end": (T0 + 6 * HOUR).isoformat()}
    monitors.save_monitor(sqlite_store, _drift("fixed", period))
    monitors.save_monitor(sqlite_store, _drift("trailing", {"type": "trailing", "windows": 3}))
    cache = EvaluationCache()
    monitors.evaluate_due(sqlite_store, now=T0 + 12 * HOUR + MINUTES, cache=cache)
    # The period baseline's two numeric columns (x, y), nothing of the trailing baselines.
    assert len(cache.drift) == 2
    log_hours(client, range(12, 13), rows=60, seed=3)
    hits = cache.drift.hits
    results = monitors.evaluate_due(sqlite_store, now=T0 + 13 * HOUR + MINUTES, cache=cache)
    assert sorted(r.monitor for r in results) == ["fixed", "trailing"]
    assert all(r.value is not None for r in results)
    assert cache.drift.hits > hits  # the new window compared with the kept reference side
    assert len(cache.drift) == 2
    client.close()
