"""The memoised reference side of drift statistics (`reference_memo`): bit for bit the results
computed without it, whatever the columns (numbers, integers with ties, categories, booleans,
empty ones) and methods, on a first use and on every later one; bounded; never stale."""

from __future__ import annotations

import dataclasses
import functools
import math
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from tests.analysis.drift._data import null_table, with_drift
from vigil.analysis.drift import drift
from vigil.analysis.drift.reference_memo import ReferenceMemo, compact, reference_value
from vigil.profile import DatasetProfile

PROFILE_METHODS = (None, "psi", "wasserstein", "jensen_shannon", "hellinger", "kl", "cvm")
COLUMNS_TYPE = type(vigil.profile({"a": [1]}).columns)
"""The mapping type of a profile's columns (found once: profiling per fingerprinted value was most
of this file's CPU time)."""


def fingerprint(value: Any) -> Any:
    """A report as nested plain values, each float as its bits (so -0.0, 0.0 and NaN count)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float):
        return struct.pack("<d", value).hex()
    if isinstance(value, dict | COLUMNS_TYPE):
        return {k: fingerprint(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fingerprint(v) for v in value]
    return value


def both_ways(
    reference: DatasetProfile, currents: list[DatasetProfile], **options: Any
) -> tuple[list[Any], list[Any], ReferenceMemo]:
    """Reports without a memo, and with one over two rounds (first computing, then reusing)."""
    plain = [fingerprint(drift(reference, c, **options)) for c in currents]
    memo = ReferenceMemo()
    with memo.active():
        memoised = [fingerprint(drift(reference, c, **options)) for c in currents * 2]
    return plain * 2, memoised, memo


def mixed_table(n: int, seed: int) -> dict[str, Any]:
    """`null_table`'s 25 columns plus integer ties, a constant, an all-missing numeric column and
    a column with a single value."""
    rng = np.random.default_rng(seed)
    table = null_table(n, seed)
    table["ties"] = rng.integers(0, 4, n).astype(np.int64)
    table["constant"] = np.full(n, 7.5)
    table["all_missing"] = np.full(n, np.nan)
    table["zeros_signed"] = np.where(rng.random(n) < 0.5, -0.0, 0.0)
    return table


@functools.cache
def profiles(n_ref: int, n_cur: int) -> tuple[DatasetProfile, list[DatasetProfile]]:
    """A reference and three current windows (no drift, a mean shift, a category's mass moved),
    made once per size for every method (profiles never change)."""
    reference = vigil.profile(mixed_table(n_ref, 1))
    currents = [
        vigil.profile(mixed_table(n_cur, 2)),
        vigil.profile(with_drift(mixed_table(n_cur, 3), "mean", 3)),
        vigil.profile(with_drift(mixed_table(n_cur, 4), "category", 4)),
    ]
    return reference, currents


def reports_both_ways(
    reference: DatasetProfile, currents: list[DatasetProfile], options: dict[str, Any]
) -> tuple[list[object], list[object]]:
    """The fingerprints of `drift(reference, current, **options)` for each current window:
    without the reference memo, and with it (each window twice, so the second reads the memo)."""
    plain = [fingerprint(drift(reference, c, **options)) for c in currents]
    with ReferenceMemo().active():
        memoised = [fingerprint(drift(reference, c, **options)) for c in currents * 2]
    return plain, memoised


@pytest.mark.parametrize("method", PROFILE_METHODS)
@pytest.mark.parametrize(("n_ref", "n_cur"), [(2_400, 100), (20_000, 2_000), (150, 40)])
def test_memoised_reports_are_bit_for_bit_the_plain_ones(
    method: str | None, n_ref: int, n_cur: int
) -> None:
    reference, currents = profiles(n_ref, n_cur)
    options: dict[str, Any] = {"method": method} if method else {}
    plain, memoised, memo = both_ways(reference, currents, **options)
    assert memoised == plain
    assert memo.hits > 0  # the second round read the reference's side from the memo


def test_an_empty_current_or_reference_column_is_the_same_with_the_memo() -> None:
    reference = vigil.profile({"x": [np.nan] * 50, "y": np.arange(50.0), "c": ["a"] * 50})
    current = vigil.profile({"x": np.arange(20.0), "y": [np.nan] * 20, "c": [None] * 20})
    plain, memoised, _ = both_ways(reference, [current])
    assert memoised == plain


@settings(max_examples=40, deadline=None)
@given(
    ref=st.lists(st.integers(-5, 5) | st.floats(-1e6, 1e6), min_size=1, max_size=400),
    cur=st.lists(st.integers(-5, 5) | st.floats(-1e6, 1e6), min_size=1, max_size=300),
    method=st.sampled_from(PROFILE_METHODS),
)
def test_any_numbers_give_the_same_report_with_the_memo(
    ref: list[float], cur: list[float], method: str | None
) -> None:
    reference = vigil.profile({"x": np.asarray(ref, dtype=np.float64)})
    current = vigil.profile({"x": np.asarray(cur, dtype=np.float64)})
    options: dict[str, Any] = {"method": method} if method else {}
    plain, memoised, _ = both_ways(reference, [current], **options)
    assert memoised == plain


def test_a_memo_keeps_a_value_per_column_object_and_never_confuses_equal_columns() -> None:
    first = vigil.profile({"x": np.arange(100.0)})
    second = vigil.profile({"x": np.arange(100.0)})  # same content, another object
    memo = ReferenceMemo()
    calls: list[str] = []
    with memo.active():
        for profile, label in ((first, "first"), (first, "again"), (second, "second")):
            reference_value(profile.columns["x"], "k", lambda label=label: calls.append(label))
    assert calls == ["first", "second"]
    assert len(memo) == 2
    assert memo.hits == 1


def test_without_an_active_memo_nothing_is_kept() -> None:
    memo = ReferenceMemo()
    column = vigil.profile({"x": [1.0, 2.0]}).columns["x"]
    assert [reference_value(column, "k", lambda i=i: i) for i in range(2)] == [0, 1]
    with memo.active():
        pass
    assert reference_value(column, "k", lambda: 5) == 5
    assert len(memo) == 0


def test_a_full_memo_stays_within_its_bound_and_keeps_most_of_a_loop_larger_than_itself() -> None:
    columns = [vigil.profile({"x": [float(i)]}).columns["x"] for i in range(200)]
    value = np.zeros(100)  # 800 bytes
    memo = ReferenceMemo(max_bytes=50_000)
    hits = []
    with memo.active():
        for _ in range(5):  # the same order every round, as a tick reads its monitors
            before = memo.hits
            for column in columns:
                reference_value(column, "k", lambda: value)
            hits.append(memo.hits - before)
    assert memo.bytes <= 50_000
    assert 0 < len(memo) < 200
    # A plain LRU would hit nothing in a loop larger than itself; this keeps what it holds.
    assert min(hits[1:]) >= 0.8 * len(memo) - 5


def test_compact_stores_float32_values_in_float32_and_others_as_they_are() -> None:
    narrow = compact(np.array([0.5, 1.25, np.nan]))
    wide = compact(np.array([0.1, 1.0]))
    assert narrow.dtype == np.float32
    assert wide.dtype == np.float64
    assert not narrow.flags.writeable
    assert not wide.flags.writeable
    assert math.isnan(float(narrow[2]))
    assert float(wide[0]) == 0.1
