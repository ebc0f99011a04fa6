"""A numeric statistic in a range: the minimum, maximum, mean, standard deviation or a quantile.

Minimum, maximum, mean and standard deviation are exact (the profile keeps exact moments and
extremes); quantiles come from the KLL sketch, whose rank error the message states.
"""

from __future__ import annotations

import math
from typing import ClassVar, Self

from pydantic import Field

from vigil.analysis.validation.base import NUMERIC, Observation, RangeCheck
from vigil.profile.columns import AnyColumn, BooleanColumn, NumericColumn
from vigil.schema import ColumnKind


def _numeric(column: AnyColumn) -> NumericColumn:
    assert isinstance(column, NumericColumn)  # guaranteed by `kinds`; narrows for mypy
    return column


class MinInRange(RangeCheck):
    """The smallest value is in ``[min, max]``; usually only ``min`` is given, so that no value
    falls below it. A ``-inf`` value counts as the minimum."""

    type = "min_in_range"
    kinds = NUMERIC
    statistic = "min"

    def observe(self, column: AnyColumn) -> Observation:
        col = _numeric(column)
        if col.neginf_count:
            return self.judge(-math.inf, f"{col.neginf_count} value(s) are -inf")
        if col.finite_count == 0:
            return Observation.unavailable("the column has no finite values")
        return self.judge(col.min)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, min=0.0)


class MaxInRange(RangeCheck):
    """The largest value is in ``[min, max]``; usually only ``max`` is given, so that no value
    exceeds it. An ``inf`` value counts as the maximum."""

    type = "max_in_range"
    kinds = NUMERIC
    statistic = "max"

    def observe(self, column: AnyColumn) -> Observation:
        col = _numeric(column)
        if col.posinf_count:
            return self.judge(math.inf, f"{col.posinf_count} value(s) are inf")
        if col.finite_count == 0:
            return Observation.unavailable("the column has no finite values")
        return self.judge(col.max)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, max=100.0)


class MeanInRange(RangeCheck):
    """The mean of the finite values is in ``[min, max]``. On a boolean column the mean is the
    share of true values."""

    type = "mean_in_range"
    kinds: ClassVar[frozenset[ColumnKind] | None] = frozenset(
        {ColumnKind.NUMERIC, ColumnKind.BOOLEAN}
    )
    statistic = "mean"

    def observe(self, column: AnyColumn) -> Observation:
        if isinstance(column, BooleanColumn):
            if column.count == column.null_count:
                return Observation.unavailable("the column has no non-null values")
            return self.judge(column.true_share, "share of true values")
        col = _numeric(column)
        if col.finite_count == 0:
            return Observation.unavailable("the column has no finite values")
        return self.judge(col.mean)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, min=-10.0, max=10.0)


class StdInRange(RangeCheck):
    """The sample standard deviation (ddof=1) of the finite values is in ``[min, max]``."""

    type = "std_in_range"
    kinds = NUMERIC
    statistic = "std"

    min: float | None = Field(default=None, ge=0.0)
    max: float | None = Field(default=None, ge=0.0)

    def observe(self, column: AnyColumn) -> Observation:
        col = _numeric(column)
        if col.finite_count < 2:
            return Observation.unavailable(
                f"the standard deviation needs two finite values, the column has {col.finite_count}"
            )
        return self.judge(col.std)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, min=0.0, max=10.0)


class QuantileInRange(RangeCheck):
    """The `q`-quantile (0 to 1) of the finite values is in ``[min, max]``.

    Read from the KLL sketch: the value returned has a rank within about ±1.3% of `q` (99%
    confidence; exact for q = 0 and q = 1, which are the minimum and maximum).
    """

    type = "quantile_in_range"
    kinds = NUMERIC
    statistic = "quantile"

    q: float = Field(ge=0.0, le=1.0)

    def label(self) -> str:
        return f"quantile {self.q:g}"

    def observe(self, column: AnyColumn) -> Observation:
        col = _numeric(column)
        if col.finite_count == 0:
            return Observation.unavailable("the column has no finite values")
        value = col.quantile(self.q)
        exact = self.q in (0.0, 1.0)
        note = "" if exact else f"approximate: rank error ±{col.quantiles.rank_error:.1%}"
        return self.judge(value, note)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, q=0.5, min=-10.0, max=10.0)
