"""Profiles agree with exact NumPy statistics, and chunked profiling equals profiling everything."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyarrow as pa
import pytest

import vigil
from tests.conftest import mixed_table
from tests.sketch_bounds import rank_slack
from vigil.profile import BooleanColumn, DatetimeColumn, NumericColumn, StringColumn


def _numeric(p: vigil.DatasetProfile, name: str) -> NumericColumn:
    column = p.columns[name]
    assert isinstance(column, NumericColumn)
    return column


def test_numeric_statistics_match_numpy(table: pa.Table) -> None:
    p = vigil.profile(table)
    raw = table.column("x").to_numpy(zero_copy_only=False)
    finite = raw[np.isfinite(raw)]
    x = _numeric(p, "x")
    assert x.count == len(raw)
    assert x.nan_count == int(np.isnan(raw).sum())
    assert x.posinf_count == int(np.isposinf(raw).sum())
    assert x.finite_count == finite.size
    assert x.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert x.variance == pytest.approx(finite.var(ddof=1), rel=1e-10)
    assert x.std == pytest.approx(finite.std(ddof=1), rel=1e-10)
    assert x.min == finite.min()
    assert x.max == finite.max()
    y = _numeric(p, "y")
    assert y.null_count == table.column("y").null_count
    assert y.integral is False
    assert _numeric(p, "ints").integral is True


def test_category_boolean_and_datetime_counts_are_exact(table: pa.Table) -> None:
    p = vigil.profile(table)
    cat = p.columns["cat"]
    assert isinstance(cat, StringColumn)
    values = [v for v in table.column("cat").to_pylist() if v is not None]
    expected = {v: values.count(v) for v in set(values)}
    assert cat.categories.exact == expected
    assert cat.distinct == 4
    assert cat.null_count == table.column("cat").null_count
    assert cat.top(1)[0] == ("a", expected["a"])
    flag = p.columns["flag"]
    assert isinstance(flag, BooleanColumn)
    raw_flags = table.column("flag").to_numpy(zero_copy_only=False)
    assert (flag.true_count, flag.false_count) == (int(raw_flags.sum()), int((~raw_flags).sum()))
    ts = p.columns["ts"]
    assert isinstance(ts, DatetimeColumn)
    micros = table.column("ts").cast(pa.int64()).to_numpy()
    assert ts.min_us == micros.min()
    assert ts.max_us == micros.max()


@pytest.mark.parametrize("chunks", [2, 7, 31])
def test_merged_chunks_equal_the_whole(chunks: int) -> None:
    table = mixed_table(30_000, seed=chunks)
    whole = vigil.profile(table)
    bounds = np.linspace(0, table.num_rows, chunks + 1).astype(int)
    parts = [vigil.profile(table.slice(a, b - a)) for a, b in itertools.pairwise(bounds)]
    merged = vigil.DatasetProfile.merge_all(parts)
    assert merged.n_rows == whole.n_rows
    for name in ("x", "y", "ints"):
        a, b = _numeric(merged, name), _numeric(whole, name)
        assert (a.count, a.null_count, a.nan_count, a.inf_count) == (
            b.count,
            b.null_count,
            b.nan_count,
            b.inf_count,
        )
        assert (a.min, a.max) == (b.min, b.max)
        assert a.mean == pytest.approx(b.mean, rel=1e-9)
        assert a.variance == pytest.approx(b.variance, rel=1e-9)
        for q in (0.05, 0.5, 0.95):
            # Both answers are within the sketch's rank error of the truth, so within twice of
            # each other: compare by rank on the raw values.
            raw = np.sort(_finite(table.column(name)))
            rank_a = np.searchsorted(raw, a.quantile(q), side="right") / raw.size
            assert abs(rank_a - q) <= rank_slack(a)
    assert merged.columns["cat"].to_dict() == whole.columns["cat"].to_dict()
    assert merged.columns["flag"] == whole.columns["flag"]


def _finite(column: pa.ChunkedArray) -> np.ndarray:
    raw = column.to_numpy(zero_copy_only=False).astype(np.float64)
    return raw[np.isfinite(raw)]


def test_variance_is_stable_for_large_offsets() -> None:
    # Naive sum-of-squares loses everything here; the moments must not.
    values = 1e9 + np.random.default_rng(3).normal(0, 1e-3, 100_000)
    p = vigil.profile({"v": values}, batch_rows=7_919)
    v = _numeric(p, "v")
    assert v.variance == pytest.approx(values.var(ddof=1), rel=1e-6)


def test_single_value_has_nan_variance_not_zero_division() -> None:
    v = _numeric(vigil.profile({"v": np.array([4.0])}), "v")
    assert v.mean == 4.0
    assert math.isnan(v.variance)
    assert v.quantile(0.5) == 4.0
