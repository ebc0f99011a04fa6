"""Monitor kinds realized_performance, estimated_performance and fairness on a real store, with
traffic and labels logged through vigil.Client; late labels re-evaluate past windows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk

from tests.performance.conftest import DAY, T0, binary_day, client_for, create_binary, log_day
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.store.core import Store

MINUTE = dt.timedelta(minutes=1)


def _monitor(kind: str, **extra: object) -> Monitor:
    body = {"name": kind, "kind": kind, "target": {"model": "churn"}, "window": "day", **extra}
    return Monitor.model_validate(body)


def test_late_labels_reevaluate_realized_performance(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(4)
    days = [binary_day(rng, d, 400) for d in range(3)]
    for data in days:
        log_day(client, data)
    monitor = _monitor(
        "realized_performance",
        options={"metric": "accuracy", "min_labels": 50},
        threshold={"type": "static", "lower": 0.7},
        grace=dt.timedelta(days=3),
    )
    monitors.save_monitor(store, monitor)
    first = monitors.evaluate_due(store, now=T0 + 3 * DAY + MINUTE)
    assert [r.window_start for r in first][-3:] == [T0, T0 + DAY, T0 + 2 * DAY]
    assert all(r.value is None for r in first)  # no labels yet
    assert "0 of 400 predictions labelled" in first[-1].message
    assert monitors.evaluate_due(store, now=T0 + 3 * DAY + 2 * MINUTE) == []
    # Day 1's labels arrive late, and they say the model was mostly wrong that day.
    wrong = 1 - days[1]["pred"]
    wrong[:100] = days[1]["pred"][:100]
    client.log_labels("churn", days[1]["id"], wrong, timestamp=T0 + 3 * DAY + 3 * MINUTE)
    again = monitors.evaluate_due(store, now=T0 + 3 * DAY + 4 * MINUTE)
    assert [r.window_start for r in again] == [T0 + DAY]
    (result,) = again
    assert result.value == pytest.approx(sk.accuracy_score(wrong, days[1]["pred"]), abs=1e-12)
    assert result.breached
    assert "25% of 400" not in result.message  # all 400 labelled
    assert "on 400 labelled predictions (100% of 400)" in result.message
    with store.session() as session:
        (alert,) = monitors.list_alerts(session, state="open")
    assert alert.first_window_start == T0 + DAY
    # Good labels for day 0 re-evaluate day 0 only, which passes.
    client.log_labels("churn", days[0]["id"], days[0]["label"], timestamp=T0 + 3 * DAY)
    third = monitors.evaluate_due(store, now=T0 + 3 * DAY + 6 * MINUTE)
    assert [(r.window_start, r.breached) for r in third] == [(T0, False)]
    assert third[0].value == pytest.approx(
        sk.accuracy_score(days[0]["label"], days[0]["pred"]), abs=1e-12
    )
    client.close()


def test_estimated_performance_monitor_tracks_realized(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(5)
    days = []
    for d in range(10):
        data = binary_day(rng, d, 2000 if d < 7 else 5000, shift=0.0 if d < 7 else 1.2)
        log_day(client, data)
        if d < 7:
            client.log_labels("churn", data["id"], data["label"])
        days.append(data)
    for metric, realized in (
        ("roc_auc", lambda d: sk.roc_auc_score(d["label"], d["score"])),
        ("accuracy", lambda d: sk.accuracy_score(d["label"], d["pred"])),
    ):
        name = f"estimated-{metric}"
        monitors.save_monitor(
            sqlite_store,
            _monitor(
                "estimated_performance",
                name=name,
                options={"metric": metric},
                baseline={"type": "period", "start": T0, "end": T0 + 7 * DAY},
                threshold={"type": "static", "lower": 0.5},
            ),
        )
        results = monitors.backfill(
            sqlite_store, T0 + 7 * DAY, T0 + 10 * DAY, monitors=[name], now=T0 + 11 * DAY
        )
        assert len(results) == 3
        for result, data in zip(results, days[7:], strict=True):
            assert result.value == pytest.approx(realized(data), abs=0.03)
            assert not result.breached
    # A reference period without predictions: the window records the error, nothing crashes.
    monitors.save_monitor(
        sqlite_store,
        _monitor(
            "estimated_performance",
            name="empty-reference",
            options={"reference_start": T0 - 9 * DAY, "reference_end": T0 - 2 * DAY},
        ),
    )
    (empty,) = monitors.backfill(
        sqlite_store, T0 + 7 * DAY, T0 + 8 * DAY, monitors=["empty-reference"], now=T0 + 11 * DAY
    )
    assert empty.value is None
    assert "no predictions in the reference period" in empty.message
    # By default the calibration is learned on the trailing baseline's windows (24 days here).
    monitors.save_monitor(sqlite_store, _monitor("estimated_performance", name="trailing"))
    trailing = monitors.backfill(
        sqlite_store, T0 + 7 * DAY, T0 + 10 * DAY, monitors=["trailing"], now=T0 + 11 * DAY
    )
    for result, data in zip(trailing, days[7:], strict=True):
        assert result.value is not None, result.message
        assert result.value == pytest.approx(
            sk.accuracy_score(data["label"], data["pred"]), abs=0.03
        )
    with pytest.raises(ValueError, match="not on a stored profile"):
        _monitor(
            "estimated_performance",
            name="profile",
            baseline={"type": "profile", "artifact": "monitor-baselines/x"},
        )
    with pytest.raises(ValueError, match="cannot be estimated"):
        _monitor(
            "estimated_performance",
            name="bad",
            options={"metric": "log_loss"},
            baseline={"type": "period", "start": T0, "end": T0 + DAY},
        )
    client.close()


def test_fairness_monitor_flags_a_disadvantaged_group(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(6)
    days = [binary_day(rng, d, 1000) for d in range(2)]
    # Day 1: the model stops selecting half of FR's would-be positives.
    fr = days[1]["country"] == "FR"
    dropped = fr & (days[1]["pred"] == 1) & (rng.random(1000) < 0.5)
    days[1]["pred"] = np.where(dropped, 0, days[1]["pred"])
    for data in days:
        log_day(client, data)
        client.log_labels("churn", data["id"], data["label"])
    monitors.save_monitor(
        sqlite_store,
        _monitor(
            "fairness",
            options={"attribute": "country", "metric": "demographic_parity_difference"},
            threshold={"type": "static", "upper": 0.1},
        ),
    )
    results = monitors.backfill(sqlite_store, T0, T0 + 2 * DAY, now=T0 + 3 * DAY)
    for result, data in zip(results, days, strict=True):
        rates = {c: float(np.mean(data["pred"][data["country"] == c])) for c in ("DE", "FR")}
        assert result.value == pytest.approx(abs(rates["DE"] - rates["FR"]), abs=1e-12)
    assert [r.breached for r in results] == [False, True]
    monitors.save_monitor(
        sqlite_store,
        _monitor(
            "fairness",
            name="eo",
            options={"attribute": "country", "metric": "equal_opportunity_difference"},
            threshold={"type": "static", "upper": 0.1},
        ),
    )
    (eo,) = monitors.backfill(
        sqlite_store, T0 + DAY, T0 + 2 * DAY, monitors=["eo"], now=T0 + 3 * DAY
    )
    data = days[1]
    tpr = {
        c: float(np.mean(data["pred"][(data["country"] == c) & (data["label"] == 1)]))
        for c in ("DE", "FR")
    }
    assert eo.value == pytest.approx(abs(tpr["DE"] - tpr["FR"]), abs=1e-12)
    with pytest.raises(ValueError, match="four-fifths"):
        _monitor(
            "fairness",
            name="di",
            options={"attribute": "country", "metric": "disparate_impact_ratio"},
        )
    with pytest.raises(ValueError, match="unknown fairness metric"):
        _monitor("fairness", name="x", options={"attribute": "country", "metric": "parity"})
    client.close()
