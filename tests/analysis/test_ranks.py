"""Average ranks in NumPy against `scipy.stats.rankdata`, ties included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from vigil.analysis.ranks import average_ranks


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False)),
        max_size=60,
    )
)
def test_average_ranks_equal_scipys(values: list[float]) -> None:
    np.testing.assert_array_equal(average_ranks(values), rankdata(values))


def test_ties_share_the_mean_rank() -> None:
    assert average_ranks([3.0, 1.0, 3.0, 2.0]).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert average_ranks([]).size == 0
