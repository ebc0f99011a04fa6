"""Checks on string columns: distinct count, allowed categories (and the share of new ones), and
uniqueness. Exact while the profile's category counts are exact (at most 1,000 distinct values);
beyond that they read the sketches and say so in the message."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from vigil.analysis.validation.base import STRINGS, Check, Observation, fmt
from vigil.profile.columns import AnyColumn, StringColumn
from vigil.profile.sketches import item_key

UNIQUE_SKETCH_STD_DEVS = 3
"""Beyond the exact limit, `unique` fails only when the CPC distinct-count sketch's upper bound at
this many standard deviations is below the number of non-null values. At lg_k=11 that bound is
about 3-5% above the estimate, so duplicates in fewer than ~5% of the rows can go unnoticed, and a
unique column is wrongly failed with probability about 0.1%."""

NEW_VALUES_SHOWN = 5


def _strings(column: AnyColumn) -> StringColumn:
    assert isinstance(column, StringColumn)  # guaranteed by `kinds`; narrows for mypy
    return column


class DistinctCountInRange(Check):
    """The number of distinct non-null values is in ``[min, max]`` (either bound may be left out).

    Exact up to 1,000 distinct values, then the CPC sketch's estimate (about ±2%).
    """

    type = "distinct_count_in_range"
    kinds = STRINGS
    statistic = "distinct count"

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("give at least one of 'min' and 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"'min' ({self.min}) is greater than 'max' ({self.max})")
        return self

    def expected(self) -> str:
        if self.min is not None and self.max is not None:
            return f"in [{self.min}, {self.max}]"
        if self.min is not None:
            return f">= {self.min}"
        return f"<= {self.max}"

    def observe(self, column: AnyColumn) -> Observation:
        col = _strings(column)
        distinct = col.distinct
        passed = (self.min is None or distinct >= self.min) and (
            self.max is None or distinct <= self.max
        )
        note = "" if col.distinct_is_exact else "estimated by a CPC sketch, about ±2%"
        return Observation(distinct, passed, note)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, min=1, max=50)


class AllowedCategories(Check):
    """Non-null values come from `values`; at most `max_new_share` (0 to 1) of them may be other
    ("new") values. With the default 0, any new value fails.

    Exact while the column's counts are exact. Beyond 1,000 distinct values the share is
    1 - (sum of the allowed values' estimated counts) / (non-null values), from the frequent-items
    sketch: each count is within ±1.4% of the rows, and the message says it is an estimate.
    """

    type = "allowed_categories"
    kinds = STRINGS
    statistic = "new-category share"

    values: tuple[str, ...] = Field(min_length=1)
    max_new_share: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("values", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        # YAML and JSON give lists; the model keeps an immutable, sorted, de-duplicated tuple.
        if isinstance(value, list | tuple | set | frozenset):
            if not all(isinstance(v, str) for v in value):
                bad = next(v for v in value if not isinstance(v, str))
                raise ValueError(
                    f"every allowed value must be a string, and {bad!r} is a "
                    f"{type(bad).__name__} (quote it in YAML: '{bad}')"
                )
            return tuple(sorted(set(value)))
        return value

    def expected(self) -> str:
        shown = ", ".join(repr(v) for v in self.values[:NEW_VALUES_SHOWN])
        more = f", ... ({len(self.values)} values)" if len(self.values) > NEW_VALUES_SHOWN else ""
        return f"<= {self.max_new_share:.4g} outside {{{shown}{more}}}"

    def observe(self, column: AnyColumn) -> Observation:
        col = _strings(column)
        total = col.categories.total
        if total == 0:
            return Observation.unavailable("the column has no non-null values")
        allowed = {item_key(v) for v in self.values}
        exact = col.categories.exact
        if exact is not None:
            new = {v: c for v, c in exact.items() if v not in allowed}
            share = sum(new.values()) / total
            note = ""
        else:
            allowed_count = sum(col.categories.count(v) for v in self.values)
            share = max(0.0, 1.0 - allowed_count / total)
            new = {v: c for v, c in col.top(50) if v not in allowed}
            note = f"estimated from a sketch, counts ±{col.categories.epsilon:.1%} of rows"
        if new:
            ranked = sorted(new.items(), key=lambda kv: (-kv[1], kv[0]))[:NEW_VALUES_SHOWN]
            listed = ", ".join(f"{v!r} ({c})" for v, c in ranked)
            more = " ..." if len(new) > NEW_VALUES_SHOWN else ""
            note = "; ".join(filter(None, [f"new values: {listed}{more}", note]))
        return Observation(share, share <= self.max_new_share, note)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, values=("a", "b", "c"), max_new_share=0.01)


class Unique(Check):
    """Every non-null value is different (distinct count == non-null count).

    Exact while counts are exact (at most 1,000 distinct values). Beyond that it reads the CPC
    sketch and fails only when the sketch's upper bound (3 standard deviations) is below the
    non-null count: duplicates in fewer than ~5% of rows can go unnoticed. For numeric ids, profile
    the column as categorical (``schema={"id": "categorical"}``).
    """

    type = "unique"
    kinds = STRINGS
    statistic = "distinct count"

    def expected(self) -> str:
        return "== non-null count"

    def observe(self, column: AnyColumn) -> Observation:
        col = _strings(column)
        present = col.count - col.null_count
        distinct = col.distinct
        if col.distinct_is_exact:
            return Observation(distinct, distinct == present, f"of {present} non-null values")
        upper = col.distinct_sketch.bounds(UNIQUE_SKETCH_STD_DEVS)[1]
        note = (
            f"of {present} non-null values; estimated by a CPC sketch, upper bound "
            f"{fmt(round(upper))} at {UNIQUE_SKETCH_STD_DEVS} std. dev."
        )
        return Observation(distinct, upper >= present, note)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column)
