"""Block merges of trailing baselines (`vigil.monitor.blocks`): over any windows, edges and late
uploads, the block-merged baseline is the direct merge of its windows (counts, minima, maxima and
categories exactly, means up to rounding, quantiles within the sketch's rank error), a late upload
into a window makes its block merged again, and a round reads only the windows `unread` names."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from functools import cache

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vigil
from tests.sketch_bounds import assert_quantiles_within
from vigil.lru import LruCache
from vigil.monitor.blocks import BlockMerge, groups
from vigil.monitor.reader import ReadWindow, StoredWindow
from vigil.profile import DatasetProfile, NumericColumn
from vigil.profile.columns.strings import StringColumn
from vigil.windows import Grid

T0 = dt.datetime(2026, 3, 1, 3, tzinfo=dt.UTC)  # not on a block boundary
HOUR = dt.timedelta(hours=1)
GRID = Grid.parse("hour")
N_HOURS = 60


def _rows(hour: int, upload: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([hour, upload])
    n = int(rng.integers(20, 90))
    x = rng.normal(hour % 7, 1.0 + upload, n)
    x[rng.random(n) < 0.1] = np.nan
    return {"x": x, "c": rng.choice(["a", "b", "c", f"h{hour % 5}"], size=n)}


@cache
def _data(hour: int, uploads: int) -> dict[str, np.ndarray]:
    """The rows of hour `hour` after `uploads` uploads (each upload adds rows)."""
    parts = [_rows(hour, u) for u in range(uploads)]
    return {k: np.concatenate([p[k] for p in parts]) for k in ("x", "c")}


@cache
def _profile(hour: int, uploads: int) -> DatasetProfile:
    return vigil.profile(_data(hour, uploads))


def _window(hour: int, uploads: int) -> ReadWindow:
    start = T0 + hour * HOUR
    n_rows = len(_data(hour, uploads)["x"]) if uploads else 0
    parts = (
        (StoredWindow(1000 + hour, 1, "", start, "", n_rows, uploads, start + HOUR * uploads),)
        if uploads
        else ()
    )
    return ReadWindow(
        start=start,
        end=start + HOUR,
        n_rows=n_rows,
        n_uploads=uploads,
        last_arrival=parts[0].last_arrival if parts else None,
        parts=parts,
    )


class Reads:
    """The profile callable: the window's profile by its hour and uploads, each read counted."""

    def __init__(self) -> None:
        self.read: list[dt.datetime] = []

    def __call__(self, window: ReadWindow) -> DatasetProfile:
        self.read.append(window.start)
        return _profile((window.start - T0) // HOUR, window.n_uploads)


def _check_equal(merged: DatasetProfile | None, windows: list[ReadWindow]) -> None:
    """The block merge against the direct merge and the rows themselves."""
    with_rows = [w for w in windows if w.n_rows]
    if not with_rows:
        assert merged is None
        return
    assert merged is not None
    data = [_data((w.start - T0) // HOUR, w.n_uploads) for w in with_rows]
    direct = DatasetProfile.merge_all(
        _profile((w.start - T0) // HOUR, w.n_uploads) for w in with_rows
    )
    x = np.concatenate([d["x"] for d in data])
    finite = x[np.isfinite(x)]
    assert merged.n_rows == direct.n_rows == len(x)
    got, want = merged.columns["x"], direct.columns["x"]
    assert isinstance(got, NumericColumn)
    assert isinstance(want, NumericColumn)
    assert got.count == want.count == len(x)
    assert got.missing_count == want.missing_count == int(np.isnan(x).sum())
    assert got.finite_count == len(finite)
    assert got.min == want.min == finite.min()
    assert got.max == want.max == finite.max()
    assert math.isclose(got.mean, float(finite.mean()), rel_tol=1e-12, abs_tol=1e-12)
    assert math.isclose(got.mean, want.mean, rel_tol=1e-12, abs_tol=1e-12)
    # Each quantile's true rank within the sketch's error (twice its 99% bound: its coins are
    # unseeded, see tests/sketch_bounds.py; a lost or doubled window still fails it).
    assert_quantiles_within(got, x, (0.1, 0.5, 0.9))
    categories = Counter(np.concatenate([d["c"] for d in data]).tolist())
    got_c, want_c = merged.columns["c"], direct.columns["c"]
    assert isinstance(got_c, StringColumn)
    assert isinstance(want_c, StringColumn)
    assert got_c.count == want_c.count == len(x)
    assert dict(got_c.top(20)) == dict(want_c.top(20)) == categories


rounds = st.lists(
    st.tuples(
        st.integers(0, N_HOURS - 30),  # the baseline's first hour
        st.integers(1, 26),  # its length
        st.lists(st.integers(0, N_HOURS - 1), max_size=3),  # hours receiving a late upload
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    empty=st.sets(st.integers(0, N_HOURS - 1), max_size=20),
    size=st.integers(1, 8),
    plan=rounds,
)
def test_block_merge_is_the_direct_merge(empty: set[int], size: int, plan: list) -> None:
    uploads = {h: 0 if h in empty else 1 for h in range(N_HOURS)}
    merger = BlockMerge(LruCache(max_bytes=2**30, size=lambda p: 1), GRID, Reads(), size)
    for first, length, late in plan:
        for hour in late:  # late data: one more upload (and more rows) in that hour
            uploads[hour] += 1
        windows = [_window(h, uploads[h]) for h in range(first, first + length)]
        reads = Reads()
        merger.profile = reads
        predicted = [w.start for w in merger.unread(windows)]
        merged = merger.merge(windows)
        assert reads.read == predicted  # prepare() loads exactly these windows' blobs
        _check_equal(merged, windows)


def test_a_sliding_baseline_reads_a_window_or_two_per_round() -> None:
    """24 trailing hours sliding over 3 days: about 2 reads a round (the window that joined and,
    once per block, the oldest block's tail), against 24 for the direct merge; and a late upload
    into a window inside a whole block merges that block again (its 6 windows) and only it."""
    cache: LruCache[DatasetProfile | None] = LruCache(max_bytes=2**30, size=lambda p: 1)
    merger = BlockMerge(cache, GRID, Reads(), 6)
    uploads = dict.fromkeys(range(N_HOURS), 1)

    def round_(first: int) -> list[dt.datetime]:
        windows = [_window(h, uploads[h]) for h in range(first, first + 24)]
        merger.profile = reads = Reads()
        _check_equal(merger.merge(windows), windows)
        return reads.read

    round_(0)
    # Cold, from 03:00: the first block's tail 03-05 (and its tail 04-05 on the way), the three
    # whole blocks 06-23 (only their merges) and the newest block's start 00-02.
    assert len(cache) == 2 + 3 + 1
    per_round = [len(round_(first)) for first in range(1, 30)]
    assert sum(per_round) <= 2.5 * len(per_round)
    assert max(per_round) <= 6 + 1
    # A late upload into a window of a block wholly inside the baseline: that block is merged
    # again from its windows (and nothing else is read), then found whole again.
    round_(30)
    windows = [_window(h, 1) for h in range(30, 54)]
    inner = next(g for g in groups(windows, GRID, 6)[1:] if len(g) == 6)
    uploads[(inner[2].start - T0) // HOUR] += 1
    assert sorted(round_(30)) == [w.start for w in inner]
    assert round_(30) == []
