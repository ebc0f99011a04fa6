"""Mergeable building blocks of a column profile.

Each block is immutable: `merge` returns a new block, and `zero()` is the identity of `merge`.
`merge_all(blocks)` is `merge` folded over the blocks in order, in one pass: the first sketch is
copied once and the others merged into that copy in place (DataSketches merges into its target),
instead of one copy per merge. No block passed in is changed: decoded profiles are shared (kept
decoded uploads, cached baselines), so an input's sketch is never a merge target.
Exact blocks (moments, counts) merge exactly; sketch blocks come from Apache DataSketches and carry
their error bounds:

| block           | sketch                         | size                 | error (99% confidence)        |
|-----------------|--------------------------------|----------------------|-------------------------------|
| QuantileSketch  | KLL, k=200                     | <= ~2.7 KB (float32) | rank error 1.33% (1.65% PMF)  |
| DistinctSketch  | CPC, lg_k=11                   | <= ~1.3 KB           | ~1.7% relative (2 std. dev.)  |
| CategoryCounts  | exact up to 1,000 values, then | <= ~6 KB             | count error <= 1.4% of rows   |
|                 | frequent items, lg_max_map=8   |                      | (epsilon 3.5/256)             |
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import datasketches as ds
import numpy as np

from vigil.errors import SerializationError
from vigil.profile import state as st

# Moments live in their own module; named here too, beside the other blocks.
from vigil.profile.moments import FloatArray as FloatArray
from vigil.profile.moments import Moments as Moments
from vigil.profile.moments import VectorMoments as VectorMoments
from vigil.profile.moments import merge_moments as merge_moments
from vigil.profile.sandbox import SketchSandbox
from vigil.profile.sketch_formats import check_cpc, check_frequent_strings, check_kll
from vigil.profile.trust import trusted

KLL_K = 200
CPC_LG_K = 11
FREQUENT_LG_MAX_MAP = 8
EXACT_COUNT_LIMIT = 1_000
MAX_ITEM_CHARS = 200
"""Category values longer than this are kept in counts as a prefix plus a hash of the whole value,
so huge strings cannot blow up a profile while distinct values stay distinct."""

FLOAT32_MAX = float(np.finfo(np.float32).max)
CPC_EMPTY_BYTES = 8

CPC_SANDBOX = SketchSandbox(CPC_LG_K)
"""This process's sandbox for CPC bytes from outside (a child process, started on first use)."""


def _sketch_error(what: str, exc: Exception) -> SerializationError:
    return SerializationError(f"corrupt {what} in profile bytes: {exc}")


def _sketch_bytes(blob: object, what: str) -> bytes:
    if not isinstance(blob, bytes):
        raise SerializationError(
            f"corrupt {what} in profile bytes: {type(blob).__name__}, not bytes"
        )
    return blob


# ------------------------------------------------------------------------------------- quantiles

Precision = Literal["float32", "float64"]
_KLL_TYPES: dict[str, Any] = {"float32": ds.kll_floats_sketch, "float64": ds.kll_doubles_sketch}


