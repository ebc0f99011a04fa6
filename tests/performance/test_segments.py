"""Segments that explain a performance drop, and features whose drift goes with it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as sk

from tests.performance.conftest import DAY, T0, client_for
from vigil.analysis.performance.segments import SegmentStat, correlate, decompose, rank_by_harm
from vigil.performance import breakdown
from vigil.store.core import Store


def test_decomposition_matches_hand_computed_values() -> None:
    baseline = {"A": SegmentStat(50, 0.9), "B": SegmentStat(50, 0.8)}
    current = {"A": SegmentStat(30, 0.9), "B": SegmentStat(70, 0.6), "C": SegmentStat(0, None)}
    changes = {c.value: c for c in decompose("country", baseline, current, 0.85)}
    assert changes["A"].within == pytest.approx(0.0)
    assert changes["A"].mix == pytest.approx((0.3 - 0.5) * (0.9 - 0.85))
    assert changes["B"].within == pytest.approx(0.7 * (0.6 - 0.8))
    assert changes["B"].mix == pytest.approx((0.7 - 0.5) * (0.8 - 0.85))
    assert changes["C"].contribution == 0.0
    total = sum(c.contribution for c in changes.values())
    assert total == pytest.approx((0.3 * 0.9 + 0.7 * 0.6) - 0.85)  # exact for a mean metric
    ranked = rank_by_harm(list(changes.values()), "accuracy")
    assert [c.value for c in ranked] == ["B", "A", "C"]
    assert next(c.value for c in rank_by_harm(list(changes.values()), "log_loss")) == "C"


def test_correlation_is_pearson_and_most_harmful_first() -> None:
    metric = [0.9, 0.88, 0.8, None, 0.7, 0.65]
    drift = {
        "x": [0.01, 0.02, 0.1, 0.3, 0.2, 0.25],
        "noise": [0.05, 0.01, 0.04, 0.02, 0.03, 0.05],
        "flat": [0.1] * 6,
    }
    found = {c.feature: c for c in correlate(metric, drift, "accuracy")}
    assert "flat" not in found  # constant: no correlation
    keep = [0, 1, 2, 4, 5]
    expected = stats.pearsonr([drift["x"][i] for i in keep], [metric[i] for i in keep])[0]
    assert found["x"].correlation == pytest.approx(expected, abs=1e-12)
    assert found["x"].n_windows == 5
    assert next(c.feature for c in correlate(metric, drift, "accuracy")) == "x"


def test_segment_report_from_the_store(sqlite_store: Store, tmp_path: Path) -> None:
    """FR degrades over days 2-5 while x1 drifts more each day; x3 never drifts."""
    client = client_for(sqlite_store, tmp_path)
    client.create_model(
        "churn",
        features=["x1", "x3"],
        predictions=["pred"],
        scores=["score"],
        segments=["country"],
        id_column="id",
        timestamp_column="ts",
        window=dt.timedelta(days=1),
    )
    rng = np.random.default_rng(9)
    logged = []
    for day in range(6):
        n = 1500
        shift = 0.0 if day < 2 else 0.4 * (day - 1)
        x1 = rng.normal(shift, 1.0, n)
        country = rng.choice(["DE", "FR"], n, p=[0.6, 0.4])
        score = 1 / (1 + np.exp(-2 * x1))
        label = (rng.random(n) < score).astype(int)
        pred = (score >= 0.5).astype(int)
        # FR's labels disagree with the model more and more once x1 drifts.
        corrupt = (country == "FR") & (rng.random(n) < (0.0 if day < 2 else 0.2 * (day - 1)))
        label = np.where(corrupt, 1 - pred, label)
        ids = [f"d{day}-{i}" for i in range(n)]
        times = [T0 + day * DAY + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 86400, n)]
        data = {
            "id": ids,
            "ts": times,
            "x1": x1,
            "x3": rng.normal(0, 1, n),
            "country": country,
            "pred": pred,
            "score": score,
        }
        client.log("churn", data)
        client.log_labels("churn", ids, label)
        logged.append((country, pred, label))
    report = breakdown.segment_report(
        sqlite_store,
        "churn",
        baseline_start=T0,
        baseline_end=T0 + 2 * DAY,
        start=T0 + 2 * DAY,
        end=T0 + 6 * DAY,
        metric="accuracy",
    ).to_dict()
    base = [np.concatenate([x[i] for x in logged[:2]]) for i in range(3)]
    cur = [np.concatenate([x[i] for x in logged[2:]]) for i in range(3)]
    assert report["baseline"]["value"] == pytest.approx(sk.accuracy_score(base[2], base[1]))
    assert report["current"]["value"] == pytest.approx(sk.accuracy_score(cur[2], cur[1]))
    assert report["change"] < -0.05
    first = report["segments"][0]
    assert (first["column"], first["value"]) == ("country", "FR")
    fr_b, fr_c = base[0] == "FR", cur[0] == "FR"
    assert first["metric_current"] == pytest.approx(sk.accuracy_score(cur[2][fr_c], cur[1][fr_c]))
    assert first["share_current"] == pytest.approx(fr_c.mean())
    assert first["within"] == pytest.approx(
        fr_c.mean()
        * (
            sk.accuracy_score(cur[2][fr_c], cur[1][fr_c])
            - sk.accuracy_score(base[2][fr_b], base[1][fr_b])
        )
    )
    assert report["residual"]["country"] == pytest.approx(0.0, abs=1e-12)
    assert len(report["windows"]) == 4
    correlations = report["drift_correlation"]
    assert correlations[0]["feature"] == "x1"
    assert correlations[0]["correlation"] < -0.8
    client.close()
