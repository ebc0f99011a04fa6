"""The profile of a numeric column, and the histogram read from its quantile sketch."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.profile import state as st
from vigil.profile.columns.common import check_quantile, count_nulls, finite_or_none, quantile_dict
from vigil.profile.sketches import FloatArray, Moments, QuantileSketch
from vigil.schema import ColumnKind

HISTOGRAM_BINS = 20


@dataclass(frozen=True, slots=True)
class Histogram:
    """Bin edges (len n+1) and approximate counts (len n), derived from a quantile sketch."""

    edges: tuple[float, ...]
    counts: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        return {"edges": list(self.edges), "counts": list(self.counts)}


@dataclass(frozen=True, slots=True)
class NumericColumn:
    """Counts, exact moments and extremes of the finite values, and a KLL quantile sketch."""

    count: int
    null_count: int
    nan_count: int
    posinf_count: int
    neginf_count: int
    moments: Moments
    min: float
    max: float
    quantiles: QuantileSketch
    integral: bool
    kind: ClassVar[ColumnKind] = ColumnKind.NUMERIC

    @classmethod
    def zero(cls) -> NumericColumn:
        return cls(
            0, 0, 0, 0, 0, Moments(), math.inf, -math.inf, QuantileSketch.zero("float32"), True
        )

    @classmethod
    def of(cls, array: pa.Array) -> NumericColumn:
        integral = pa.types.is_integer(array.type)
        values = _to_float64(array)
        nan = np.isnan(values)
        posinf = np.isposinf(values)
        neginf = np.isneginf(values)
        finite = values[~(nan | posinf | neginf)]
        return cls(
            count=len(array),
            null_count=count_nulls(array),
            nan_count=int(nan.sum()),
            posinf_count=int(posinf.sum()),
            neginf_count=int(neginf.sum()),
            moments=Moments.of(finite),
            min=float(finite.min()) if finite.size else math.inf,
            max=float(finite.max()) if finite.size else -math.inf,
            quantiles=QuantileSketch.of(finite, "float32"),
            integral=integral,
        )

    def merge(self, other: NumericColumn) -> NumericColumn:
        return NumericColumn(
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            nan_count=self.nan_count + other.nan_count,
            posinf_count=self.posinf_count + other.posinf_count,
            neginf_count=self.neginf_count + other.neginf_count,
            moments=self.moments.merge(other.moments),
            min=min(self.min, other.min),
            max=max(self.max, other.max),
            quantiles=self.quantiles.merge(other.quantiles),
            integral=self.integral and other.integral,
        )

    @classmethod
    def merge_all(cls, columns: Sequence[NumericColumn]) -> NumericColumn:
        """`merge` folded over `columns` (at least one), each block merged in one pass."""
        return NumericColumn(
            count=sum(c.count for c in columns),
            null_count=sum(c.null_count for c in columns),
            nan_count=sum(c.nan_count for c in columns),
            posinf_count=sum(c.posinf_count for c in columns),
            neginf_count=sum(c.neginf_count for c in columns),
            moments=Moments.merge_all([c.moments for c in columns]),
            min=min(c.min for c in columns),
            max=max(c.max for c in columns),
            quantiles=QuantileSketch.merge_all([c.quantiles for c in columns]),
            integral=all(c.integral for c in columns),
        )

    @property
    def missing_count(self) -> int:
        """Nulls and NaNs: what a user would call missing."""
        return self.null_count + self.nan_count

    @property
    def inf_count(self) -> int:
        return self.posinf_count + self.neginf_count

    @property
    def finite_count(self) -> int:
        return self.moments.count

    @property
    def mean(self) -> float:
        return self.moments.mean if self.moments.count else math.nan

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1) of the finite values."""
        return self.moments.variance

    @property
    def std(self) -> float:
        return self.moments.std

    def quantile(self, q: float) -> float:
        """Approximate q-quantile of the finite values (rank error: `quantiles.rank_error`)."""
        check_quantile(q)
        if q == 0.0:
            return self.min if self.finite_count else math.nan
        if q == 1.0:
            return self.max if self.finite_count else math.nan
        return self.quantiles.quantile(q)

    def histogram(self, bins: int = HISTOGRAM_BINS) -> Histogram:
        """Equal-width bins from min to max, counts estimated from the quantile sketch."""
        return _histogram(self.quantiles, self.min, self.max, bins)

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "null_count": self.null_count,
            "nan": self.nan_count,
            "posinf": self.posinf_count,
            "neginf": self.neginf_count,
            "moments": [self.moments.count, self.moments.mean, self.moments.m2],
            "min": self.min,
            "max": self.max,
            "kll": self.quantiles.to_bytes(),
            "integral": self.integral,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> NumericColumn:
        column = cls(
            count=st.count(state, "count"),
            null_count=st.count(state, "null_count"),
            nan_count=st.count(state, "nan"),
            posinf_count=st.count(state, "posinf"),
            neginf_count=st.count(state, "neginf"),
            moments=Moments(*st.triple(state, "moments")),
            min=st.real(state, "min"),
            max=st.real(state, "max"),
            quantiles=QuantileSketch.from_bytes(st.get(state, "kll"), "float32"),
            integral=st.flag(state, "integral"),
        )
        parts = column.null_count + column.nan_count + column.inf_count + column.finite_count
        st.no_more_than(parts, "nulls, NaNs, infinities and finite values", column.count, "count")
        st.no_more_than(column.quantiles.n, "quantile sketch count", column.count, "count")
        extremes = column.min, column.max
        if column.finite_count and not (
            math.isfinite(column.min) and math.isfinite(column.max) and column.min <= column.max
        ):
            raise st.bad("min/max", "must be finite with min <= max", extremes)
        if not column.finite_count and extremes != (math.inf, -math.inf):
            raise st.bad(
                "min/max", "of a column without finite values must be (inf, -inf)", extremes
            )
        return column

    def to_dict(self) -> dict[str, Any]:
        has = self.finite_count > 0
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "nan_count": self.nan_count,
            "inf_count": self.inf_count,
            "min": self.min if has else None,
            "max": self.max if has else None,
            "mean": self.mean if has else None,
            "variance": finite_or_none(self.variance),
            "std": finite_or_none(self.std),
            "quantiles": quantile_dict(self.quantile) if has else None,
            "integral": self.integral,
        }


def _to_float64(array: pa.Array) -> FloatArray:
    """Numeric Arrow array -> float64 NumPy array of the non-null values."""
    values = array.drop_null() if array.null_count else array
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_duration(values.type):
        values = pc.divide(
            pc.cast(values.cast(pa.int64()), pa.float64()), _duration_per_second(values.type)
        )
    elif not pa.types.is_float64(values.type):
        values = pc.cast(values, pa.float64(), safe=False)
    result: FloatArray = values.to_numpy(zero_copy_only=False)
    return result


def _duration_per_second(t: pa.DataType) -> float:
    return {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[t.unit]


def _histogram(sketch: QuantileSketch, lo: float, hi: float, bins: int) -> Histogram:
    if sketch.is_empty or not math.isfinite(lo) or not math.isfinite(hi):
        return Histogram((), ())
    if lo == hi:
        return Histogram((lo, hi), (float(sketch.n),))
    edges = np.linspace(lo, hi, bins + 1)
    masses = sketch.pmf(edges[1:-1].tolist())
    counts = tuple(float(m) * sketch.n for m in masses)
    return Histogram(tuple(float(e) for e in edges), counts)
