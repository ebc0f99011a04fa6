"""Direct loss estimation (DLE) against losses known in closed form.

The data: a model whose prediction is the conditional mean of y, so the error is pure noise with a
standard deviation that depends on the features (heteroscedastic): sd = (1 + x) * m(plan), x
uniform, m = 2 for plan "c" else 1. For a normal error with sd s, E|e| = s * sqrt(2 / pi) and
E[e^2] = s^2, so a window's expected MAE is sqrt(2 / pi) * E[1 + x] * E[m] and its expected
RMSE sqrt(E[(1 + x)^2] * E[m^2]), with x and plan independent.

Tolerance: the estimate is a mean of loss-model predictions learned from at most 20,000 reference
rows. The reference's own mean absolute error has a relative standard error of about
sd(|e|) / (E|e| sqrt(n)) = 0.76 / sqrt(20,000) = 0.5% (the squared error's about 1.4%, its
relative spread being sqrt(2)); a window re-weights the reference rows, which at most doubles
that, and the window's own rows add nothing (the estimate is compared with the expectation,
not with a noisy realized value). A 3% (MAE) and 4.5% (RMSE) relative tolerance is about three
standard errors; the shifted window's loss is 50% above the reference's, so an estimator that
ignored the features (the reference average) misses by far more than that.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from vigil.analysis.performance.columns import Layout
from vigil.analysis.performance.dle import (
    DLE,
    MAX_CATEGORIES,
    MAX_FIT_ROWS,
    MIN_FIT_ROWS,
    EstimatedLoss,
    FeatureEncoder,
    estimate_table,
    fit_table,
    stored_features,
)
from vigil.errors import InvalidInputError
from vigil.schema import LABEL_COLUMN

HALF_NORMAL = math.sqrt(2 / math.pi)


def window(
    rng: np.random.Generator, n: int, low: float, high: float, share_c: float
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Features, labels and predictions: x ~ U(low, high), plan c with probability share_c."""
    x = rng.uniform(low, high, n)
    plan = rng.choice(np.array(["a", "b", "c"]), n, p=[1 - share_c - 0.25, 0.25, share_c])
    mean = 3 * x + np.select([plan == "a", plan == "b"], [0.0, 1.0], -1.0)
    sd = (1 + x) * np.where(plan == "c", 2.0, 1.0)
    y = mean + rng.normal(0.0, 1.0, n) * sd
    return pa.table({"x": x, "plan": plan}), y, mean


def expected(low: float, high: float, share_c: float) -> tuple[float, float]:
    """The window's expected MAE and RMSE (the module docstring's closed forms)."""
    mean_sd = 1 + (low + high) / 2
    # E[(1 + x)^2] for x ~ U(low, high): the mean of (1 + x)^2 over the interval.
    mean_square = ((1 + high) ** 3 - (1 + low) ** 3) / (3 * (high - low))
    m1 = 1 + share_c  # E[m], m = 2 with probability share_c, else 1
    m2 = 1 + 3 * share_c  # E[m^2]
    return HALF_NORMAL * mean_sd * m1, math.sqrt(mean_square * m2)


@pytest.fixture(scope="module")
def fitted() -> DLE:
    features, y, pred = window(np.random.default_rng(1), 40_000, 0.0, 2.0, 0.25)
    return DLE.fit(features, y, pred)


@pytest.mark.parametrize(
    ("low", "high", "share_c"),
    [(0.0, 2.0, 0.25), (1.0, 2.0, 0.25), (0.0, 1.0, 0.25), (0.0, 2.0, 0.5), (1.0, 2.0, 0.5)],
)
def test_the_estimate_is_the_known_expected_loss(
    fitted: DLE, low: float, high: float, share_c: float
) -> None:
    features, _, pred = window(np.random.default_rng(2), 30_000, low, high, share_c)
    got = fitted.estimate(features, pred)
    mae, rmse = expected(low, high, share_c)
    assert got.n == 30_000
    assert got.mae == pytest.approx(mae, rel=0.03)
    assert got.rmse == pytest.approx(rmse, rel=0.045)


def test_a_shifted_window_s_estimate_rises_with_its_loss(fitted: DLE) -> None:
    rng = np.random.default_rng(3)
    base = fitted.estimate(*_drop_labels(window(rng, 30_000, 0.0, 2.0, 0.25)))
    shifted = fitted.estimate(*_drop_labels(window(rng, 30_000, 1.0, 2.0, 0.5)))
    # Expected: MAE (1 + 1.5) * 1.5 / ((1 + 1) * 1.25) = 1.5 times the reference's.
    ratio = expected(1.0, 2.0, 0.5)[0] / expected(0.0, 2.0, 0.25)[0]
    assert ratio == pytest.approx(1.5)
    assert shifted.mae / base.mae == pytest.approx(ratio, rel=0.04)
    assert shifted.rmse > base.rmse * 1.4


