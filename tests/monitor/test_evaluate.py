from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.waits import patience
from vigil import monitor as monitors
from vigil.errors import ConflictError
from vigil.ingestion import service
from vigil.monitor import Monitor
from vigil.store.core import Store
from vigil.store.stored_profiles import decode_stored as decode


def _no_data(**extra: object) -> Monitor:
    return Monitor.model_validate(
        {"name": "silence", "kind": "no_data", "target": {"model": "m"}, **extra}
    )


def test_no_data_opens_one_alert_and_resolves_it_when_data_returns(
    store: Store, tmp_path: Path
) -> None:
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 10))
    log_hours(client, range(13, 16))
    monitors.save_monitor(store, _no_data())
    results = monitors.backfill(store, T0, T0 + 16 * HOUR, now=T0 + 16 * HOUR)
    assert [r.breached for r in results] == [False] * 10 + [True] * 3 + [False] * 3
    assert results[10].value == 0.0
    assert results[10].lower == 1.0
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    # One alert for three silent windows (deduplicated), resolved by itself when rows came back.
    assert alert.state == "resolved"
    assert alert.n_windows == 3
    assert alert.first_window_start == T0 + 10 * HOUR
    assert alert.last_window_start == T0 + 12 * HOUR
    assert [e.event for e in alert.history] == ["opened", "resolved"]
    assert alert.history[-1].actor == "vigil"
    client.close()


def test_acknowledge_and_resolve_keep_who_did_it(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 1))
    monitors.save_monitor(sqlite_store, _no_data())
    monitors.backfill(sqlite_store, T0, T0 + 2 * HOUR, now=T0 + 2 * HOUR)
    with sqlite_store.session() as session:
        (alert,) = monitors.list_alerts(session, state="open")
        acked = monitors.acknowledge(session, alert.id, "ana", "looking")
        assert acked.state == "acknowledged"
        with pytest.raises(ConflictError):
            monitors.acknowledge(session, alert.id, "bob")
        done = monitors.resolve(session, alert.id, "bob", "upstream fixed")
    assert [(e.event, e.actor, e.note) for e in done.history][1:] == [
        ("acknowledged", "ana", "looking"),
        ("resolved", "bob", "upstream fixed"),
    ]
    client.close()


def test_scheduler_continues_where_it_stopped_and_reevaluates_late_data(
    store: Store, tmp_path: Path
) -> None:
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 3))
    monitors.save_monitor(store, _no_data(grace=dt.timedelta(hours=6)))
    first = monitors.evaluate_due(store, now=T0 + 4 * HOUR + dt.timedelta(minutes=5))
    # First run: one grace period back (6 h before 04:00 -> from 22:00 the day before); no alert
    # before the model's first data.
    assert [r.window_start for r in first] == [T0 + i * HOUR for i in range(-2, 4)]
    assert [r.value for r in first][:2] == [None, None]
    assert first[-1].breached  # hour 3 had no data
    assert monitors.evaluate_due(store, now=T0 + 4 * HOUR + dt.timedelta(minutes=30)) == []
    log_hours(client, range(3, 4))  # hour 3's data arrives late
    again = monitors.evaluate_due(store, now=T0 + 4 * HOUR + dt.timedelta(minutes=40))
    assert [(r.window_start, r.breached) for r in again] == [(T0 + 3 * HOUR, False)]
    with store.session() as session:
        (alert,) = monitors.list_alerts(session)
    assert alert.state == "resolved"
    client.close()


def test_missing_values_static_threshold(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 2))
    log_hours(client, range(2, 3), missing=0.5, rows=200)
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {"name": "gaps", "kind": "missing_values", "target": {"model": "m"}}
        ),
    )
    results = monitors.backfill(sqlite_store, T0, T0 + 3 * HOUR, now=T0 + 3 * HOUR)
    assert [r.breached for r in results] == [False, False, True]
    assert results[0].value == 0.0
    assert 0.4 < (results[2].value or 0) < 0.6
    assert results[2].upper == 0.2
    assert "'x'" in results[2].message
    client.close()


def test_volume_learned_from_the_same_hour_in_earlier_weeks(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    week = 7 * 24
    for k, rows in enumerate([40, 50, 60, 50]):
        log_hours(client, range(k * week, k * week + 1), rows=rows, seed=k)
    log_hours(client, range(4 * week, 4 * week + 1), rows=400)
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate({"name": "vol", "kind": "volume", "target": {"model": "m"}}),
    )
    start = T0 + 4 * week * HOUR
    (result,) = monitors.backfill(sqlite_store, start, start + HOUR, now=start + HOUR)
    spread = 3 * 8.16496580927726  # k * std(ddof=1) of 40, 50, 60, 50
    assert result.lower == pytest.approx(50 - spread)
    assert result.upper == pytest.approx(50 + spread)
    assert result.value == 400.0
    assert result.breached
    client.close()


def test_data_drift_against_a_period_and_new_categories(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 24), rows=100)
    log_hours(client, range(24, 25), rows=300, shift=2.0, seed=1)
    baseline = {"type": "period", "start": T0.isoformat(), "end": (T0 + 24 * HOUR).isoformat()}
    for name, kind in (("drift", "data_drift"), ("cats", "new_categories")):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {"name": name, "kind": kind, "target": {"model": "m"}, "baseline": baseline}
            ),
        )
    results = monitors.backfill(sqlite_store, T0 + 23 * HOUR, T0 + 25 * HOUR, now=T0 + 25 * HOUR)
    by = {(r.monitor, r.window_start): r for r in results}
    assert not by["drift", T0 + 23 * HOUR].breached
    drifted = by["drift", T0 + 24 * HOUR]
    assert drifted.breached
    assert drifted.value == pytest.approx(1 / 3)
    assert "x" in drifted.message
    assert by["cats", T0 + 24 * HOUR].value == 0.0
    client.close()


