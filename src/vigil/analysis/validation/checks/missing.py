"""The share of missing values."""

from __future__ import annotations

from typing import Self

from pydantic import Field

from vigil.analysis.validation.base import Check, Observation
from vigil.profile.columns import AnyColumn, NumericColumn


def missing_share(column: AnyColumn) -> float | None:
    """Missing values over all rows: nulls, plus NaN in numeric columns. None without rows."""
    if column.count == 0:
        return None
    missing = column.missing_count if isinstance(column, NumericColumn) else column.null_count
    return missing / column.count


class MissingShareAtMost(Check):
    """At most `max_share` (0 to 1) of the rows are missing: null, or NaN in a numeric column.

    Works on every kind; a column with no rows at all fails (the share is undefined).
    """

    type = "missing_share_at_most"
    statistic = "missing share"

    max_share: float = Field(ge=0.0, le=1.0)

    def expected(self) -> str:
        return f"<= {self.max_share:.4g}"

    def observe(self, column: AnyColumn) -> Observation:
        share = missing_share(column)
        if share is None:
            return Observation.unavailable("the column has no rows")
        return Observation(share, share <= self.max_share)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, max_share=0.1)
