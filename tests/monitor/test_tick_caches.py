"""The tick at fleet scale: each stored window decoded at most once per tick, and baselines,
values and learned thresholds kept between ticks until their inputs change."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from vigil import monitor as monitors
from vigil.client import Client
from vigil.monitor import Monitor, thresholds
from vigil.monitor import monitor_run as run_module
from vigil.monitor import reader as reader_module
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.kinds.missing_values import MissingValues
from vigil.monitor.results import SEEN_UPLOADS, WindowResult
from vigil.store.core import Store
from vigil.store.models import ProfileWindow
from vigil.store.monitor_tables import MonitorResultRow
from vigil.store.stored_profiles import decode_stored

MINUTES = dt.timedelta(minutes=5)


@dataclass
class Counts:
    """What the evaluation did: decodes per stored window start, merges of a baseline period,
    learned bounds computed, missing-value measurements."""

    decoded: collections.Counter[dt.datetime] = field(default_factory=collections.Counter)
    merged: int = 0
    learned: int = 0
    measured: int = 0

    def clear(self) -> None:
        self.decoded.clear()
        self.merged = self.learned = self.measured = 0


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    found = Counts()
    merged, learned = run_module.MonitorRun._merged, thresholds.learned_bounds
    measure = MissingValues.measure

    def counting_decode(stored: Any, tally: Any) -> Any:
        found.decoded[stored.start] += 1
        return decode_stored(stored, tally)

    def counting_merge(self: Any, starts: Any) -> Any:
        found.merged += 1
        return merged(self, starts)

    def counting_learn(*args: Any) -> Any:
        found.learned += 1
        return learned(*args)

    def counting_measure(self: Any, context: Any, window: Any) -> Any:
        found.measured += 1
        return measure(self, context, window)

    monkeypatch.setattr(reader_module, "decode_stored", counting_decode)
    monkeypatch.setattr(run_module.MonitorRun, "_merged", counting_merge)
    monkeypatch.setattr(run_module, "learned_bounds", counting_learn)
    monkeypatch.setattr(MissingValues, "measure", counting_measure)
    return found


@pytest.fixture
def fleet(sqlite_store: Store, tmp_path: Path) -> Iterator[Client]:
    """Model m with 30 hours of data and three monitors: drift against its first six hours,
    missing values with a threshold learned from the 5 windows before, volume learned from 6."""
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 30), rows=40, missing=0.1)
    for name, kind, extra in (
        (
            "drift",
            "data_drift",
            {
                "baseline": {"type": "period", "start": T0.isoformat(), "end": (T0 + 6 * HOUR)},
                "threshold": {"type": "static", "upper": 0.5},
            },
        ),
        ("missing", "missing_values", _learned(k=3.0, windows=5)),
        ("volume", "volume", _learned(k=3.0, windows=6)),
    ):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate({"name": name, "kind": kind, "target": {"model": "m"}, **extra}),
        )
    yield client
    client.close()


def _learned(*, k: float, windows: int) -> dict[str, object]:
    return {
        "baseline": {"type": "trailing", "windows": windows},
        "threshold": {"type": "learned", "k": k, "min_windows": 3, "direction": "both"},
    }


def _figures(results: list[WindowResult]) -> list[tuple[object, ...]]:
    return sorted((r.monitor, r.window_start, r.value, r.lower, r.upper) for r in results)


def _hour_30(store: Store, cache: EvaluationCache | None) -> list[WindowResult]:
    return monitors.backfill(store, T0 + 30 * HOUR, T0 + 31 * HOUR, now=T0 + 31 * HOUR, cache=cache)


def test_a_tick_decodes_each_window_once_and_the_next_decodes_only_the_new_one(
    sqlite_store: Store, fleet: Client, counts: Counts
) -> None:
    cache = EvaluationCache()
    first = monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + MINUTES, cache=cache)
    assert len(first) == 3 * 24  # one grace period (a day) back, hours 6 to 29
    # Every window read by the three monitors (hours 0 to 29) decoded once for all of them.
    assert counts.decoded == {T0 + h * HOUR: 1 for h in range(30)}
    assert [r.monitor for r in first[:2]] == ["drift", "drift"]  # in monitor name order

    counts.clear()
    log_hours(fleet, range(30, 31), rows=40, missing=0.1, seed=1)
    steady = monitors.evaluate_due(sqlite_store, now=T0 + 31 * HOUR + MINUTES, cache=cache)
    assert sorted(r.monitor for r in steady) == ["drift", "missing", "volume"]
    assert all(r.window_start == T0 + 30 * HOUR for r in steady)
    # The warm tick decodes the new window only, once, for both monitors that read it; the drift
    # baseline is not merged again and the missing-value shares of hours 25-29 are not measured
    # again: only the two new windows' bounds are learned, from cached values.
    assert counts.decoded == {T0 + 30 * HOUR: 1}
    assert counts.merged == 0
    assert counts.measured == 1
    assert counts.learned == 2
    assert _figures(_hour_30(sqlite_store, None)) == _figures(steady)


def test_unchanged_inputs_recompute_nothing_and_a_change_recomputes_what_it_touches(
    sqlite_store: Store, fleet: Client, counts: Counts
) -> None:
    log_hours(fleet, range(30, 31), rows=40, missing=0.1, seed=1)
    cache = EvaluationCache()
    before = _hour_30(sqlite_store, cache)
    assert counts.merged == 1
    assert counts.learned == 2

    counts.clear()
    again = _hour_30(sqlite_store, cache)
    assert _figures(again) == _figures(before)
    assert counts.decoded == {T0 + 30 * HOUR: 1}  # the measured window; no baseline window
    assert (counts.merged, counts.learned, counts.measured) == (0, 0, 1)

    # Late uploads into the drift period (hour 2) and into the missing-value baseline (hour 28).
    log_hours(fleet, range(2, 3), rows=400, shift=3.0, seed=2)
    log_hours(fleet, range(28, 29), rows=400, shift=3.0, missing=0.9, seed=3)
    counts.clear()
    late = _hour_30(sqlite_store, cache)
    # The period is merged again and the changed window measured again, the other four not.
    assert counts.merged == 1
    assert counts.measured == 2
    assert set(counts.decoded) == {T0 + h * HOUR for h in (*range(6), 28, 30)}
    cold = _hour_30(sqlite_store, None)
    assert _figures(late) == _figures(cold)
    changed = {r.monitor for r in late} - {
        r.monitor for r in late if (r.monitor, r.value, r.lower, r.upper) in _plain(before)
    }
    assert changed == {"drift", "missing", "volume"}

    # A changed definition: the missing-value monitor's k.
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {"name": "missing", "kind": "missing_values", "target": {"model": "m"}}
            | _learned(k=1.0, windows=5)
        ),
    )
    counts.clear()
    redefined = _hour_30(sqlite_store, cache)
    assert counts.measured == 6  # the monitor's new definition: its values measured again
    assert _figures(redefined) == _figures(_hour_30(sqlite_store, None))
    (missing,) = [r for r in redefined if r.monitor == "missing"]
    (was,) = [r for r in late if r.monitor == "missing"]
    assert missing.upper is not None
    assert was.upper is not None
    assert missing.upper < was.upper


def _plain(results: list[WindowResult]) -> set[tuple[object, ...]]:
    return {(r.monitor, r.value, r.lower, r.upper) for r in results}


def test_a_baseline_far_back_is_read_without_the_windows_between(
    sqlite_store: Store, fleet: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drift monitor's baseline is hours 0-5, its window hour 30: the tick reads the
    metadata of those 7 windows, not of the 31 from hour 0 to 30."""
    read: list[int] = []
    stored = reader_module.WindowReader._stored_in

    def counting_stored(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = list(stored(self, *args, **kwargs))
        read.append(len(found))
        return found

    monkeypatch.setattr(reader_module.WindowReader, "_stored_in", counting_stored)
    log_hours(fleet, range(30, 31), rows=40, seed=1)
    results = monitors.backfill(
        sqlite_store, T0 + 30 * HOUR, T0 + 31 * HOUR, now=T0 + 31 * HOUR, monitors=["drift"]
    )
    assert [r.value for r in results] == [0.0]
    assert sum(read) == 7


def test_an_upload_committed_after_a_tick_read_its_window_is_evaluated_again(
    sqlite_store: Store, fleet: Client
) -> None:
    """An upload stamped before a tick read its window, but committed after, arrives "before"
    the evaluation: the window's upload count, stored with each result, tells it was not seen."""
    cache = EvaluationCache()
    first = monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + MINUTES, cache=cache)
    (volume,) = [r for r in first if r.monitor == "volume" and r.window_start == T0 + 29 * HOUR]
    assert volume.value == 40.0
    _upload_stamped_early(sqlite_store)
    again = monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + 3 * MINUTES, cache=cache)
    assert sorted((r.monitor, r.window_start) for r in again) == [
        (name, T0 + 29 * HOUR) for name in ("drift", "missing", "volume")
    ]
    assert [r.value for r in again if r.monitor == "volume"] == [50.0]
    assert monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + 4 * MINUTES) == []

    # Results stored before counts were kept have none: judged by their time only (an upgrade
    # does not evaluate every monitor's grace period again).
    with sqlite_store.session() as session:
        for row in session.scalars(select(MonitorResultRow)):
            row.details = {k: v for k, v in row.details.items() if k != SEEN_UPLOADS}
        session.commit()
    _upload_stamped_early(sqlite_store)
    assert monitors.evaluate_due(sqlite_store, now=T0 + 30 * HOUR + 5 * MINUTES) == []


def _upload_stamped_early(store: Store) -> None:
    """Hour 29 gets an upload of 10 rows stamped before the evaluations (not its profile)."""
    with store.session() as session:
        window = session.scalars(
            select(ProfileWindow).where(ProfileWindow.start == T0 + 29 * HOUR)
        ).one()
        window.n_uploads += 1
        window.n_rows += 10
        window.last_arrival = T0 + 30 * HOUR  # before the evaluation's time
        session.commit()