def test_a_broken_monitor_reports_its_error_and_others_still_run(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 2))
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {
                "name": "a-broken",
                "kind": "data_drift",
                "target": {"model": "m"},
                "baseline": {"type": "profile", "artifact": "monitor-baselines/nope.vgp"},
            }
        ),
    )
    monitors.save_monitor(sqlite_store, _no_data())
    results = monitors.evaluate_due(sqlite_store, now=T0 + 2 * HOUR)
    broken = [r for r in results if r.monitor == "a-broken" and r.window_start >= T0]
    assert broken
    assert broken[0].message.startswith("error:")
    assert not broken[0].breached
    assert [r.breached for r in results if r.monitor == "silence" and r.window_start >= T0] == [
        False,
        False,
    ]
    client.close()


def test_ingestion_does_not_wait_for_a_slow_measurement(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from vigil.monitor.kinds.missing_values import MissingValues

    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 2))
    monitors.save_monitor(
        sqlite_store,
        Monitor.model_validate(
            {"name": "gaps", "kind": "missing_values", "target": {"model": "m"}}
        ),
    )
    measuring, logged, measured = threading.Event(), threading.Event(), threading.Event()
    original = MissingValues.measure

    def held(self: MissingValues, context: object, window: object) -> object:
        # The measurement goes on until the log call below is done (or gives up waiting for it):
        # a log call that needed the monitor's transaction would only finish after `measured`.
        measuring.set()
        logged.wait(patience(30))
        measured.set()
        return original(self, context, window)  # type: ignore[arg-type]

    monkeypatch.setattr(MissingValues, "measure", held)
    worker = threading.Thread(
        target=monitors.backfill, args=(sqlite_store, T0, T0 + HOUR), kwargs={"now": T0 + HOUR}
    )
    worker.start()
    assert measuring.wait(patience(10))
    log_hours(client, range(5, 6))
    finished_while_measuring = not measured.is_set()
    logged.set()
    worker.join()
    assert finished_while_measuring, "the log call waited for the monitor's measurement"
    client.close()


def test_a_tick_decodes_each_stored_window_once_and_loads_no_blob_it_does_not_need(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three profile monitors on one model share the tick's reader: each stored window is decoded
    once; a tick of row-count monitors only reads no profile at all."""
    from vigil.monitor import reader as reader_module

    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 30), rows=40)
    client.close()
    decoded: list[tuple[dt.datetime, str]] = []
    fetched: list[int] = []
    fetch = reader_module.WindowReader.fetch

    def counting_decode(stored: Any, tally: Any) -> Any:
        decoded.append((stored.start, stored.version))
        return decode(stored, tally)

    def counting_fetch(self: Any, windows: Any) -> None:
        windows = list(windows)
        fetched.extend(w.id for w in windows)
        fetch(self, windows)

    monkeypatch.setattr(reader_module, "decode_stored", counting_decode)
    monkeypatch.setattr(reader_module.WindowReader, "fetch", counting_fetch)
    trailing = {"type": "trailing", "windows": 3}
    for name, kind in (("a", "data_drift"), ("b", "missing_values"), ("c", "new_categories")):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {
                    "name": name,
                    "kind": kind,
                    "target": {"model": "m"},
                    "baseline": trailing,
                    "threshold": {"type": "static", "upper": 0.5},
                }
            ),
        )
    results = monitors.backfill(sqlite_store, T0 + 24 * HOUR, T0 + 30 * HOUR, now=T0 + 30 * HOUR)
    assert len(results) == 3 * 6
    assert all(r.value is not None for r in results)
    # Hours 21 to 29: the six measured and the three before them (the first one's baseline).
    assert sorted(decoded) == [(T0 + h * HOUR, "") for h in range(21, 30)]

    decoded.clear()
    fetched.clear()
    for name in ("a", "b", "c"):
        monitors.delete_monitor(sqlite_store, name)
    for name, kind in (("v", "volume"), ("n", "no_data"), ("f", "frequency")):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate({"name": name, "kind": kind, "target": {"model": "m"}}),
        )
    counted = monitors.backfill(sqlite_store, T0 + 24 * HOUR, T0 + 30 * HOUR, now=T0 + 30 * HOUR)
    assert {r.monitor for r in counted} == {"v", "n", "f"}
    assert [r.value for r in counted if r.monitor == "n"] == [40.0] * 6
    assert decoded == []
    assert fetched == []


def test_monitors_sharing_a_baseline_profile_load_it_once_per_tick(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_model(client)
    log_hours(client, range(0, 4), rows=40)
    client.close()
    with sqlite_store.session() as session:
        reference = service.merged_profile(session, "m")
    key = monitors.save_baseline_profile(sqlite_store, "ref", reference)
    loads: list[str] = []
    get = sqlite_store.artifacts.get

    def counting_get(name: str) -> bytes:
        loads.append(name)
        return get(name)

    monkeypatch.setattr(sqlite_store.artifacts, "get", counting_get)
    for name, kind in (("a", "data_drift"), ("b", "new_categories"), ("c", "prediction_drift")):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {
                    "name": name,
                    "kind": kind,
                    "target": {"model": "m"},
                    "baseline": {"type": "profile", "artifact": key},
                }
            ),
        )
    results = monitors.backfill(sqlite_store, T0, T0 + 4 * HOUR, now=T0 + 4 * HOUR)
    assert len(results) == 3 * 4
    assert all(r.value is not None for r in results)
    assert loads == [key]