def _drop_labels(data: tuple[pa.Table, np.ndarray, np.ndarray]) -> tuple[pa.Table, np.ndarray]:
    features, _, pred = data
    return features, pred


def test_the_fit_uses_a_bounded_repeatable_sample() -> None:
    features, y, pred = window(np.random.default_rng(4), MAX_FIT_ROWS + 5_000, 0.0, 2.0, 0.25)
    first, second = DLE.fit(features, y, pred), DLE.fit(features, y, pred)
    assert first.n_fitted == MAX_FIT_ROWS
    probe, _, probe_pred = window(np.random.default_rng(5), 2_000, 0.0, 2.0, 0.25)
    assert first.estimate(probe, probe_pred) == second.estimate(probe, probe_pred)
    small = DLE.fit(features, y, pred, max_rows=1_000)
    assert small.n_fitted == 1_000


def test_losses_are_per_row_and_never_negative(fitted: DLE) -> None:
    features, _, pred = window(np.random.default_rng(6), 1_000, 0.0, 2.0, 0.25)
    absolute, squared = fitted.losses(features, pred)
    assert absolute.shape == squared.shape == (1_000,)
    assert (absolute >= 0).all()
    assert (squared >= 0).all()
    got = fitted.estimate(features, pred)
    assert got.mae == pytest.approx(absolute.mean())
    assert got.rmse == pytest.approx(math.sqrt(squared.mean()))
    # Rows of plan c have twice the noise: their expected loss is higher.
    c = np.asarray(features["plan"]) == "c"
    assert absolute[c].mean() > 1.5 * absolute[~c].mean()


def test_categories_unseen_or_rare_are_missing_values() -> None:
    # v0 is the most frequent value, v299 the least: the 250 kept are v0..v249.
    values = [f"v{i}" for i in range(MAX_CATEGORIES + 50) for _ in range(MAX_CATEGORIES + 50 - i)]
    n = len(values)
    rng = np.random.default_rng(7)
    table = pa.table(
        {
            "city": rng.permutation(np.array(values, dtype=object)),
            "flag": rng.random(n) < 0.5,
            "when": pa.array(rng.integers(0, 10**9, n), pa.timestamp("s")),
            "tags": pa.array([["a"]] * n, pa.list_(pa.string())),
        }
    )
    encoder = FeatureEncoder.fit(table, table.column_names)
    assert encoder.columns == ("city", "flag", "when")  # nested types are not used
    assert encoder.categorical == [True, False, False]
    kept = encoder.categories[0]
    assert kept == tuple(sorted(f"v{i}" for i in range(MAX_CATEGORIES)))
    probe = pa.table(
        {"city": ["v7", "v260", "never seen", None], "flag": [True, False, None, True]}
    )
    codes = encoder.transform(probe)
    assert codes[0, 0] == kept.index("v7")
    assert np.isnan(codes[1:, 0]).all()  # rare in the reference, unseen, null: missing
    assert codes[[0, 1, 3], 1].tolist() == [1.0, 0.0, 1.0]
    assert math.isnan(codes[2, 1])
    assert np.isnan(codes[:, 2]).all()  # a column the window lacks is missing
    assert (
        encoder.transform(table.slice(0, 5))[:, 2].tolist()
        == table["when"].slice(0, 5).cast(pa.int64()).to_pylist()
    )


def test_an_unseen_category_is_estimated_not_refused(fitted: DLE) -> None:
    features = pa.table({"x": [0.5, 1.5], "plan": ["z", "a"]})
    got = fitted.estimate(features, np.array([1.0, 2.0]))
    assert got.n == 2
    assert np.isfinite(got.mae)


