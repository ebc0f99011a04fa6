"""What the model and feature pages draw: drift cells are the drift monitors' stored results
(the same figures as `vigil.drift` on the monitor's window and reference), window statistics
match NumPy, late data recomputes them, and the page budget bounds the work of a request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy.orm import Session

import vigil
from vigil import monitor as monitors
from vigil.client import Client
from vigil.ingestion import service
from vigil.monitor import Monitor
from vigil.monitor.reading import ColumnFigures, drift_cells
from vigil.monitor.window_stats import WindowStatistics, column_stats
from vigil.profile import DatasetProfile
from vigil.server.dashboard.drift_cache import DriftCache, Warmer
from vigil.store.core import Store

START = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def _day(day: int, n: int, shift: float, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, 86_400, n))
    times = np.datetime64(START.replace(tzinfo=None) + dt.timedelta(days=day), "us") + (
        seconds * 1e6
    ).astype("timedelta64[us]")
    x = rng.normal(shift, 1.0, n)
    x[rng.random(n) < 0.1] = np.nan
    return pa.table(
        {
            "at": pa.array(times, pa.timestamp("us", tz="UTC")),
            "x": x,
            "city": rng.choice(["a", "b", "c"] if shift == 0 else ["a", "d"], n),
        }
    )


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Store]:
    url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a")
    client = Client.local(url, artifacts)
    try:
        client.create_model("m", features=["x", "city"], timestamp_column="at")
        for day in range(9):
            client.log("m", _day(day, 2000, 0.0 if day < 8 else 0.8, seed=day))
        client.flush()
    finally:
        client.close()
    store = Store.open(url, artifacts)
    try:
        yield store
    finally:
        store.close()


def _first_week_monitor(store: Store) -> None:
    baseline = {
        "type": "period",
        "start": START.isoformat(),
        "end": (START + dt.timedelta(days=7)).isoformat(),
    }
    monitors.save_monitor(
        store,
        Monitor.model_validate(
            {
                "name": "m-drift",
                "kind": "data_drift",
                "target": {"model": "m"},
                "window": "day",
                "baseline": baseline,
            }
        ),
    )
    monitors.backfill(store, START, START + dt.timedelta(days=9), now=START + dt.timedelta(days=9))


def test_a_day_cell_is_what_the_drift_monitor_measured(seeded: Store) -> None:
    store = seeded
    cache = DriftCache(store)
    assert cache.drift("m", "day", None, None).cells == {}  # no drift monitor: nothing drawn
    _first_week_monitor(store)
    found = cache.drift("m", "day", None, None)
    assert [m.name for m in found.monitors] == ["m-drift"]
    assert sorted(found.cells) == [START + dt.timedelta(days=d) for d in range(9)]
    assert cache.drift("m", "hour", None, None).monitors == []  # a daily monitor only
    last = found.cells[START + dt.timedelta(days=8)]
    with store.session() as session:
        reference = DatasetProfile.merge_all(
            monitors_profile(session, START + dt.timedelta(days=d)) for d in range(7)
        )
        current = monitors_profile(session, START + dt.timedelta(days=8))
    expected = vigil.drift(reference, current, columns=["x", "city"])
    # The monitor merged the same stored windows; KLL compaction makes the numeric statistic
    # vary between two merges of them (see tests of the sketches), category counts are exact.
    assert last.columns["city"].statistic == pytest.approx(
        expected.columns["city"].statistic, abs=1e-9
    )
    assert last.columns["x"].severity == pytest.approx(expected.columns["x"].severity, rel=0.10)
    for name in ("x", "city"):
        assert last.columns[name].drifted == expected.columns[name].drifted
        assert last.monitors[name] == "m-drift"
    assert last.columns["x"].score[1] == 1.0  # the planted shift
    assert [c["value"] for c in last.columns["city"].new_categories] == ["d"]
    assert found.cells[START + dt.timedelta(days=1)].columns["x"].score[1] == 0.0


def monitors_profile(session: Session, day: dt.datetime) -> DatasetProfile:
    return service.merged_profile(session, "m", start=day, end=day + dt.timedelta(days=1))


def test_the_drift_cells_are_read_not_recomputed(seeded: Store) -> None:
    """A stored result is drawn as stored, whatever the windows say now."""
    store = seeded
    _first_week_monitor(store)
    with store.session() as session:
        before = drift_cells(session, "m", 86_400).cells[START + dt.timedelta(days=8)]
    client = Client.local(str(store.engine.url), store.artifacts.url)
    try:
        client.log("m", _day(8, 500, 3.0, seed=99))  # late rows: the next tick re-measures
        client.flush()
    finally:
        client.close()
    with store.session() as session:
        again = drift_cells(session, "m", 86_400).cells[START + dt.timedelta(days=8)]
    assert again == before
    monitors.backfill(
        store,
        START + dt.timedelta(days=8),
        START + dt.timedelta(days=9),
        now=START + dt.timedelta(days=9),
    )
    with store.session() as session:
        after = drift_cells(session, "m", 86_400).cells[START + dt.timedelta(days=8)]
    assert (after.columns["x"].severity or 0) > (before.columns["x"].severity or 0)


def test_statistics_match_numpy() -> None:
    table = _day(3, 2000, 0.0, seed=3)
    stats = column_stats(vigil.profile(table), ["x", "city"])
    x = table["x"].to_numpy(zero_copy_only=False)
    finite = x[np.isfinite(x)]
    assert stats["x"]["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert stats["x"]["missing"] == pytest.approx(np.isnan(x).mean(), rel=1e-12)
    # KLL quantiles: within the sketch's rank error (well under 2% of ranks at this size).
    for q, key in ((0.05, "q05"), (0.5, "q50"), (0.95, "q95")):
        rank = (finite <= stats["x"][key]).mean()
        assert abs(rank - q) < 0.02, key
    assert stats["city"] == {"missing": 0.0}


def test_late_data_recomputes_the_statistics_of_its_day(seeded: Store) -> None:
    store = seeded
    statistics = WindowStatistics(store)
    assert statistics.refresh("m", "day") == 0
    day = START + dt.timedelta(days=8)
    before = statistics.cells("m", "day")[day]
    untouched = statistics.cells("m", "day")[START]
    assert before.n_rows == 2000
    client = Client.local(str(store.engine.url), store.artifacts.url)
    try:
        client.log("m", _day(8, 500, 3.0, seed=99))  # late rows, far shifted
        client.flush()
    finally:
        client.close()
    assert statistics.refresh("m", "day") == 0
    after = statistics.cells("m", "day")[day]
    assert after.n_rows == 2500
    assert after.stats["x"]["mean"] > before.stats["x"]["mean"] + 0.3
    assert after.source_arrival > before.source_arrival
    assert statistics.cells("m", "day")[START] == untouched


def test_the_page_budget_bounds_the_work_and_newest_cells_come_first(seeded: Store) -> None:
    statistics = WindowStatistics(seeded)
    remaining = statistics.refresh("m", "hour", budget_seconds=0.0)
    cells = statistics.cells("m", "hour")
    assert len(cells) == 1
    assert remaining == 9 * 24 - 1
    assert max(cells) == START + dt.timedelta(days=8, hours=23)


def test_the_warmer_fills_every_models_daily_statistics(seeded: Store) -> None:
    cache = DriftCache(seeded)
    Warmer(cache, interval=3600).warm_once()
    assert sorted(cache.statistics.cells("m", "day")) == [
        START + dt.timedelta(days=d) for d in range(9)
    ]
    hours = cache.statistics.cells("m", "hour")
    assert min(hours) == START + dt.timedelta(days=1, hours=23)  # the last week of data


def test_a_result_stored_without_severity_is_drawn_by_its_verdict() -> None:
    """Results measured before drift monitors stored a severity still draw: at the bar when the
    column drifted, as no drift otherwise; a stored severity is drawn as stored."""
    old = {"method": "ks", "statistic": 0.3, "p_value": 0.001, "drifted": True}
    assert ColumnFigures.of(old).score == [1.0, 1.0]
    assert ColumnFigures.of({**old, "drifted": False}).score == [0.0, 0.0]
    assert ColumnFigures.of({**old, "severity": 2.5}).score == [2.5, 1.0]
    assert ColumnFigures.of({**old, "statistic": None}).statistic is None
