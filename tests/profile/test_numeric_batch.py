"""The numeric columns of a small batch, profiled together (`numeric_batch`), give the profile
each column gets alone (`NumericColumn.of`), to the bit: the profile's bytes are the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import vigil
from vigil.profile import stream
from vigil.profile.columns import NumericColumn
from vigil.profile.columns.numeric_batch import MAX_BATCH_ROWS, batchable, numeric_columns
from vigil.profile.sketches import KLL_K

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
WINDOW = (T0, T0 + dt.timedelta(hours=1))


def every_kind(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    floats = rng.normal(100, 30, n)
    odd = floats.copy()
    if n:
        odd[rng.integers(0, n, max(1, n // 4))] = np.nan
        odd[rng.integers(0, n)] = np.inf
        odd[rng.integers(0, n)] = -np.inf
    ints = rng.integers(-1000, 1000, n)
    with_nulls = pa.array(ints, mask=rng.random(n) < 0.3)
    words = pa.array(rng.choice(["Oslo", "Lyon", "Rome"], n).tolist(), mask=rng.random(n) < 0.2)
    times = np.datetime64("2026-01-01", "us") + rng.integers(0, 10**12, n).astype("timedelta64[us]")
    return pa.table(
        {
            "float64": floats,
            "float32": floats.astype(np.float32),
            "huge": floats * 1e300,  # past float32's range: clipped in the sketch
            "tiny": floats * 1e-310,  # subnormal
            "constant": np.full(n, 3.5),
            "with_nan_inf": odd,
            "int64": ints,
            "int8": (ints % 100).astype(np.int8),
            "uint64": rng.integers(0, 2**64 - 1, n, dtype=np.uint64),
            "big_int": rng.integers(2**53, 2**62, n),  # not exact as float64
            "int_nulls": with_nulls,
            "all_null": pa.nulls(n, pa.float64()),
            "strings": words,
            "bool": pa.array(rng.random(n) > 0.5),
            "ts": pa.array(times, pa.timestamp("us", tz="UTC")),
            "dict_ints": pa.array(ints % 5).dictionary_encode(),
            "duration": pa.array(ints.astype("timedelta64[s]")),
        }
    )


def general(
    table: pa.Table, monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> vigil.DatasetProfile:
    with monkeypatch.context() as patched:
        patched.setattr(stream, "batchable", lambda array: False)
        return vigil.profile(table, window=WINDOW, progress=False, **kwargs)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 57, KLL_K])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_small_table_profiles_to_the_same_bytes(
    n: int, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = every_kind(n, seed)
    fast = vigil.profile(table, window=WINDOW, progress=False)
    slow = general(table, monkeypatch)
    assert fast.to_bytes() == slow.to_bytes()
    assert fast.to_dict() == slow.to_dict()


@pytest.mark.parametrize("n", [KLL_K + 1, 1_000, MAX_BATCH_ROWS])
def test_past_the_sketch_capacity_every_exact_figure_is_the_same(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above k values a KLL sketch compacts with a random bit, so two builds of one column differ
    in their sketch; every other figure is the same, and the sketches hold as many values."""
    table = every_kind(n, 7)
    fast = vigil.profile(table, window=WINDOW, progress=False)
    slow = general(table, monkeypatch)
    assert list(fast.columns) == list(slow.columns)
    for name, column in fast.columns.items():
        other = slow.columns[name]
        assert type(column) is type(other)
        if isinstance(column, NumericColumn):
            assert isinstance(other, NumericColumn)
            state, expected = column.to_state(), other.to_state()
            state.pop("kll")
            expected.pop("kll")
            assert state == expected
            assert column.quantiles.n == other.quantiles.n
            if column.finite_count:  # the two medians are within the sketches' rank errors
                median, error = column.quantile(0.5), 2 * other.quantiles.rank_error + 1 / n
                assert other.quantiles.rank(median, inclusive=False) <= 0.5 + error
                assert other.quantiles.rank(median, inclusive=True) >= 0.5 - error
        else:  # the same path both times; datetimes' sketches compact at random too
            assert exact_part(column.to_state()) == exact_part(other.to_state())


def exact_part(state: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if not isinstance(value, bytes)}


def test_a_user_schema_and_several_batches_take_the_same_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = every_kind(150, 3).select(["float64", "int64", "strings", "ts", "with_nan_inf"])
    schema = {"int64": "categorical", "float64": "numeric"}
    fast = vigil.profile(table, window=WINDOW, progress=False, schema=schema, batch_rows=64)
    slow = general(table, monkeypatch, schema=schema, batch_rows=64)
    assert fast.to_bytes() == slow.to_bytes()  # 3 batches merged, under k values: no compaction


def test_what_is_batched() -> None:
    assert batchable(pa.array([1.0, 2.0]))
    assert batchable(pa.array([1, 2], pa.uint8()))
    assert batchable(pa.array([1.0], pa.float32()))
    assert not batchable(pa.array([1.0, None]))
    assert not batchable(pa.array([], pa.float64()))
    assert not batchable(pa.array(np.ones(2, np.float16)))
    assert not batchable(pa.array([1, 2]).dictionary_encode())
    assert not batchable(pa.array(np.zeros(MAX_BATCH_ROWS + 1)))
    with pytest.raises(ValueError, match="batchable"):
        numeric_columns([pa.array([1.0]), pa.array([1.0, 2.0])])
    assert numeric_columns([]) == []


floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.lists(
            st.one_of(
                hnp.arrays(np.float64, n, elements=floats),
                hnp.arrays(np.float32, n, elements=st.floats(width=32)),
                hnp.arrays(np.int64, n),
                hnp.arrays(np.uint32, n),
            ),
            min_size=1,
            max_size=6,
        )
    )
)
def test_each_column_is_what_it_is_alone(columns: list[np.ndarray]) -> None:
    arrays = [pa.array(values) for values in columns]
    together = numeric_columns(arrays)
    for array, column in zip(arrays, together, strict=True):
        alone = NumericColumn.of(array)
        assert column.to_state() == alone.to_state()
