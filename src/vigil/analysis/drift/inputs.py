"""Column inputs for the methods, from profiles and from raw Arrow arrays, plus what is reported
beside a statistic: missing shares, new categories and the distributions drawn in the HTML report.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.analysis.drift._bins import OTHER
from vigil.analysis.drift.base import Counts, split_points
from vigil.analysis.drift.reference_memo import reference_value
from vigil.profile import sketch_arrays
from vigil.profile.columns import AnyColumn, BooleanColumn, NumericColumn, StringColumn
from vigil.profile.sketches import FloatArray, item_key

CHART_BINS = 20
CHART_CATEGORIES = 12
FREQUENT_ITEMS_READ = 1_000


# ------------------------------------------------------------------------------------ profiles


def counts_from_profile(column: StringColumn | BooleanColumn) -> Counts:
    """Category counts of a profile: exact, or the sketch's frequent items plus the rest."""
    if isinstance(column, BooleanColumn):
        return Counts.of({"true": column.true_count, "false": column.false_count})
    categories = column.categories
    exact = categories.exact
    if exact is not None:
        return Counts({k: float(v) for k, v in exact.items()}, float(categories.total))
    items = {i.value: float(i.count) for i in categories.top(FREQUENT_ITEMS_READ)}
    return Counts(
        items,
        float(categories.total),
        max(categories.total - sum(items.values()), 0.0),
        categories.epsilon,
    )


def missing_share(column: AnyColumn) -> float:
    """Share of rows with no value: nulls, and NaN for numeric columns."""
    if column.count == 0:
        return math.nan
    missing = column.missing_count if isinstance(column, NumericColumn) else column.null_count
    return missing / column.count


@dataclass(frozen=True, slots=True)
class NewCategory:
    """A category seen in the current data and never in the reference, with its current share."""

    value: str
    share: float


def new_categories(
    ref: StringColumn, cur: StringColumn, limit: int = 20
) -> tuple[NewCategory, ...]:
    """Current categories absent from the reference, largest first. Exact when the reference
    counts are exact (at most 1,000 distinct values); otherwise only values the reference sketch
    does not hold among its frequent items, which may include rare known values."""
    known = ref.categories.exact
    known_keys = (
        set(known)
        if known is not None
        else {i.value for i in ref.categories.top(FREQUENT_ITEMS_READ)}
    )
    total = cur.categories.total
    if total == 0:
        return ()
    current = cur.categories.exact
    pairs = (
        list(current.items())
        if current is not None
        else [(i.value, i.count) for i in cur.categories.top(FREQUENT_ITEMS_READ)]
    )
    fresh = sorted(
        ((v, c) for v, c in pairs if v not in known_keys and c > 0), key=lambda vc: (-vc[1], vc[0])
    )
    return tuple(NewCategory(v, c / total) for v, c in fresh[:limit])


def new_category_share(ref: StringColumn, cur: StringColumn) -> float:
    """Share of current values whose category the reference never had (see `new_categories`)."""
    fresh = new_categories(ref, cur, limit=10**9)
    return float(sum(n.share for n in fresh))


def looks_like_identifier(column: StringColumn) -> bool:
    """Almost every value distinct (an id, a timestamp string): distribution drift is meaningless."""
    present = column.count - column.null_count
    return present >= 100 and column.distinct >= 0.5 * present


# ------------------------------------------------------------------------------- raw (exact path)


def values_from_array(array: pa.ChunkedArray | pa.Array) -> FloatArray:
    """Sorted float64 finite values of a numeric column (nulls, NaN and infinities dropped)."""
    values = array.drop_null()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_duration(values.type):
        values = values.cast(pa.int64())
    floats = np.asarray(pc.cast(values, pa.float64(), safe=False).to_numpy(zero_copy_only=False))
    finite: FloatArray = np.sort(floats[np.isfinite(floats)])
    return finite


