"""Timestamps within a span."""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from pydantic import field_validator, model_validator

from vigil.analysis.validation.base import Check, Observation
from vigil.profile.columns import AnyColumn, DatetimeColumn
from vigil.schema import ColumnKind


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class DatetimeInRange(Check):
    """Every timestamp lies in ``[min, max]`` (ISO 8601; times without a zone are read as UTC);
    either bound may be left out. Catches epoch-zero placeholders and dates in the far future.

    Exact: the profile keeps the earliest and latest timestamp to the microsecond.
    """

    type = "datetime_in_range"
    kinds = frozenset({ColumnKind.DATETIME})
    statistic = "time span"

    min: dt.datetime | None = None
    max: dt.datetime | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        # YAML gives an ISO string (quoted) or a datetime (unquoted); a date means its midnight.
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not an ISO 8601 time (e.g. 2026-01-31T00:00:00Z)"
                ) from None
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        return _utc(value) if isinstance(value, dt.datetime) else value

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None:
            raise ValueError("give at least one of 'min' and 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"'min' ({self.min.isoformat()}) is after 'max' ({self.max.isoformat()})"
            )
        return self

    def expected(self) -> str:
        lo = self.min.isoformat() if self.min is not None else None
        hi = self.max.isoformat() if self.max is not None else None
        if lo is not None and hi is not None:
            return f"within [{lo}, {hi}]"
        return f">= {lo}" if lo is not None else f"<= {hi}"

    def observe(self, column: AnyColumn) -> Observation:
        assert isinstance(column, DatetimeColumn)  # guaranteed by `kinds`
        first, last = column.min, column.max
        if first is None or last is None:
            return Observation.unavailable("the column has no non-null values")
        passed = (self.min is None or first >= self.min) and (self.max is None or last <= self.max)
        return Observation(f"{first.isoformat()} to {last.isoformat()}", passed)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, min=dt.datetime(1971, 1, 1, tzinfo=dt.UTC))
