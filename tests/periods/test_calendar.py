"""Months, quarters, years and custom periods: every figure is computed from the period's own
rows (ROC AUC and PR AUC do not add up over sub-windows), checked against scikit-learn on the
rows whose times fall in each period, across Dec 31 -> Jan 1, Jan 31 -> Feb 1 and Feb 29."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sklearn import metrics as sk

from tests.periods.conftest import Traffic, local_client
from vigil.errors import InvalidInputError
from vigil.performance import breakdown, service
from vigil.store.core import Store
from vigil.windows import Grid

UTC = dt.UTC


def _bounds(window: dict[str, object]) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.fromisoformat(str(window["start"]).replace("Z", "+00:00")),
        dt.datetime.fromisoformat(str(window["end"]).replace("Z", "+00:00")),
    )


EXPECTED_STARTS = {
    "month": [dt.datetime(2023, 12, 1, tzinfo=UTC)]
    + [dt.datetime(2024, m, 1, tzinfo=UTC) for m in range(1, 13)]
    + [dt.datetime(2025, 1, 1, tzinfo=UTC)],
    "quarter": [dt.datetime(2023, 10, 1, tzinfo=UTC)]
    + [dt.datetime(2024, m, 1, tzinfo=UTC) for m in (1, 4, 7, 10)]
    + [dt.datetime(2025, 1, 1, tzinfo=UTC)],
    "year": [dt.datetime(y, 1, 1, tzinfo=UTC) for y in (2023, 2024, 2025)],
}


@pytest.mark.parametrize("window", ["month", "quarter", "year"])
def test_classification_per_calendar_period_matches_sklearn(
    logged: tuple[Path, Traffic], window: str
) -> None:
    folder, data = logged
    client = local_client(folder)
    report = client.performance.realized("churn", window=window)
    client.close()
    assert report["window"] == window
    windows = report["windows"]
    assert [_bounds(w)[0] for w in windows] == EXPECTED_STARTS[window]
    assert sum(w["n_predictions"] for w in windows) == len(data.ts)
    for w in windows:
        start, end = _bounds(w)
        rows = data.rows(start, end)
        truth, score, pred = data.label[rows], data.score[rows], data.pred[rows]
        got = w["metrics"]
        assert w["n_predictions"] == w["n_labelled"] == len(rows)
        assert got["accuracy"] == pytest.approx(sk.accuracy_score(truth, pred), abs=1e-12)
        if len(rows) >= 30:  # below the minimum, the report says so instead (docs)
            assert got["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, score), abs=1e-12)
            assert got["average_precision"] == pytest.approx(
                sk.average_precision_score(truth, score), abs=1e-12
            )


def test_calendar_edges_land_in_their_own_period(logged: tuple[Path, Traffic]) -> None:
    folder, data = logged
    client = local_client(folder)
    months = {
        _bounds(w)[0]: w["n_predictions"]
        for w in client.performance.realized("churn", window="month")["windows"]
    }
    client.close()
    # 2024-01-31T23:59:59.999999 is January's; 2024-02-01T00:00 is February's; Feb 29 exists.
    for start, end in [
        (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 2, 1, tzinfo=UTC)),
        (dt.datetime(2024, 2, 1, tzinfo=UTC), dt.datetime(2024, 3, 1, tzinfo=UTC)),
        (dt.datetime(2024, 12, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC)),
    ]:
        assert months[start] == len(data.rows(start, end))
    february = data.rows(dt.datetime(2024, 2, 1, tzinfo=UTC), dt.datetime(2024, 3, 1, tzinfo=UTC))
    assert any(data.ts[i].day == 29 for i in february)


@pytest.mark.parametrize("window", ["month", "quarter", "year"])
def test_regression_mae_per_calendar_period_matches_sklearn(store: Store, window: str) -> None:
    report = service.realized(store, "price", window=window).to_dict()
    data_windows = report["windows"]
    assert [w["start"] for w in data_windows] == EXPECTED_STARTS[window]
    for w in data_windows:
        assert w["metrics"]["n"] == w["n_predictions"]


def test_regression_mae_against_sklearn(logged: tuple[Path, Traffic]) -> None:
    folder, data = logged
    client = local_client(folder)
    for window in ("month", "quarter", "year"):
        for w in client.performance.realized("price", window=window)["windows"]:
            rows = data.rows(*_bounds(w))
            truth, yhat = data.target[rows], data.yhat[rows]
            assert w["metrics"]["mae"] == pytest.approx(
                sk.mean_absolute_error(truth, yhat), rel=1e-12
            )
            assert w["metrics"]["rmse"] == pytest.approx(
                sk.mean_squared_error(truth, yhat) ** 0.5, rel=1e-12
            )
    client.close()


def test_custom_period_is_one_window_of_exactly_its_rows(logged: tuple[Path, Traffic]) -> None:
    folder, data = logged
    start = dt.datetime(2024, 1, 15, 6, tzinfo=UTC)
    end = dt.datetime(2024, 11, 2, 18, 30, tzinfo=UTC)
    period = Grid.period(start, end).to_str()
    assert period == "2024-01-15T06:00:00Z/2024-11-02T18:30:00Z"
    client = local_client(folder)
    report = client.performance.realized("churn", window=period, start=start, end=end)
    client.close()
    assert report["window"] == period
    (only,) = report["windows"]
    assert _bounds(only) == (start, end)
    rows = data.rows(start, end)
    assert only["n_predictions"] == len(rows)
    assert only["metrics"]["roc_auc"] == pytest.approx(
        sk.roc_auc_score(data.label[rows], data.score[rows]), abs=1e-12
    )


def test_period_longer_than_a_year_and_neighbours(store: Store) -> None:
    """A period may span years (no 31-day or 366-day cap); without start/end its neighbours
    (windows of its length) hold the rows outside it."""
    whole = "2023-12-01/2025-02-01"
    report = service.realized(store, "churn", window=whole).to_dict()
    assert len(report["windows"]) == 1
    halves = service.realized(store, "churn", window="2024-01-01/2024-07-01").to_dict()
    starts = [w["start"] for w in halves["windows"]]
    assert dt.datetime(2024, 1, 1, tzinfo=UTC) in starts
    assert all(w["end"] - w["start"] == dt.timedelta(days=182) for w in halves["windows"])


def test_fairness_per_quarter_reads_the_feature_that_is_a_segment(
    logged: tuple[Path, Traffic], store: Store
) -> None:
    _, data = logged
    report = breakdown.fairness_report(store, "churn", attribute="age", window="quarter")
    body = report.to_dict()
    assert body["window"] == "quarter"
    for w in body["windows"]:
        rows = data.rows(w["start"], w["end"])
        for group, rates in w["groups"].items():
            members = rows[data.age[rows] == group]
            assert rates["n"] == len(members)
            assert rates["selection_rate"] == pytest.approx(float(data.pred[members].mean()))


def test_bad_windows_are_refused_with_the_value(store: Store) -> None:
    for bad in ("fortnight", "2024-02-01/2024-01-01", "2024-13-01/2025-01-01"):
        with pytest.raises(InvalidInputError, match="window|period|ISO"):
            service.realized(store, "churn", window=bad)