def counts_from_array(array: pa.ChunkedArray | pa.Array, *, boolean: bool) -> Counts:
    """Exact category counts of raw values (keys as the profile counts them)."""
    values = array.drop_null()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if boolean:
        true = int(pc.sum(values).as_py() or 0)
        return Counts.of({"true": true, "false": len(values) - true})
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    counted = pc.value_counts(pc.cast(values, pa.large_string()))
    items: dict[str, float] = {}
    for key, count in zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    ):
        k = item_key(str(key))
        items[k] = items.get(k, 0.0) + float(count)
    return Counts.of(items)


# -------------------------------------------------------------------------------------- charts


@dataclass(frozen=True, slots=True)
class Distribution:
    """Reference and current shares for a chart: numeric columns on equal-width bins (`edges`,
    len(labels) + 1), categorical and boolean columns per category. Built from profiles only."""

    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, list[str] | list[float]]:
        body: dict[str, list[str] | list[float]] = {
            "labels": list(self.labels),
            "reference": list(self.reference),
            "current": list(self.current),
        }
        if self.edges:
            body["edges"] = list(self.edges)
        return body


def distribution(ref: AnyColumn, cur: AnyColumn) -> Distribution | None:
    if isinstance(ref, NumericColumn) and isinstance(cur, NumericColumn):
        return _numeric_distribution(ref, cur)
    if isinstance(ref, StringColumn | BooleanColumn) and isinstance(
        cur, StringColumn | BooleanColumn
    ):
        return _count_distribution(counts_from_profile(ref), counts_from_profile(cur))
    return None


def _numeric_distribution(ref: NumericColumn, cur: NumericColumn) -> Distribution | None:
    if ref.finite_count == 0 and cur.finite_count == 0:
        return None
    lo, hi = min(ref.min, cur.min), max(ref.max, cur.max)
    if lo == hi:
        return Distribution((f"{lo:.4g}",), (1.0,), (1.0,), (lo, hi))
    if (lo, hi) == (ref.min, ref.max):  # the bins are the reference's own: its side memoised
        shares, edges = reference_value(ref, "chart", lambda: _reference_chart(ref, lo, hi))
        reference = tuple(shares.tolist())
    else:
        edges = np.linspace(lo, hi, CHART_BINS + 1)
        reference = _shares(ref, edges)
    labels = tuple(f"{a:.4g}..{b:.4g}" for a, b in itertools.pairwise(edges))
    return Distribution(labels, reference, _shares(cur, edges), tuple(float(e) for e in edges))


def _reference_chart(ref: NumericColumn, lo: float, hi: float) -> tuple[FloatArray, FloatArray]:
    """The reference's shares in equal-width bins over [lo, hi], and the bins' edges."""
    edges = np.linspace(lo, hi, CHART_BINS + 1)
    shares = np.array(_shares(ref, edges), dtype=np.float64)
    edges.flags.writeable = shares.flags.writeable = False
    return shares, edges


def _shares(column: NumericColumn, edges: FloatArray) -> tuple[float, ...]:
    if column.finite_count == 0:
        return (0.0,) * CHART_BINS
    inner = split_points(edges[1:-1])
    if len(inner) != CHART_BINS - 1:  # a range too narrow for float32: no chart
        return (0.0,) * CHART_BINS
    pmf = sketch_arrays.pmf(column.quantiles, inner)
    return tuple(round(float(v), 6) for v in np.clip(pmf, 0, None))


def _count_distribution(ref: Counts, cur: Counts) -> Distribution:
    def share(c: Counts, key: str) -> float:
        return c.items.get(key, 0.0) / c.total if c.total else 0.0

    keys = sorted(
        set(ref.items) | set(cur.items), key=lambda k: (-(share(ref, k) + share(cur, k)), k)
    )
    shown = keys[:CHART_CATEGORIES]
    p = [share(ref, k) for k in shown]
    q = [share(cur, k) for k in shown]
    rest_p, rest_q = 1.0 - sum(p), 1.0 - sum(q)
    if len(keys) > len(shown) or rest_p > 1e-9 or rest_q > 1e-9:
        shown.append(OTHER)
        p.append(max(rest_p, 0.0))
        q.append(max(rest_q, 0.0))
    return Distribution(tuple(shown), tuple(round(v, 6) for v in p), tuple(round(v, 6) for v in q))