class QuantileSketch:
    """A KLL quantile sketch of finite values (NaN and infinities are counted elsewhere).

    `float32` halves the size and is used for numeric columns (quantiles are approximate anyway:
    a relative rounding of 6e-8 is far below the rank error); `float64` keeps datetimes exact to
    the microsecond.
    """

    __slots__ = ("_sketch", "precision")

    K: ClassVar[int] = KLL_K

    def __init__(self, sketch: Any, precision: Precision) -> None:
        self._sketch = sketch
        self.precision: Precision = precision

    @classmethod
    def zero(cls, precision: Precision = "float64") -> QuantileSketch:
        return cls(_KLL_TYPES[precision](KLL_K), precision)

    @classmethod
    def of(cls, values: FloatArray, precision: Precision = "float64") -> QuantileSketch:
        sketch = _KLL_TYPES[precision](KLL_K)
        if values.size:
            if precision == "float32":
                sketch.update(np.clip(values, -FLOAT32_MAX, FLOAT32_MAX).astype(np.float32))
            else:
                sketch.update(np.ascontiguousarray(values, dtype=np.float64))
        return cls(sketch, precision)

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        if other.is_empty:
            return self
        if self.is_empty:
            return other
        if self.precision != other.precision:
            raise ValueError("cannot merge quantile sketches of different precision")
        merged = _KLL_TYPES[self.precision].deserialize(self._sketch.serialize())
        merged.merge(other._sketch)
        return QuantileSketch(merged, self.precision)

    @classmethod
    def merge_all(cls, sketches: Sequence[QuantileSketch]) -> QuantileSketch:
        """`merge` folded over `sketches` (at least one): the same sketches merged in the same
        order, into one copy of the first non-empty one."""
        present = [s for s in sketches if not s.is_empty]
        if len(present) < 2:
            return present[0] if present else sketches[0]
        precision = present[0].precision
        if any(s.precision != precision for s in present):
            raise ValueError("cannot merge quantile sketches of different precision")
        merged = _KLL_TYPES[precision].deserialize(present[0]._sketch.serialize())
        for other in present[1:]:
            merged.merge(other._sketch)
        return cls(merged, precision)

    @property
    def native(self) -> Any:
        """The DataSketches KLL sketch, to read only: profiles share it (never update or merge
        into it)."""
        return self._sketch

    @property
    def n(self) -> int:
        return int(self._sketch.n)

    @property
    def is_empty(self) -> bool:
        return bool(self._sketch.is_empty())

    @property
    def rank_error(self) -> float:
        """Normalised rank error of a single quantile or rank, at 99% confidence."""
        return float(self._sketch.normalized_rank_error(False))

    @property
    def pmf_error(self) -> float:
        """Normalised rank error of a PMF or CDF, at 99% confidence."""
        return float(self._sketch.normalized_rank_error(True))

    def quantile(self, q: float) -> float:
        if self.is_empty:
            return math.nan
        return float(self._sketch.get_quantile(q))

    def quantiles(self, qs: Sequence[float]) -> list[float]:
        if self.is_empty:
            return [math.nan] * len(qs)
        return [float(v) for v in self._sketch.get_quantiles(list(qs))]

    def rank(self, value: float, *, inclusive: bool = True) -> float:
        """Share of values <= `value` (or < `value` when not inclusive)."""
        if self.is_empty:
            return math.nan
        return float(self._sketch.get_rank(value, inclusive))

    def cdf(self, split_points: Sequence[float]) -> list[float]:
        """Share of values <= each split point, and 1.0 appended for the last interval."""
        return [float(v) for v in self._sketch.get_cdf(list(split_points), True)]

    def pmf(self, split_points: Sequence[float]) -> list[float]:
        """Share of values in (-inf, p0], (p0, p1], ..., (p_last, inf): len(split_points)+1 values."""
        return [float(v) for v in self._sketch.get_pmf(list(split_points), True)]

    def to_bytes(self) -> bytes:
        return bytes(self._sketch.serialize())

    @classmethod
    def from_bytes(cls, blob: bytes, precision: Precision) -> QuantileSketch:
        if precision not in _KLL_TYPES:
            raise SerializationError(f"unknown quantile sketch precision {precision!r}")
        blob = _sketch_bytes(blob, "quantile sketch")
        if not trusted():
            check_kll(blob, k=KLL_K, item_size=4 if precision == "float32" else 8)
        try:
            return cls(_KLL_TYPES[precision].deserialize(blob), precision)
        except Exception as exc:
            raise _sketch_error("quantile sketch", exc) from None


# -------------------------------------------------------------------------------------- distinct


