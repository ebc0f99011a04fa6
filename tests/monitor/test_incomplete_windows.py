"""Performance monitors never alert on an incomplete window (labels below the model's
`min_label_coverage`, or fewer rows than the metric's minimum): the window is recorded with no
value and `"status": "incomplete"`; once its labels arrive it is judged and may alert."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk

from tests.performance.conftest import (
    DAY,
    T0,
    binary_day,
    client_for,
    create_binary,
    log_day,
    sqlite_store,
)
from vigil import monitor as monitors
from vigil.monitor import Monitor
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorResultRow

__all__ = ["sqlite_store"]

MINUTE = dt.timedelta(minutes=1)


def _monitor(kind: str, **extra: object) -> Monitor:
    body = {"name": kind, "kind": kind, "target": {"model": "churn"}, "window": "day", **extra}
    return Monitor.model_validate(body)


def _details(sqlite_store: Store, start: dt.datetime) -> dict[str, object]:
    with sqlite_store.session() as session:
        (row,) = [
            r
            for r in session.query(MonitorResultRow).all()
            if r.window_start.date() == start.date()
        ]
        return dict(row.details)


def _at(results: list[monitors.WindowResult], start: dt.datetime) -> monitors.WindowResult:
    (result,) = [r for r in results if r.window_start == start]
    return result


def _open_alerts(sqlite_store: Store) -> int:
    with sqlite_store.session() as session:
        return len(monitors.list_alerts(session, state="open"))


def test_nine_labels_of_five_thousand_never_alert_then_the_labelled_window_does(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    data = binary_day(np.random.default_rng(16), 0, 5000)
    log_day(client, data)
    ids, pred = np.asarray(data["id"]), np.asarray(data["pred"])
    wrong = 1 - pred  # labels that make every prediction wrong: realized accuracy 0
    client.log_labels("churn", ids[:9].tolist(), wrong[:9], timestamp=T0 + DAY + MINUTE)
    monitors.save_monitor(
        sqlite_store,
        _monitor(
            "realized_performance",
            options={"metric": "accuracy"},
            threshold={"type": "static", "lower": 0.7},
            grace=dt.timedelta(days=3),
        ),
    )
    first = _at(monitors.evaluate_due(sqlite_store, now=T0 + DAY + 2 * MINUTE), T0)
    assert first.value is None
    assert not first.breached
    assert first.message.startswith("incomplete: 9 of 5,000 predictions labelled (0.2%)")
    assert "realized accuracy 0 not judged" in first.message
    details = _details(sqlite_store, T0)
    assert details["status"] == "incomplete"
    assert details["coverage"] == pytest.approx(9 / 5000)
    assert details["value"] == 0.0
    assert details["min_label_coverage"] == 0.5
    assert _open_alerts(sqlite_store) == 0
    # The rest of the labels arrive, as bad: the window is complete now, judged, and alerts.
    client.log_labels("churn", ids[9:].tolist(), wrong[9:], timestamp=T0 + DAY + 3 * MINUTE)
    again = _at(monitors.evaluate_due(sqlite_store, now=T0 + DAY + 4 * MINUTE), T0)
    assert again.value == pytest.approx(sk.accuracy_score(wrong, pred), abs=1e-12)
    assert again.breached
    assert _details(sqlite_store, T0)["status"] == "complete"
    assert _open_alerts(sqlite_store) == 1
    client.close()


def test_the_models_min_label_coverage_decides(sqlite_store: Store, tmp_path: Path) -> None:
    """At 10% coverage a model with min_label_coverage 0.05 is judged (and alerts), one with
    the default 0.5 is not."""
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    client.create_model(
        "lenient-spec",
        features=["x1"],
        predictions=["pred"],
        scores=["score"],
        segments=["country"],
        id_column="id",
        timestamp_column="ts",
        window=dt.timedelta(days=1),
        min_label_coverage=0.05,
    )
    data = binary_day(np.random.default_rng(17), 0, 1000)
    wrong = 1 - np.asarray(data["pred"])
    for name in ("churn", "lenient-spec"):
        log_day(client, data, name)
        client.log_labels(name, list(data["id"])[:100], wrong[:100], timestamp=T0 + DAY)
    for name in ("churn", "lenient-spec"):
        monitors.save_monitor(
            sqlite_store,
            Monitor.model_validate(
                {
                    "name": f"acc-{name}",
                    "kind": "realized_performance",
                    "target": {"model": name},
                    "window": "day",
                    "threshold": {"type": "static", "lower": 0.7},
                }
            ),
        )
    results = {
        r.monitor: r
        for r in monitors.evaluate_due(sqlite_store, now=T0 + DAY + MINUTE)
        if r.window_start == T0
    }
    strict, lenient = results["acc-churn"], results["acc-lenient-spec"]
    assert strict.value is None
    assert not strict.breached
    assert "below the model's min_label_coverage 50%" in strict.message
    assert lenient.value == 0.0
    assert lenient.breached
    client.close()


def test_a_metric_below_its_minimum_is_incomplete(sqlite_store: Store, tmp_path: Path) -> None:
    """Every prediction labelled, but only 3 positives: ROC AUC (10 rows per class) is not
    judged, accuracy (30 rows) is."""
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    data = binary_day(np.random.default_rng(18), 0, 200)
    labels = np.zeros(200, dtype=np.int64)
    labels[:3] = 1
    log_day(client, data)
    client.log_labels("churn", list(data["id"]), labels, timestamp=T0 + DAY)
    for metric in ("roc_auc", "accuracy"):
        monitors.save_monitor(
            sqlite_store,
            _monitor(
                "realized_performance",
                name=metric,
                options={"metric": metric},
                threshold={"type": "static", "lower": 0.99},
            ),
        )
    results = {
        r.monitor: r
        for r in monitors.evaluate_due(sqlite_store, now=T0 + DAY + MINUTE)
        if r.window_start == T0
    }
    assert results["roc_auc"].value is None
    assert not results["roc_auc"].breached
    assert "3 labelled rows of class '1', fewer than 10" in results["roc_auc"].message
    assert results["accuracy"].value == pytest.approx(
        sk.accuracy_score(labels, np.asarray(data["pred"])), abs=1e-12
    )
    assert results["accuracy"].breached
    client.close()


def test_estimated_performance_on_too_few_predictions_is_incomplete(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """The estimate needs no labels, but 20 predictions are fewer than accuracy's minimum (30);
    a full window is estimated, with its coverage and (labels complete) its realized value."""
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(19)
    reference = binary_day(rng, 0, 2000)
    log_day(client, reference)
    client.log_labels("churn", list(reference["id"]), reference["label"])
    small, full = binary_day(rng, 1, 20), binary_day(rng, 2, 2000)
    log_day(client, small)
    log_day(client, full)
    client.log_labels("churn", list(full["id"]), full["label"])
    monitors.save_monitor(
        sqlite_store,
        _monitor(
            "estimated_performance",
            options={"metric": "accuracy"},
            baseline={"type": "period", "start": T0, "end": T0 + DAY},
            threshold={"type": "static", "lower": 0.99},
        ),
    )
    thin, whole = monitors.backfill(sqlite_store, T0 + DAY, T0 + 3 * DAY, now=T0 + 4 * DAY)
    assert thin.value is None
    assert not thin.breached
    assert thin.message.startswith("incomplete: 20 predictions, fewer than 30")
    assert whole.value is not None
    assert whole.breached
    details = _details(sqlite_store, T0 + 2 * DAY)
    assert details["coverage"] == 1.0
    assert details["complete"] is True
    assert details["realized"] == pytest.approx(
        sk.accuracy_score(full["label"], full["pred"]),
        abs=1e-12,
    )
    client.close()


def test_equal_opportunity_on_incomplete_labels_is_incomplete(
    sqlite_store: Store, tmp_path: Path
) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    data = binary_day(np.random.default_rng(20), 0, 1000)
    log_day(client, data)
    client.log_labels("churn", list(data["id"])[:200], data["label"][:200], timestamp=T0 + DAY)
    monitors.save_monitor(
        sqlite_store,
        _monitor(
            "fairness",
            options={"metric": "equal_opportunity_difference", "attribute": "country"},
            threshold={"type": "static", "upper": 0.0},
        ),
    )
    result = _at(monitors.evaluate_due(sqlite_store, now=T0 + DAY + MINUTE), T0)
    assert result.value is None
    assert not result.breached
    assert result.message.startswith("incomplete: 200 of 1,000 predictions labelled (20.0%)")
    assert _details(sqlite_store, T0)["coverage"] == pytest.approx(0.2)
    client.close()
