"""The chi-square method's own Pearson computation is SciPy's `chi2_contingency` (no continuity
correction) bit for bit, on the tables a drift comparison builds (2 x K, no empty row or column,
integer or fractional counts, small and large)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.analysis.drift.base import Counts
from vigil.analysis.drift.chi_square import chi_square, pearson

counts = st.floats(0, 1e7, allow_nan=False) | st.integers(0, 10**6).map(float)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(counts, counts), min_size=1, max_size=60))
def test_pearson_is_scipys_chi2_contingency_bit_for_bit(pairs: list[tuple[float, float]]) -> None:
    table = np.array(pairs, dtype=np.float64).T
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] == 0 or (table.sum(axis=1) == 0).any():
        return
    try:
        expected = scipy.stats.chi2_contingency(table, correction=False)
    except ValueError:  # an expected frequency underflowed to 0 (subnormal counts)
        with pytest.raises(ValueError, match="expected frequencies"):
            pearson(table)
        return
    assert pearson(table) == (float(expected.statistic), float(expected.pvalue))


def test_seeded_tables_of_every_size_match_scipy() -> None:
    rng = np.random.default_rng(7)
    for _ in range(2_000):
        k = int(rng.integers(2, 40))
        top = int(10 ** rng.uniform(0, 6)) + 1
        table = rng.integers(1, top + 1, (2, k)).astype(np.float64)
        if rng.random() < 0.5:
            table += rng.random(table.shape)
        expected = scipy.stats.chi2_contingency(table, correction=False)
        assert pearson(table) == (float(expected.statistic), float(expected.pvalue))


def test_the_method_reads_counts_as_before() -> None:
    ref = Counts.of({"a": 40.0, "b": 35.0, "c": 25.0})
    cur = Counts.of({"a": 10.0, "b": 30.0, "d": 5.0})
    table = np.array([[40.0, 35.0, 25.0, 0.0], [10.0, 30.0, 0.0, 5.0]])
    expected = scipy.stats.chi2_contingency(table, correction=False)
    result = chi_square(ref, cur)
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)
    assert chi_square(ref, Counts.of({"a": 3.0})).statistic > 0
    assert (chi_square(Counts.of({"a": 1.0}), Counts.of({"a": 2.0})).p_value) == 1.0
