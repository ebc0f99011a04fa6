"""Realized and estimated performance read back from a real store, logged through vigil.Client."""

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
)
from vigil.analysis.performance.columns import PerformanceOptions
from vigil.errors import InvalidInputError
from vigil.performance import service
from vigil.store.core import Store


def test_realized_metrics_follow_late_labels_with_coverage(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(1)
    days = [binary_day(rng, d, 300) for d in range(3)]
    for data in days:
        log_day(client, data)
    first = service.realized(store, "churn", window="day").to_dict()
    assert [w["n_predictions"] for w in first["windows"]] == [300, 300, 300]
    assert all(w["metrics"] is None and w["coverage"] == 0 for w in first["windows"])
    # Labels of day 0 arrive (all), then half of day 1's, a week later.
    client.log_labels("churn", days[0]["id"], days[0]["label"], timestamp=T0 + 8 * DAY)
    half = slice(0, 150)
    ids1, labels1 = days[1]["id"], days[1]["label"]
    client.log_labels("churn", ids1[half], labels1[half], timestamp=T0 + 9 * DAY)
    report = service.realized(store, "churn", window="day").to_dict()
    assert report["task"] == "classification"
    assert report["classes"] == ["0", "1"]
    assert report["positive_class"] == "1"
    w0, w1, w2 = report["windows"]
    assert (w0["coverage"], w1["coverage"], w2["coverage"]) == (1.0, 0.5, 0.0)
    assert w2["metrics"] is None
    for window, data, part in ((w0, days[0], slice(None)), (w1, days[1], half)):
        truth, pred, score = data["label"][part], data["pred"][part], data["score"][part]
        got = window["metrics"]
        assert got["n"] == len(truth)
        assert got["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred), abs=1e-12)
        assert got["f1"] == pytest.approx(sk.f1_score(truth, pred), abs=1e-12)
        assert got["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, score), abs=1e-12)
        assert got["log_loss"] == pytest.approx(sk.log_loss(truth, score), abs=1e-12)
        assert got["confusion_matrix"] == sk.confusion_matrix(truth, pred).tolist()
    # A corrected label (latest wins) changes the metrics.
    flipped = 1 - days[0]["label"][:10]
    client.log_labels("churn", days[0]["id"][:10], flipped, timestamp=T0 + 10 * DAY)
    again = service.realized(store, "churn", window="day", end=T0 + DAY).to_dict()
    truth = np.r_[flipped, days[0]["label"][10:]]
    assert again["windows"][0]["metrics"]["accuracy"] == pytest.approx(
        sk.accuracy_score(truth, days[0]["pred"]), abs=1e-12
    )
    # One segment: only its rows.
    fr = service.realized(
        store, "churn", window="day", end=T0 + DAY, segment="country=FR"
    ).to_dict()
    mask = days[0]["country"] == "FR"
    assert fr["windows"][0]["n_predictions"] == int(mask.sum())
    assert fr["windows"][0]["metrics"]["accuracy"] == pytest.approx(
        sk.accuracy_score(truth[mask], days[0]["pred"][mask]), abs=1e-12
    )
    client.close()


def test_regression_and_multiclass_conventions(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    rng = np.random.default_rng(2)
    n = 200
    client.create_model("price", predictions=["yhat"], id_column="id", timestamp_column="ts")
    y = rng.normal(100, 10, n)
    yhat = y + rng.normal(0, 3, n)
    ids = [f"p{i}" for i in range(n)]
    client.log("price", {"id": ids, "ts": [T0] * n, "yhat": yhat})
    client.log_labels("price", ids, y)
    got = service.realized(sqlite_store, "price", window="week").to_dict()
    assert got["task"] == "regression"
    metrics = metrics_price = got["windows"][0]["metrics"]
    assert metrics["mae"] == pytest.approx(sk.mean_absolute_error(y, yhat), rel=1e-12)
    assert metrics["rmse"] == pytest.approx(sk.root_mean_squared_error(y, yhat), rel=1e-12)
    assert metrics["mape"] == pytest.approx(sk.mean_absolute_percentage_error(y, yhat), rel=1e-12)
    assert metrics["r2"] == pytest.approx(sk.r2_score(y, yhat), rel=1e-12)

    classes = ["cat", "dog", "owl"]
    client.create_model(
        "zoo",
        scores=["proba_cat", "proba_dog", "proba_owl"],
        id_column="id",
        timestamp_column="ts",
    )
    proba = rng.dirichlet(np.ones(3), n)
    truth = np.array(classes)[[rng.choice(3, p=p) for p in proba]]
    client.log(
        "zoo",
        {"id": ids, "ts": [T0] * n, **{f"proba_{c}": proba[:, i] for i, c in enumerate(classes)}},
    )
    client.log_labels("zoo", ids, truth.tolist())
    zoo = service.realized(sqlite_store, "zoo", window="day").to_dict()
    assert zoo["classes"] == classes
    metrics = zoo["windows"][0]["metrics"]
    predicted = np.array(classes)[proba.argmax(axis=1)]  # no prediction column: the argmax
    assert metrics["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted), abs=1e-12)
    assert metrics["roc_auc"] == pytest.approx(
        sk.roc_auc_score(truth, proba, multi_class="ovr", labels=classes), abs=1e-12
    )
    assert metrics["per_class"]["owl"]["recall"] == pytest.approx(
        sk.recall_score(truth, predicted, labels=["owl"], average=None)[0], abs=1e-12
    )
    as_regression = PerformanceOptions(task="regression")
    with pytest.raises(InvalidInputError, match="need a prediction column"):
        service.realized(sqlite_store, "zoo", window="week", options=as_regression).to_dict()
    with pytest.raises(InvalidInputError, match="window 'fortnight' is not one of"):
        service.realized(sqlite_store, "price", window="fortnight").to_dict()
    monthly = service.realized(sqlite_store, "price", window="Month").to_dict()
    assert monthly["window"] == "month"
    assert [(w["start"], w["end"]) for w in monthly["windows"]] == [
        (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    ]
    assert monthly["windows"][0]["metrics"]["mae"] == metrics_price["mae"]
    with pytest.raises(InvalidInputError, match="segment must be"):
        service.realized(sqlite_store, "price", segment="FR").to_dict()
    client.close()


def test_estimated_performance_from_the_store(sqlite_store: Store, tmp_path: Path) -> None:
    """Labels of the reference week only; estimates of later days within 0.03 of realized."""
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(3)
    days = []
    for d in range(9):
        shift = 0.0 if d < 7 else 0.9
        data = binary_day(rng, d, 2500 if d < 7 else 6000, shift=shift)
        log_day(client, data)
        days.append(data)
        if d < 7:
            client.log_labels("churn", data["id"], data["label"])
    report = service.estimated(
        sqlite_store,
        "churn",
        reference_start=T0,
        reference_end=T0 + 7 * DAY,
        start=T0 + 7 * DAY,
        window="day",
    ).to_dict()
    assert report["reference"]["n_labelled"] == 7 * 2500
    assert len(report["windows"]) == 2
    for window, data in zip(report["windows"], days[7:], strict=True):
        assert window["realized"] is None
        assert window["coverage"] == 0.0
        est = window["estimated"]
        assert est["accuracy"] == pytest.approx(
            sk.accuracy_score(data["label"], data["pred"]), abs=0.03
        )
        assert est["roc_auc"] == pytest.approx(
            sk.roc_auc_score(data["label"], data["score"]), abs=0.03
        )
    with pytest.raises(InvalidInputError, match="no predictions in the reference"):
        service.estimated(
            sqlite_store,
            "churn",
            reference_start=T0 - 7 * DAY,
            reference_end=T0 - dt.timedelta(days=1),
        ).to_dict()
    client.close()
