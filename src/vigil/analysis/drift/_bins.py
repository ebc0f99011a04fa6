"""Shared inputs of the distance methods: reference-quantile bins for numeric columns and aligned
shares for category counts, computed the same way from profiles and from raw data."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vigil.analysis.drift.base import (
    Counts,
    CountsFn,
    MethodResult,
    NumericExactFn,
    NumericProfileFn,
    normalise,
    split_points,
)
from vigil.analysis.drift.reference_memo import reference_value
from vigil.profile import sketch_arrays
from vigil.profile.columns import NumericColumn
from vigil.profile.sketches import FloatArray

BINS = 10
"""Numeric columns are binned on the reference deciles (ties merge bins)."""

OTHER = "(other)"


def _inner_qs(bins: int) -> list[float]:
    return [i / bins for i in range(1, bins)]


def profile_shares(
    ref: NumericColumn, cur: NumericColumn, bins: int = BINS
) -> tuple[FloatArray, FloatArray]:
    """Shares of reference and current in bins cut at the reference quantiles (from sketches).
    The reference's side is memoised while a `ReferenceMemo` is active."""
    edges, p = reference_value(ref, ("deciles", bins), lambda: _reference_bins(ref, bins))
    q = sketch_arrays.pmf(cur.quantiles, edges)
    return p, normalise(np.clip(q, 0, None))


def _reference_bins(ref: NumericColumn, bins: int) -> tuple[tuple[float, ...], FloatArray]:
    edges = split_points(sketch_arrays.quantiles(ref.quantiles, _inner_qs(bins)))
    p = normalise(np.clip(sketch_arrays.pmf(ref.quantiles, edges), 0, None))
    p.flags.writeable = False
    return tuple(edges), p


def exact_shares(
    ref: FloatArray, cur: FloatArray, bins: int = BINS
) -> tuple[FloatArray, FloatArray]:
    """The same bins on raw sorted values: edges are exact reference quantiles (the smallest value
    whose rank reaches q, as KLL defines them) and each bin is (edge_i-1, edge_i]."""
    edges = np.unique(np.quantile(ref, _inner_qs(bins), method="inverted_cdf"))

    def shares(values: FloatArray) -> FloatArray:
        below = np.searchsorted(values, edges, side="right").astype(np.float64)
        counts = np.diff(np.concatenate([[0.0], below, [float(values.size)]]))
        return normalise(counts)

    return shares(ref), shares(cur)


def count_shares(ref: Counts, cur: Counts) -> tuple[list[str], FloatArray, FloatArray]:
    """Aligned shares over the union of categories, with the un-itemised mass of a sketch in one
    `(other)` bucket. Categories absent from one side have share 0 there."""
    labels = sorted(set(ref.items) | set(cur.items))
    p = np.array([ref.items.get(k, 0.0) for k in labels], dtype=np.float64)
    q = np.array([cur.items.get(k, 0.0) for k in labels], dtype=np.float64)
    other_p = max(ref.total - float(p.sum()), 0.0)
    other_q = max(cur.total - float(q.sum()), 0.0)
    if other_p > 0 or other_q > 0:
        labels.append(OTHER)
        p = np.append(p, other_p)
        q = np.append(q, other_q)
    return labels, normalise(p), normalise(q)


def count_table(ref: Counts, cur: Counts) -> tuple[list[str], FloatArray]:
    """A 2 x K contingency table (reference row, current row) of counts, empty columns dropped."""
    labels = sorted(set(ref.items) | set(cur.items))
    p = np.array([ref.items.get(k, 0.0) for k in labels], dtype=np.float64)
    q = np.array([cur.items.get(k, 0.0) for k in labels], dtype=np.float64)
    other_p = max(ref.total - float(p.sum()), 0.0)
    other_q = max(cur.total - float(q.sum()), 0.0)
    if other_p > 0 or other_q > 0:
        labels.append(OTHER)
        p = np.append(p, other_p)
        q = np.append(q, other_q)
    table = np.vstack([p, q])
    keep = table.sum(axis=0) > 0
    return [lab for lab, k in zip(labels, keep, strict=True) if k], table[:, keep]


def on_shares(
    fn: Callable[[FloatArray, FloatArray], float],
) -> tuple[NumericProfileFn, NumericExactFn, CountsFn]:
    """The three paths of a distance computed on two share vectors (reference, current)."""

    def from_profiles(ref: NumericColumn, cur: NumericColumn) -> MethodResult:
        if ref.finite_count == 0 or cur.finite_count == 0:
            return MethodResult(float("nan"))
        return MethodResult(fn(*profile_shares(ref, cur)))

    def exact(ref: FloatArray, cur: FloatArray) -> MethodResult:
        if ref.size == 0 or cur.size == 0:
            return MethodResult(float("nan"))
        return MethodResult(fn(*exact_shares(ref, cur)))

    def counts(ref: Counts, cur: Counts) -> MethodResult:
        if ref.total <= 0 or cur.total <= 0:
            return MethodResult(float("nan"))
        _, p, q = count_shares(ref, cur)
        return MethodResult(fn(p, q))

    return from_profiles, exact, counts