class DistinctSketch:
    """A CPC sketch of distinct values (strings), for distinct counts beyond the exact limit.

    Read from bytes, it keeps the bytes and builds the native sketch on first use, once the
    sandbox has vouched for them (`verify_all` vouches for many in one round trip).
    """

    __slots__ = ("_blob", "_native", "_verified")

    def __init__(self, sketch: Any, blob: bytes | None = None) -> None:
        self._native = sketch
        self._blob = blob
        self._verified = sketch is not None

    @property
    def _sketch(self) -> Any:
        if self._native is None:
            assert self._blob is not None
            if not self._verified:
                CPC_SANDBOX.check([self._blob])
            self._native = ds.cpc_sketch.deserialize(self._blob)
        return self._native

    @classmethod
    def zero(cls) -> DistinctSketch:
        return cls(ds.cpc_sketch(CPC_LG_K))

    @classmethod
    def of(cls, values: Iterable[str]) -> DistinctSketch:
        sketch = ds.cpc_sketch(CPC_LG_K)
        update = sketch.update
        for value in values:
            update(value)
        return cls(sketch)

    def merge(self, other: DistinctSketch) -> DistinctSketch:
        if other.is_empty:
            return self
        if self.is_empty:
            return other
        union = ds.cpc_union(CPC_LG_K)
        union.update(self._sketch)
        union.update(other._sketch)
        return DistinctSketch(union.get_result())

    @classmethod
    def merge_all(cls, sketches: Sequence[DistinctSketch]) -> DistinctSketch:
        """`merge` folded over `sketches` (at least one): one union of the non-empty ones."""
        present = [s for s in sketches if not s.is_empty]
        if len(present) < 2:
            return present[0] if present else sketches[0]
        union = ds.cpc_union(CPC_LG_K)
        for sketch in present:
            union.update(sketch._sketch)
        return cls(union.get_result())

    @property
    def is_empty(self) -> bool:
        if self._native is None and self._blob is not None:
            return len(self._blob) == CPC_EMPTY_BYTES
        return bool(self._sketch.is_empty())

    @property
    def estimate(self) -> float:
        return float(self._sketch.get_estimate())

    def bounds(self, std_devs: int = 2) -> tuple[float, float]:
        return (
            float(self._sketch.get_lower_bound(std_devs)),
            float(self._sketch.get_upper_bound(std_devs)),
        )

    def to_bytes(self) -> bytes:
        if self._native is None and self._blob is not None:
            return self._blob
        return bytes(self._sketch.serialize())

    @classmethod
    def from_bytes(cls, blob: bytes) -> DistinctSketch:
        """Check the layout now; the sandbox and native code come on first use (or `verify_all`)."""
        blob = _sketch_bytes(blob, "distinct-count sketch")
        if trusted():  # bytes this process wrote: no layout check, no sandbox
            sketch = cls(None, blob)
            sketch._verified = True
            return sketch
        check_cpc(blob, lg_k=CPC_LG_K)
        if len(blob) == CPC_EMPTY_BYTES:
            return cls(ds.cpc_sketch(CPC_LG_K))
        return cls(None, blob)

    @staticmethod
    def verify_all(named: Iterable[tuple[str, DistinctSketch]]) -> None:
        """Have the sandbox vouch for every sketch still held as bytes, in one round trip; the
        names (column names) say which sketch failed."""
        pending = [(n, s, s._blob) for n, s in named if not s._verified and s._blob is not None]
        CPC_SANDBOX.check(
            [b for _, _, b in pending if b is not None], names=[n for n, _, _ in pending]
        )
        for _, s, _ in pending:
            s._verified = True


# ------------------------------------------------------------------------------------ categories


def item_key(value: str) -> str:
    """The key a category value is counted under: itself, or a bounded stand-in for huge values."""
    if len(value) <= MAX_ITEM_CHARS:
        return value
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    return f"{value[: MAX_ITEM_CHARS - 16]}…#{digest}"


@dataclass(frozen=True, slots=True)
class ItemCount:
    value: str
    count: int
    lower: int
    upper: int