def test_bad_input_is_refused_with_the_value() -> None:
    features, y, pred = window(np.random.default_rng(8), 200, 0.0, 2.0, 0.25)
    with pytest.raises(InvalidInputError, match="needs feature columns"):
        DLE.fit(features.select([]), y, pred)
    with pytest.raises(InvalidInputError, match=f"3 labelled rows.*at least {MIN_FIT_ROWS}"):
        DLE.fit(features.slice(0, 3), y[:3], pred[:3])
    with pytest.raises(InvalidInputError, match="row for row"):
        DLE.fit(features, y[:10], pred)
    with pytest.raises(InvalidInputError, match="max_rows must be at least"):
        DLE.fit(features, y, pred, max_rows=2)
    bad = pa.table({"tags": pa.array([["a"]] * 200, pa.list_(pa.string()))})
    with pytest.raises(InvalidInputError, match="none of the feature columns"):
        DLE.fit(bad, y, pred)
    fitted = DLE.fit(features, y, pred)
    with pytest.raises(InvalidInputError, match="no rows"):
        fitted.estimate(features.slice(0, 0), pred[:0])
    with pytest.raises(InvalidInputError, match="finite"):
        fitted.estimate(features.slice(0, 1), np.array([np.nan]))
    loss = EstimatedLoss(3, 1.0, 2.0)
    assert loss.value("rmse") == 2.0
    with pytest.raises(InvalidInputError, match="'accuracy' cannot be estimated"):
        loss.value("accuracy")
    with pytest.raises(InvalidInputError, match="no classes"):
        loss.value("mae", "1")


def test_tables_with_labels_and_missing_values() -> None:
    """`fit_table` learns from labelled rows with a prediction only; `estimate_table` skips rows
    without a prediction; the stored feature columns must be there."""
    rng = np.random.default_rng(9)
    features, y, pred = window(rng, 2_000, 0.0, 2.0, 0.25)
    labels = pa.array([None if i % 4 == 0 else v for i, v in enumerate(y)], pa.float64())
    predictions = pa.array([None if i % 7 == 0 else v for i, v in enumerate(pred)], pa.float64())
    table = features.append_column("pred", predictions).append_column(LABEL_COLUMN, labels)
    layout = Layout("regression", "pred", ())
    estimator = fit_table(layout, table, stored_features(["x", "plan", "gone"], table, "m"))
    usable = sum(1 for i in range(2_000) if i % 4 and i % 7)
    assert estimator.n_fitted == usable
    got = estimate_table(layout, estimator, table.drop_columns([LABEL_COLUMN]))
    assert got is not None
    assert got.n == sum(1 for i in range(2_000) if i % 7)
    assert estimate_table(layout, estimator, table.slice(0, 1)) is None  # row 0: no prediction
    with pytest.raises(InvalidInputError, match="declare them as row_features"):
        stored_features(["age"], table, "m")
    with pytest.raises(InvalidInputError, match="for regression models"):
        fit_table(Layout("classification", "pred", ("s",), ("0", "1")), table, ["x"])


def _openmp_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "openmp"]


@pytest.fixture
def two_openmp_threads() -> Iterator[None]:
    """OpenMP on two threads for the test (the suite runs it on one, tests/conftest.py), so that a
    limit of one left in place shows."""
    import sklearn.ensemble  # noqa: F401  (loads OpenMP, so that there is a setting to keep)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2, user_api="openmp"):
        assert _openmp_threads()
        assert set(_openmp_threads()) == {2}
        yield


def test_the_one_thread_limit_is_lifted_after_concurrent_fits(two_openmp_threads: None) -> None:
    """Each fit and estimate runs OpenMP on one thread; the process's setting is what it was
    afterwards, also when fits run in several threads at once (threadpoolctl's limit is global)."""
    before = _openmp_threads()
    assert before
    features, y, pred = window(np.random.default_rng(10), 3_000, 0.0, 2.0, 0.25)

    def work() -> None:
        DLE.fit(features, y, pred).estimate(features, pred)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _openmp_threads() == before


def test_limited_sections_take_turns(two_openmp_threads: None) -> None:
    """A second thread's limited section waits for the first's end, so that each restores the
    setting it found (interleaved, the later one would restore the earlier one's limit of 1)."""
    from vigil.analysis.performance.dle import _one_thread

    before = _openmp_threads()
    entered = threading.Event()

    def second() -> None:
        with _one_thread():
            entered.set()

    with _one_thread():
        assert _openmp_threads() == [1] * len(before)
        thread = threading.Thread(target=second)
        thread.start()
        # Never set while the first section holds the limit (waiting only bounds the test).
        assert not entered.wait(timeout=0.5)
    thread.join()
    assert entered.is_set()
    assert _openmp_threads() == before


def test_the_first_fit_of_a_process_is_limited_too() -> None:
    """threadpoolctl limits only the OpenMP runtimes loaded when the limit is set: the limited
    section loads scikit-learn's before, so a fresh process's first fit is on one thread."""
    script = textwrap.dedent(
        """
        import sys
        from threadpoolctl import threadpool_info
        from vigil.analysis.performance.dle import _one_thread

        assert "sklearn" not in sys.modules
        with _one_thread():
            print([i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "2"},
    )
    assert out.stdout.strip() == "[1]"
