"""The merge law of production attributions: any split of the rows into uploads gives the same
per-window counts and sums as one upload of them all."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.explain.production import WindowSumsIn, window_sums

START = dt.datetime(2026, 11, 20, 7, 13, tzinfo=dt.UTC)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FEATURES = ("a", "b", "c")


def _merged(parts: list[list[WindowSumsIn]]) -> dict[dt.datetime, tuple[int, np.ndarray]]:
    out: dict[dt.datetime, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for part in parts:
        for window in part:
            entry = out[window.start]
            entry[0] += window.n_rows
            for i, feature in enumerate(FEATURES):
                entry[i + 1] += window.sums[feature]
    return {k: (int(v[0]), np.array(v[1:])) for k, v in out.items()}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 60), max_size=5),
    window_seconds=st.sampled_from([60, 3600, 86_400]),
)
def test_any_split_into_uploads_gives_the_same_windows(
    n: int, seed: int, cuts: list[int], window_seconds: int
) -> None:
    rng = np.random.default_rng(seed)
    contributions = rng.normal(size=(n, 3))
    times = [START + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 3 * 86_400, n)]
    size = dt.timedelta(seconds=window_seconds)
    windows = window_sums(contributions, FEATURES, times, window_seconds)
    for window in windows:
        assert window.end - window.start == size
    expected = Counter(EPOCH + size * ((t - EPOCH) // size) for t in times)
    assert {w.start: w.n_rows for w in windows} == expected
    whole = _merged([windows])
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    parts = [
        window_sums(contributions[a:b], FEATURES, times[a:b], window_seconds)
        for a, b in itertools.pairwise(bounds)
    ]
    split = _merged(parts)
    assert split.keys() == whole.keys()
    for start, (count, sums) in whole.items():
        assert split[start][0] == count
        np.testing.assert_allclose(split[start][1], sums, rtol=1e-12, atol=1e-12)
        assert (start - EPOCH).total_seconds() % window_seconds == 0  # aligned on the epoch
    assert sum(c for c, _ in whole.values()) == n
    np.testing.assert_allclose(
        sum(s for _, s in whole.values()), np.abs(contributions).sum(axis=0), rtol=1e-12
    )
