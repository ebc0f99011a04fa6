"""Column profiles, one class per kind, each immutable and mergeable.

A column profile is built from one Arrow array by `profile_array` and merged with `merge_columns`.
Every class follows the same small contract: `of(array)`, `merge(other)`, `to_state()` and
`from_state(state)` for serialisation, and `to_dict()` for readers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import InvalidInputError, SchemaConflictError, SerializationError
from vigil.profile import state as st
from vigil.profile.sketches import (
    CategoryCounts,
    DistinctSketch,
    FloatArray,
    Moments,
    QuantileSketch,
    VectorMoments,
)
from vigil.schema import STRING_KINDS, ColumnKind

HISTOGRAM_BINS = 20
MAX_PATTERNS = 1_000
"""Patterns counted for one column; a profile read from bytes holds no more."""
MAX_EMBEDDING_DIM = 1 << 20
"""Dimensions of an embedding column read from bytes (8 MiB of means at most)."""
_STRING_KIND_NAMES = frozenset(kind.value for kind in STRING_KINDS)


@dataclass(frozen=True, slots=True)
class Histogram:
    """Bin edges (len n+1) and approximate counts (len n), derived from a quantile sketch."""

    edges: tuple[float, ...]
    counts: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        return {"edges": list(self.edges), "counts": list(self.counts)}


def _nulls(array: pa.Array) -> int:
    return int(array.null_count)


# --------------------------------------------------------------------------------------- unknown


@dataclass(frozen=True, slots=True)
class UnknownColumn:
    """A column with no typed values yet; merging with any other kind adopts that kind."""

    count: int = 0
    null_count: int = 0
    kind: ClassVar[ColumnKind] = ColumnKind.UNKNOWN

    @classmethod
    def of(cls, array: pa.Array) -> UnknownColumn:
        return cls(len(array), len(array))

    def merge(self, other: UnknownColumn) -> UnknownColumn:
        return UnknownColumn(self.count + other.count, self.null_count + other.null_count)

    def to_state(self) -> dict[str, Any]:
        return {"count": self.count, "null_count": self.null_count}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> UnknownColumn:
        column = cls(st.count(state, "count"), st.count(state, "null_count"))
        st.no_more_than(column.null_count, "null_count", column.count, "count")
        return column

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "count": self.count, "null_count": self.null_count}


# --------------------------------------------------------------------------------------- numeric


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
            null_count=_nulls(array),
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
        _check_q(q)
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
            "variance": _finite_or_none(self.variance),
            "std": _finite_or_none(self.std),
            "quantiles": _quantile_dict(self.quantile) if has else None,
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


# -------------------------------------------------------------------------------------- datetime

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class DatetimeColumn:
    """Extremes and quantiles of timestamps, kept as microseconds since the epoch (UTC)."""

    count: int
    null_count: int
    min_us: int | None
    max_us: int | None
    quantiles: QuantileSketch
    timezone: str | None
    kind: ClassVar[ColumnKind] = ColumnKind.DATETIME

    @classmethod
    def of(cls, array: pa.Array) -> DatetimeColumn:
        t = array.type
        timezone = t.tz if pa.types.is_timestamp(t) else None
        values = array.drop_null() if array.null_count else array
        if pa.types.is_date(values.type):
            values = values.cast(pa.timestamp("us"))
        micros = pc.cast(values, pa.timestamp("us", tz=timezone), safe=False).cast(pa.int64())
        as_int = micros.to_numpy(zero_copy_only=False)
        return cls(
            count=len(array),
            null_count=_nulls(array),
            min_us=int(as_int.min()) if as_int.size else None,
            max_us=int(as_int.max()) if as_int.size else None,
            quantiles=QuantileSketch.of(as_int.astype(np.float64), "float64"),
            timezone=timezone,
        )

    def merge(self, other: DatetimeColumn) -> DatetimeColumn:
        return DatetimeColumn(
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            min_us=_opt(min, self.min_us, other.min_us),
            max_us=_opt(max, self.max_us, other.max_us),
            quantiles=self.quantiles.merge(other.quantiles),
            timezone=self.timezone if self.timezone == other.timezone else "UTC",
        )

    @property
    def min(self) -> dt.datetime | None:
        return _from_us(self.min_us)

    @property
    def max(self) -> dt.datetime | None:
        return _from_us(self.max_us)

    def quantile(self, q: float) -> dt.datetime | None:
        _check_q(q)
        if self.min_us is None:
            return None
        return _from_us(round(self.quantiles.quantile(q)))

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "null_count": self.null_count,
            "min": self.min_us,
            "max": self.max_us,
            "kll": self.quantiles.to_bytes(),
            "tz": self.timezone,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DatetimeColumn:
        column = cls(
            count=st.count(state, "count"),
            null_count=st.count(state, "null_count"),
            min_us=st.micros(state, "min"),
            max_us=st.micros(state, "max"),
            quantiles=QuantileSketch.from_bytes(st.get(state, "kll"), "float64"),
            timezone=st.text(state, "tz", optional=True),
        )
        st.no_more_than(column.null_count, "null_count", column.count, "count")
        st.no_more_than(column.quantiles.n, "quantile sketch count", column.count, "count")
        extremes = column.min_us, column.max_us
        if column.quantiles.is_empty:
            if extremes != (None, None):
                raise st.bad("min/max", "of a column without values must be null", extremes)
            return column
        sketched = column.quantiles.quantile(0.0), column.quantiles.quantile(1.0)
        if None in extremes or column.min_us > column.max_us:  # type: ignore[operator]
            raise st.bad("min/max", "must be set with min <= max", extremes)
        if not st.MIN_MICROS <= sketched[0] <= sketched[1] <= st.MAX_MICROS:
            raise st.bad(
                "kll", "quantiles must be microseconds between the years 1 and 9999", sketched
            )
        return column

    def to_dict(self) -> dict[str, Any]:
        def iso(v: dt.datetime | None) -> str | None:
            return v.isoformat() if v is not None else None

        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "min": iso(self.min),
            "max": iso(self.max),
            "median": iso(self.quantile(0.5)),
            "timezone": self.timezone,
        }


def _from_us(micros: int | None) -> dt.datetime | None:
    if micros is None:
        return None
    return _EPOCH + dt.timedelta(microseconds=micros)


# --------------------------------------------------------------------------------------- boolean


@dataclass(frozen=True, slots=True)
class BooleanColumn:
    count: int
    null_count: int
    true_count: int
    kind: ClassVar[ColumnKind] = ColumnKind.BOOLEAN

    @classmethod
    def of(cls, array: pa.Array) -> BooleanColumn:
        return cls(len(array), _nulls(array), int(pc.sum(array).as_py() or 0))

    def merge(self, other: BooleanColumn) -> BooleanColumn:
        return BooleanColumn(
            self.count + other.count,
            self.null_count + other.null_count,
            self.true_count + other.true_count,
        )

    @property
    def false_count(self) -> int:
        return self.count - self.null_count - self.true_count

    @property
    def true_share(self) -> float:
        present = self.count - self.null_count
        return self.true_count / present if present else math.nan

    def to_state(self) -> dict[str, Any]:
        return {"count": self.count, "null_count": self.null_count, "true": self.true_count}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> BooleanColumn:
        column = cls(
            st.count(state, "count"), st.count(state, "null_count"), st.count(state, "true")
        )
        st.no_more_than(
            column.null_count + column.true_count, "nulls and trues", column.count, "count"
        )
        return column

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "true_count": self.true_count,
            "false_count": self.false_count,
        }


# ---------------------------------------------------------------------------------------- string


@dataclass(frozen=True, slots=True)
class StringColumn:
    """Categorical or text column: value counts, distinct count, string lengths, pattern matches.

    `patterns` maps a regular expression to the number of non-null values that match it; it is
    filled only for patterns asked for when profiling (validation suites do).
    """

    kind: ColumnKind
    count: int
    null_count: int
    categories: CategoryCounts
    distinct_sketch: DistinctSketch
    lengths: Moments
    min_length: int | None
    max_length: int | None
    patterns: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, array: pa.Array, kind: ColumnKind, patterns: Sequence[str] = ()) -> StringColumn:
        values = _as_valid_strings(array)
        counted = pc.value_counts(values)
        keys = counted.field("values").to_pylist()
        counts = counted.field("counts").to_pylist()
        lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False).astype(np.float64)
        matches = {
            pattern: int(pc.sum(pc.match_substring_regex(values, pattern)).as_py() or 0)
            for pattern in patterns
        }
        return cls(
            kind=kind,
            count=len(array),
            null_count=_nulls(array),
            categories=CategoryCounts.of(keys, counts),
            distinct_sketch=DistinctSketch.of(keys),
            lengths=Moments.of(lengths),
            min_length=int(lengths.min()) if lengths.size else None,
            max_length=int(lengths.max()) if lengths.size else None,
            patterns=matches,
        )

    def merge(self, other: StringColumn) -> StringColumn:
        shared = self.patterns.keys() & other.patterns.keys()
        return StringColumn(
            # Text is the broader reading of a string column: a chunk inferred as text wins.
            kind=ColumnKind.TEXT if ColumnKind.TEXT in (self.kind, other.kind) else self.kind,
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            categories=self.categories.merge(other.categories),
            distinct_sketch=self.distinct_sketch.merge(other.distinct_sketch),
            lengths=self.lengths.merge(other.lengths),
            min_length=_opt(min, self.min_length, other.min_length),
            max_length=_opt(max, self.max_length, other.max_length),
            patterns={p: self.patterns[p] + other.patterns[p] for p in sorted(shared)},
        )

    @property
    def distinct(self) -> int:
        """Distinct non-null values: exact while counts are exact, else the CPC estimate."""
        exact = self.categories.exact
        if exact is not None:
            return len(exact)
        # The estimate can exceed the number of values on small inputs; the truth cannot.
        return min(round(self.distinct_sketch.estimate), self.count - self.null_count)

    @property
    def distinct_is_exact(self) -> bool:
        return self.categories.is_exact

    def top(self, k: int = 10) -> list[tuple[str, int]]:
        return [(item.value, item.count) for item in self.categories.top(k)]

    def pattern_share(self, pattern: str) -> float:
        """Share of non-null values matching `pattern`; the pattern must have been profiled."""
        if pattern not in self.patterns:
            raise InvalidInputError(
                f"pattern {pattern!r} was not counted for this column; profile with "
                f"patterns={{column: [{pattern!r}]}} to count it",
                pattern=pattern,
            )
        present = self.count - self.null_count
        return self.patterns[pattern] / present if present else math.nan

    def to_state(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "categories": self.categories.to_state(),
            "cpc": self.distinct_sketch.to_bytes(),
            "lengths": [self.lengths.count, self.lengths.mean, self.lengths.m2],
            "min_length": self.min_length,
            "max_length": self.max_length,
            "patterns": dict(self.patterns),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StringColumn:
        kind = st.text(state, "kind")
        if kind not in _STRING_KIND_NAMES:
            raise st.bad("kind", f"must be one of {sorted(_STRING_KIND_NAMES)}", kind)
        column = cls(
            kind=ColumnKind(kind),
            count=st.count(state, "count"),
            null_count=st.count(state, "null_count"),
            categories=CategoryCounts.from_state(st.get(state, "categories")),
            distinct_sketch=DistinctSketch.from_bytes(st.get(state, "cpc")),
            lengths=Moments(*st.triple(state, "lengths")),
            min_length=st.optional_count(state, "min_length"),
            max_length=st.optional_count(state, "max_length"),
            patterns=st.counts_map(
                state, "patterns", at_most=MAX_PATTERNS, key_chars=st.MAX_TEXT_CHARS
            ),
        )
        parts = {"null_count": column.null_count, "categories total": column.categories.total}
        parts |= {"lengths count": column.lengths.count, **column.patterns}
        for name, value in parts.items():
            st.no_more_than(value, name, column.count, "count")
        return column

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "distinct": self.distinct,
            "distinct_exact": self.distinct_is_exact,
            "top": [{"value": v, "count": c} for v, c in self.top(10)],
            "length": {
                "min": self.min_length,
                "max": self.max_length,
                "mean": self.lengths.mean if self.lengths.count else None,
            },
            "patterns": dict(self.patterns),
        }


def _as_valid_strings(array: pa.Array) -> pa.Array:
    """Non-null values as a valid UTF-8 string array; undecodable bytes become backslash escapes."""
    values = array.drop_null() if array.null_count else array
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        try:
            values.validate(full=True)
            return values
        except pa.ArrowInvalid:
            values = values.cast(pa.large_binary())
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        decoded = [v.decode("utf-8", errors="backslashreplace") for v in values.to_pylist()]
        return pa.array(decoded, type=pa.large_string())
    if pa.types.is_string_view(values.type):
        return values.cast(pa.large_string())
    try:
        return pc.cast(values, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([str(v) for v in values.to_pylist()], type=pa.large_string())


# ------------------------------------------------------------------------------------- embedding


@dataclass(frozen=True, slots=True)
class EmbeddingColumn:
    """Fixed-length float vectors: per-dimension moments and the distribution of their norms."""

    count: int
    null_count: int
    dim: int
    moments: VectorMoments
    norms: QuantileSketch
    norm_moments: Moments
    kind: ClassVar[ColumnKind] = ColumnKind.EMBEDDING

    @classmethod
    def of(cls, array: pa.Array) -> EmbeddingColumn:
        values = array.drop_null() if array.null_count else array
        matrix = _embedding_matrix(values)
        finite_rows = matrix[np.isfinite(matrix).all(axis=1)]
        norms = np.linalg.norm(finite_rows, axis=1)
        return cls(
            count=len(array),
            null_count=_nulls(array),
            dim=int(matrix.shape[1]),
            moments=VectorMoments.of(finite_rows),
            norms=QuantileSketch.of(norms, "float32"),
            norm_moments=Moments.of(norms),
        )

    def merge(self, other: EmbeddingColumn) -> EmbeddingColumn:
        if self.dim != other.dim and self.moments.count and other.moments.count:
            raise SchemaConflictError(
                f"cannot merge embeddings of dimension {self.dim} and {other.dim}"
            )
        dim = self.dim if self.moments.count else other.dim
        return EmbeddingColumn(
            count=self.count + other.count,
            null_count=self.null_count + other.null_count,
            dim=dim,
            moments=self.moments.merge(other.moments),
            norms=self.norms.merge(other.norms),
            norm_moments=self.norm_moments.merge(other.norm_moments),
        )

    @property
    def mean(self) -> FloatArray:
        return self.moments.mean

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "null_count": self.null_count,
            "dim": self.dim,
            "n": self.moments.count,
            "mean": self.moments.mean.astype("<f8").tobytes(),
            "m2": self.moments.m2.astype("<f8").tobytes(),
            "kll": self.norms.to_bytes(),
            "norm_moments": [self.norm_moments.count, self.norm_moments.mean, self.norm_moments.m2],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> EmbeddingColumn:
        dim = st.count(state, "dim", at_most=MAX_EMBEDDING_DIM)
        raw_mean, raw_m2 = st.get(state, "mean"), st.get(state, "m2")
        if type(raw_mean) is not bytes or type(raw_m2) is not bytes:
            raise SerializationError("corrupt embedding moments in profile bytes: not bytes")
        if len(raw_mean) != 8 * dim or len(raw_m2) != 8 * dim:
            raise SerializationError(
                f"corrupt embedding moments in profile bytes: {len(raw_mean)} and "
                f"{len(raw_m2)} bytes for dimension {dim} (8 bytes per value)"
            )
        mean = np.frombuffer(raw_mean, dtype="<f8").astype(np.float64)
        m2 = np.frombuffer(raw_m2, dtype="<f8").astype(np.float64)
        column = cls(
            count=st.count(state, "count"),
            null_count=st.count(state, "null_count"),
            dim=dim,
            moments=VectorMoments(st.count(state, "n"), mean, m2),
            norms=QuantileSketch.from_bytes(st.get(state, "kll"), "float32"),
            norm_moments=Moments(*st.triple(state, "norm_moments")),
        )
        parts = {"null_count": column.null_count, "n": column.moments.count}
        parts |= {"norm count": column.norm_moments.count, "norm sketch count": column.norms.n}
        for name, value in parts.items():
            st.no_more_than(value, name, column.count, "count")
        return column

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "count": self.count,
            "null_count": self.null_count,
            "dim": self.dim,
            "norm": {
                "mean": self.norm_moments.mean if self.norm_moments.count else None,
                "quantiles": _quantile_dict(self.norms.quantile)
                if not self.norms.is_empty
                else None,
            },
        }


def _embedding_matrix(values: pa.Array) -> FloatArray:
    if pa.types.is_fixed_size_list(values.type):
        dim = values.type.list_size
        flat = pc.cast(values.flatten(), pa.float64()).to_numpy(zero_copy_only=False)
        return flat.reshape(-1, dim) if dim else np.zeros((len(values), 0))
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    if lengths.size and (lengths != lengths[0]).any():
        raise InvalidInputError(
            f"embedding rows have different lengths ({int(lengths.min())} to {int(lengths.max())}); "
            "every vector in an embedding column must have the same dimension"
        )
    dim = int(lengths[0]) if lengths.size else 0
    flat = pc.cast(values.flatten(), pa.float64()).to_numpy(zero_copy_only=False)
    return flat.reshape(-1, dim) if dim else np.zeros((len(values), 0))


# ----------------------------------------------------------------------------------------- shared

COLUMN_TYPES: dict[ColumnKind, Any] = {
    ColumnKind.UNKNOWN: UnknownColumn,
    ColumnKind.NUMERIC: NumericColumn,
    ColumnKind.DATETIME: DatetimeColumn,
    ColumnKind.BOOLEAN: BooleanColumn,
    ColumnKind.CATEGORICAL: StringColumn,
    ColumnKind.TEXT: StringColumn,
    ColumnKind.EMBEDDING: EmbeddingColumn,
}

AnyColumn = (
    UnknownColumn | NumericColumn | DatetimeColumn | BooleanColumn | StringColumn | EmbeddingColumn
)


def profile_array(array: pa.Array, kind: ColumnKind, patterns: Sequence[str] = ()) -> AnyColumn:
    """Profile one Arrow array as the given kind (the array is cast to fit the kind first)."""
    if kind is ColumnKind.UNKNOWN or pa.types.is_null(array.type):
        if kind is ColumnKind.UNKNOWN:
            return UnknownColumn.of(array)
        array = pa.nulls(len(array), type=_NULL_TYPES[kind])
    if kind in STRING_KINDS:
        return StringColumn.of(array, kind, patterns)
    if kind is ColumnKind.NUMERIC:
        return NumericColumn.of(array)
    if kind is ColumnKind.BOOLEAN:
        return BooleanColumn.of(array)
    if kind is ColumnKind.DATETIME:
        return DatetimeColumn.of(array)
    return EmbeddingColumn.of(array)


_NULL_TYPES: dict[ColumnKind, pa.DataType] = {
    ColumnKind.NUMERIC: pa.float64(),
    ColumnKind.CATEGORICAL: pa.string(),
    ColumnKind.TEXT: pa.string(),
    ColumnKind.BOOLEAN: pa.bool_(),
    ColumnKind.DATETIME: pa.timestamp("us"),
    ColumnKind.EMBEDDING: pa.list_(pa.float64()),
}


def merge_columns(name: str, a: AnyColumn, b: AnyColumn) -> AnyColumn:
    """Merge two profiles of the same column. Unknown merges into anything; categorical and text
    merge as text; any other pair of different kinds is a conflict."""
    if isinstance(a, UnknownColumn) and not isinstance(b, UnknownColumn):
        return _add_nulls(b, a.count)
    if isinstance(b, UnknownColumn) and not isinstance(a, UnknownColumn):
        return _add_nulls(a, b.count)
    if type(a) is not type(b):
        raise SchemaConflictError(
            f"column {name!r} is {a.kind.value} in one profile and {b.kind.value} in the other; "
            "profile both with the same schema (e.g. schema={" + repr(name) + ": 'categorical'})",
            column=name,
            kinds=[a.kind.value, b.kind.value],
        )
    merged: AnyColumn = a.merge(b)  # type: ignore[arg-type]
    return merged


def _add_nulls(column: AnyColumn, n: int) -> AnyColumn:
    if n == 0:
        return column
    return replace(column, count=column.count + n, null_count=column.null_count + n)


def column_from_state(kind: str, state: Mapping[str, Any]) -> AnyColumn:
    try:
        parsed = ColumnKind(kind)
    except ValueError:
        raise SerializationError(f"unknown column kind {kind!r} in profile bytes") from None
    result: AnyColumn = COLUMN_TYPES[parsed].from_state(state)
    return result


# ---------------------------------------------------------------------------------------- helpers

QUANTILE_POINTS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def _quantile_dict(fn: Any) -> dict[str, float]:
    return {f"p{round(q * 100)}": float(fn(q)) for q in QUANTILE_POINTS}


def _check_q(q: float) -> None:
    if not 0.0 <= q <= 1.0 or math.isnan(q):
        raise InvalidInputError(f"quantile must be between 0 and 1, got {q!r}", value=q)


def _opt(fn: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _histogram(sketch: QuantileSketch, lo: float, hi: float, bins: int) -> Histogram:
    if sketch.is_empty or not math.isfinite(lo) or not math.isfinite(hi):
        return Histogram((), ())
    if lo == hi:
        return Histogram((lo, hi), (float(sketch.n),))
    edges = np.linspace(lo, hi, bins + 1)
    masses = sketch.pmf(edges[1:-1].tolist())
    counts = tuple(float(m) * sketch.n for m in masses)
    return Histogram(tuple(float(e) for e in edges), counts)
