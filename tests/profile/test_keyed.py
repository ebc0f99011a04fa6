"""Profiles grouped by a key per row in one pass (`vigil.profile.keyed`) are, to the byte, the
profiles of each group's rows filtered out of the table (`vigil.profile` per group)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from vigil.profile.keyed import profile_by_key, sliceable
from vigil.profile.parts import Window

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def mixed(n: int, seed: int) -> pa.Table:
    """Every kind of column a log call profiles, nulls, NaN and infinities included; `prose` is
    text in some rows only, so whether it reads as text depends on the group."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(50, 20, n)
    odd = floats.copy()
    if n:
        odd[rng.integers(0, n, max(1, n // 5))] = np.nan
        odd[rng.integers(0, n)] = np.inf
    ints = rng.integers(-500, 500, n)
    prose = [
        "a long sentence with several words in it" if rng.random() < 0.3 else "x" for _ in range(n)
    ]
    times = np.datetime64("2026-01-01", "us") + rng.integers(0, 10**11, n).astype("timedelta64[us]")
    return pa.table(
        {
            "float": floats,
            "float32": floats.astype(np.float32),
            "odd": odd,
            "int": ints,
            "int_nulls": pa.array(ints, mask=rng.random(n) < 0.3),
            "city": pa.array(
                rng.choice(["Oslo", "Lyon", "Rome"], n).tolist(), mask=rng.random(n) < 0.2
            ),
            "prose": prose,
            "dict": pa.array(rng.choice(["a", "b"], n).tolist()).dictionary_encode(),
            "flag": pa.array((rng.random(n) > 0.5).tolist(), mask=rng.random(n) < 0.1),
            "ts": pa.array(times, pa.timestamp("us", tz="UTC")),
            "nothing": pa.nulls(n),
            "nested": pa.array([{"a": int(i)} for i in ints], pa.struct([("a", pa.int64())])),
        }
    )


def _window(key: int) -> Window:
    return Window(T0 + dt.timedelta(hours=key), T0 + dt.timedelta(hours=key + 1))


def _reference(
    table: pa.Table, keys: np.ndarray, batch_rows: int = 65_536
) -> list[tuple[int, bytes]]:
    return [
        (
            key,
            vigil.profile(
                table.filter(pa.array(keys == key)),
                window=_window(key),
                batch_rows=batch_rows,
                progress=False,
            ).to_bytes(),
        )
        for key in sorted(set(keys.tolist()))
        if key >= 0
    ]


def _grouped(
    table: pa.Table, keys: np.ndarray, batch_rows: int = 65_536
) -> list[tuple[int, bytes]]:
    out = profile_by_key(table, keys, _window, batch_rows=batch_rows)
    return [(key, item.to_bytes()) for key, item in out]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 150),
    seed=st.integers(0, 2**32 - 1),
    groups=st.integers(1, 12),
    skipped=st.booleans(),
)
def test_each_group_is_profiled_as_its_rows_alone(
    n: int, seed: int, groups: int, skipped: bool
) -> None:
    table = mixed(n, seed)
    keys = np.random.default_rng(seed + 1).integers(-1 if skipped else 0, groups, n)
    assert _grouped(table, keys) == _reference(table, keys)


def test_sorted_keys_and_one_group_take_the_rows_as_they_are() -> None:
    table = mixed(120, 3)
    for keys in (np.zeros(120, np.int64), np.repeat(np.arange(6), 20), np.arange(120) // 7):
        assert _grouped(table, keys) == _reference(table, keys)
    assert _grouped(table, np.full(120, -1)) == []


def test_a_group_longer_than_a_batch_is_profiled_batch_by_batch() -> None:
    table = mixed(90, 5)
    keys = np.random.default_rng(0).integers(0, 3, 90)
    assert _grouped(table, keys, batch_rows=7) == _reference(table, keys, batch_rows=7)
    assert _grouped(table, keys, batch_rows=40) == _reference(table, keys, batch_rows=40)


def test_only_single_chunk_tables_with_unique_names_are_taken() -> None:
    table = mixed(20, 1)
    assert sliceable(table)
    assert not sliceable(pa.concat_tables([table.slice(0, 10), table.slice(10)]))
    assert not sliceable(pa.table([pa.array([1]), pa.array([2])], names=["a", "a"]))
    assert not sliceable(pa.table({}))
    with pytest.raises(ValueError, match="single-chunk"):
        profile_by_key(pa.concat_tables([table, table]), np.zeros(40, np.int64), _window)
    with pytest.raises(ValueError, match="one key per row"):
        profile_by_key(table, np.zeros(3, np.int64), _window)


def test_dates_and_nanosecond_times_are_profiled_alike() -> None:
    table = pa.table(
        {
            "d": pa.array([dt.date(2026, 1, 1), None, dt.date(2026, 3, 1)]),
            "ns": pa.array([1, 2, 3], pa.timestamp("ns")),
        }
    )
    keys = np.array([1, 0, 1])
    assert _grouped(table, keys) == _reference(table, keys)
