"""Fairness figures against values computed by hand, and per window from the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.performance.conftest import T0, binary_day, client_for, create_binary, log_day
from vigil.analysis.performance.fairness import fairness
from vigil.errors import InvalidInputError
from vigil.performance import breakdown
from vigil.store.core import Store


def _rows(spec: list[tuple[str, str, str | None, int]]) -> tuple[np.ndarray, ...]:
    groups, preds, labels = [], [], []
    for group, pred, label, count in spec:
        groups += [group] * count
        preds += [pred] * count
        labels += [label] * count
    return np.array(groups, object), np.array(preds, object), np.array(labels, object)


def test_fairness_matches_hand_computed_values() -> None:
    # Group a: 10 rows, 6 selected; of its 5 labelled positives, 4 selected.
    # Group b: 8 rows, 2 selected; of its 4 labelled positives, 1 selected.
    # Group c: 4 rows, 2 selected; no labelled positive.
    groups, preds, labels = _rows(
        [
            ("a", "1", "1", 4),
            ("a", "1", "0", 2),
            ("a", "0", "1", 1),
            ("a", "0", None, 3),
            ("b", "1", "1", 1),
            ("b", "1", None, 1),
            ("b", "0", "1", 3),
            ("b", "0", "0", 3),
            ("c", "1", None, 2),
            ("c", "0", "0", 2),
        ]
    )
    result = fairness(groups, preds, labels, "1")
    assert result.groups["a"].selection_rate == pytest.approx(0.6)
    assert result.groups["b"].selection_rate == pytest.approx(0.25)
    assert result.groups["c"].selection_rate == pytest.approx(0.5)
    assert result.groups["a"].true_positive_rate == pytest.approx(0.8)
    assert result.groups["b"].true_positive_rate == pytest.approx(0.25)
    assert result.groups["c"].true_positive_rate is None
    assert result.demographic_parity_difference == pytest.approx(0.6 - 0.25)
    assert result.disparate_impact_ratio == pytest.approx(0.25 / 0.6)
    assert result.equal_opportunity_difference == pytest.approx(0.8 - 0.25)
    # Groups under min_rows are reported but left out: without b (8 rows), a vs c.
    small = fairness(groups, preds, labels, "1", min_rows=9)
    assert "b" in small.groups
    assert small.demographic_parity_difference is None  # only a has 9+ rows
    mid = fairness(groups, preds, labels, "1", min_rows=4)
    assert mid.demographic_parity_difference == pytest.approx(0.35)
    with pytest.raises(InvalidInputError, match="unknown fairness metric"):
        result.value("parity")


def test_no_selection_and_missing_groups() -> None:
    groups = np.array(["a", "b", None], object)
    preds = np.array(["0", "0", "1"], object)
    labels = np.array([None, None, None], object)
    result = fairness(groups, preds, labels, "1")
    assert sorted(result.groups) == ["a", "b"]  # the row without a group is left out
    assert result.demographic_parity_difference == 0.0
    assert result.disparate_impact_ratio is None  # nobody selected: the ratio is undefined
    assert result.equal_opportunity_difference is None


def test_fairness_per_window_from_the_store(sqlite_store: Store, tmp_path: Path) -> None:
    client = client_for(sqlite_store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(8)
    data = binary_day(rng, 0, 500)
    log_day(client, data)
    report = breakdown.fairness_report(
        sqlite_store, "churn", attribute="country", window="day"
    ).to_dict()
    assert report["positive_class"] == "1"
    (window,) = report["windows"]
    assert window["start"] == T0
    rates = {c: float(np.mean(data["pred"][data["country"] == c])) for c in ("DE", "FR")}
    assert window["groups"]["FR"]["selection_rate"] == pytest.approx(rates["FR"])
    assert window["demographic_parity_difference"] == pytest.approx(abs(rates["DE"] - rates["FR"]))
    assert window["equal_opportunity_difference"] is None  # no labels yet
    with pytest.raises(InvalidInputError, match="not a segment column"):
        breakdown.fairness_report(sqlite_store, "churn", attribute="x1")
    client.close()
