"""The profile of a categorical or text column."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.errors import InvalidInputError
from vigil.profile import state as st
from vigil.profile.columns.common import count_nulls, either
from vigil.profile.sketches import CategoryCounts, DistinctSketch, Moments
from vigil.schema import STRING_KINDS, ColumnKind

MAX_PATTERNS = 1_000
"""Patterns counted for one column; a profile read from bytes holds no more."""
_STRING_KIND_NAMES = frozenset(kind.value for kind in STRING_KINDS)


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
            null_count=count_nulls(array),
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
            min_length=either(min, self.min_length, other.min_length),
            max_length=either(max, self.max_length, other.max_length),
            patterns={p: self.patterns[p] + other.patterns[p] for p in sorted(shared)},
        )

    @classmethod
    def merge_all(cls, columns: Sequence[StringColumn]) -> StringColumn:
        """`merge` folded over `columns` (at least one), each block merged in one pass."""
        shared = set(columns[0].patterns).intersection(*(c.patterns for c in columns[1:]))
        shortest = [c.min_length for c in columns if c.min_length is not None]
        longest = [c.max_length for c in columns if c.max_length is not None]
        return StringColumn(
            kind=ColumnKind.TEXT
            if any(c.kind is ColumnKind.TEXT for c in columns)
            else columns[0].kind,
            count=sum(c.count for c in columns),
            null_count=sum(c.null_count for c in columns),
            categories=CategoryCounts.merge_all([c.categories for c in columns]),
            distinct_sketch=DistinctSketch.merge_all([c.distinct_sketch for c in columns]),
            lengths=Moments.merge_all([c.lengths for c in columns]),
            min_length=min(shortest, default=None),
            max_length=max(longest, default=None),
            patterns={p: sum(c.patterns[p] for c in columns) for p in sorted(shared)},
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