class CategoryCounts:
    """Counts per category value: exact while there are at most `EXACT_COUNT_LIMIT` values, then
    a frequent-items sketch (counts within `epsilon * total` of the truth, no false negatives)."""

    __slots__ = ("_exact", "_frequent", "total")

    def __init__(self, exact: Mapping[str, int] | None, frequent: Any, total: int) -> None:
        if (exact is None) == (frequent is None):
            raise ValueError("CategoryCounts holds exact counts or a sketch, exactly one")
        self._exact = dict(exact) if exact is not None else None
        self._frequent = frequent
        self.total = total

    @classmethod
    def zero(cls) -> CategoryCounts:
        return cls({}, None, 0)

    @classmethod
    def of(cls, values: Sequence[str], counts: Sequence[int]) -> CategoryCounts:
        exact: dict[str, int] = {}
        for value, count in zip(values, counts, strict=True):
            key = item_key(value)
            exact[key] = exact.get(key, 0) + int(count)
        total = int(sum(counts))
        if len(exact) <= EXACT_COUNT_LIMIT:
            return cls(exact, None, total)
        return cls(None, _frequent_from(exact), total)

    @property
    def is_exact(self) -> bool:
        return self._exact is not None

    @property
    def exact(self) -> Mapping[str, int] | None:
        """Every value with its exact count, or None once there were too many values."""
        return dict(self._exact) if self._exact is not None else None

    @property
    def epsilon(self) -> float:
        """Maximum count error as a share of `total` (0 while exact)."""
        if self._exact is not None:
            return 0.0
        return float(ds.frequent_strings_sketch.get_epsilon_for_lg_size(FREQUENT_LG_MAX_MAP))

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        total = self.total + other.total
        if self._exact is not None and other._exact is not None:
            merged = dict(self._exact)
            for key, count in other._exact.items():
                merged[key] = merged.get(key, 0) + count
            if len(merged) <= EXACT_COUNT_LIMIT:
                return CategoryCounts(merged, None, total)
            return CategoryCounts(None, _frequent_from(merged), total)
        sketch = _copy_frequent(self._as_frequent())
        sketch.merge(other._as_frequent())
        return CategoryCounts(None, sketch, total)

    @classmethod
    def merge_all(cls, items: Sequence[CategoryCounts]) -> CategoryCounts:
        """`merge` folded over `items` (at least one), with one accumulator: exact counts while
        they stay under the limit, then one frequent-items sketch merged into in place."""
        if len(items) == 1:
            return items[0]
        first = items[0]
        total = first.total
        exact = dict(first._exact) if first._exact is not None else None
        frequent: Any = None if exact is not None else _copy_frequent(first._frequent)
        for other in items[1:]:
            total += other.total
            if exact is not None and other._exact is not None:
                get = exact.get
                for key, count in other._exact.items():
                    exact[key] = get(key, 0) + count
                if len(exact) > EXACT_COUNT_LIMIT:
                    frequent = _frequent_from(exact)
                    exact = None
                continue
            if exact is not None:
                frequent = _frequent_from(exact)
                exact = None
            frequent.merge(other._as_frequent())
        return cls(exact, frequent, total)

    def _as_frequent(self) -> Any:
        if self._frequent is not None:
            return self._frequent
        return _frequent_from(self._exact or {})

    def top(self, k: int = 10) -> list[ItemCount]:
        """The `k` most frequent values, most frequent first (ties by value)."""
        if self._exact is not None:
            ranked = sorted(self._exact.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            return [ItemCount(v, c, c, c) for v, c in ranked]
        # Only items the sketch can vouch for: their lower bound beats the error threshold.
        rows = self._frequent.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_POSITIVES)
        rows = sorted(rows, key=lambda r: (-r[1], r[0]))[:k]
        return [ItemCount(str(v), int(est), int(lo), int(hi)) for v, est, lo, hi in rows]

    def count(self, value: str) -> int:
        """Exact count, or the sketch's estimate (0 for values it does not hold)."""
        key = item_key(value)
        if self._exact is not None:
            return self._exact.get(key, 0)
        return int(self._frequent.get_estimate(key))

    def to_state(self) -> dict[str, Any]:
        if self._exact is not None:
            return {"total": self.total, "exact": self._exact}
        return {"total": self.total, "frequent": bytes(self._frequent.serialize())}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> CategoryCounts:
        total = st.count(state, "total")
        if "exact" in state:
            exact = st.counts_map(
                state, "exact", at_most=EXACT_COUNT_LIMIT, key_chars=MAX_ITEM_CHARS
            )
            st.no_more_than(sum(exact.values()), "exact counts", total, "total")
            return cls(exact, None, total)
        blob = _sketch_bytes(st.get(state, "frequent"), "frequent-items sketch")
        if not trusted():
            weight = check_frequent_strings(blob, lg_max_map=FREQUENT_LG_MAX_MAP)
            st.no_more_than(weight, "frequent-items weight", total, "total")
        try:
            sketch = ds.frequent_strings_sketch.deserialize(blob)
        except Exception as exc:
            raise _sketch_error("frequent-items sketch", exc) from None
        return cls(None, sketch, total)


def _frequent_from(counts: Mapping[str, int]) -> Any:
    sketch = ds.frequent_strings_sketch(FREQUENT_LG_MAX_MAP)
    update = sketch.update
    for key, count in counts.items():
        update(key, count)
    return sketch


def _copy_frequent(sketch: Any) -> Any:
    return ds.frequent_strings_sketch.deserialize(sketch.serialize())
