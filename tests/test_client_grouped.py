"""A log call's window and segment profiles, grouped in one pass (`window_profiles`,
`segment_profiles`), are the bytes of the per-group way (each group's rows filtered out of the
table and profiled alone: `*_per_group`)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profile.test_keyed import mixed
from vigil.client.batching import (
    TIMESTAMP_TYPE,
    segment_profiles,
    segment_profiles_per_group,
    window_profiles,
    window_profiles_per_group,
)

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def _times(n: int, seed: int, span_s: int) -> pa.Array:
    offsets = np.random.default_rng(seed).integers(-span_s // 4, span_s, n)
    return pa.array(
        [T0 + dt.timedelta(seconds=int(s), microseconds=7) for s in offsets], TIMESTAMP_TYPE
    )


def _with_segments(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed + 2)
    table = mixed(n, seed)
    region = pa.array(rng.choice(["north", "south", "east"], n).tolist(), mask=rng.random(n) < 0.15)
    return table.append_column("region", region).append_column(
        "tier", pa.array(rng.integers(1, 4, n))
    )


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 160),
    seed=st.integers(0, 2**32 - 1),
    grid=st.sampled_from(["hour", "day", "15m", "day@Europe/Oslo"]),
    span_s=st.sampled_from([60, 3 * 3600, 3 * 86400]),
    chunks=st.booleans(),
)
def test_grouped_profiles_are_the_per_group_bytes(
    n: int, seed: int, grid: str, span_s: int, chunks: bool
) -> None:
    table = _with_segments(n, seed)
    times = _times(n, seed, span_s)
    if chunks and n > 1:  # several chunks: the per-group way itself
        table = pa.concat_tables([table.slice(0, n // 2), table.slice(n // 2)])
    segments = ["region", "tier", "absent"]
    assert window_profiles(table, times, grid) == window_profiles_per_group(table, times, grid)
    assert segment_profiles(table, times, grid, segments) == segment_profiles_per_group(
        table, times, grid, segments
    )


def test_many_windows_and_segments_in_one_call() -> None:
    n = 2_000
    table = _with_segments(n, 11)
    times = _times(n, 11, 2 * 86400)
    grouped = segment_profiles(table, times, "hour", ["region", "tier"])
    assert grouped == segment_profiles_per_group(table, times, "hour", ["region", "tier"])
    keys = {key for key, _ in grouped}
    assert keys == {f"region={r}" for r in ("east", "north", "south")} | {
        f"tier={t}" for t in (1, 2, 3)
    }
    assert len(grouped) > 6 * 48
    assert window_profiles(table, times, "hour") == window_profiles_per_group(table, times, "hour")


def test_too_many_segment_values_keep_the_most_frequent_alike() -> None:
    n = 400
    rng = np.random.default_rng(3)
    table = pa.table(
        {"x": rng.normal(size=n), "id": [f"v{int(v)}" for v in rng.zipf(1.5, n) % 150]}
    )
    times = _times(n, 3, 3 * 3600)
    grouped = segment_profiles(table, times, "hour", ["id"])
    assert grouped == segment_profiles_per_group(table, times, "hour", ["id"])
    assert len({key for key, _ in grouped}) <= 100
