"""Checks on a column's existence and kind."""

from __future__ import annotations

from typing import Any, Self

from pydantic import field_validator

from vigil.analysis.validation.base import Check, CheckResult, Observation
from vigil.errors import InvalidInputError
from vigil.profile.columns import AnyColumn
from vigil.profile.profile import DatasetProfile
from vigil.schema import ColumnKind


class ColumnPresent(Check):
    """The column is in the data (and was profiled).

    Catches a dropped or renamed column before any other check reports it as unavailable.
    """

    type = "column_present"
    statistic = "presence"

    def expected(self) -> str:
        return "present"

    def run(self, profile: DatasetProfile) -> CheckResult:
        if self.column in profile.columns:
            return self.result(Observation("present", True))
        reason = profile.skipped.get(self.column)
        note = f"not profiled: {reason}" if reason else ""
        return self.result(Observation("absent", False, note))

    def observe(self, column: AnyColumn) -> Observation:
        return Observation("present", True)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column)


class KindIs(Check):
    """The column has the given kind (numeric, categorical, boolean, datetime, text, embedding).

    Catches a changed type, e.g. numbers arriving as strings. A column with no typed values at all
    (every value null) has kind "unknown" and fails.
    """

    type = "kind_is"
    statistic = "kind"

    kind: ColumnKind

    @field_validator("kind", mode="before")
    @classmethod
    def _parse_kind(cls, value: Any) -> ColumnKind:
        if not isinstance(value, str | ColumnKind):
            raise ValueError(f"must be a column kind name, got {type(value).__name__}")
        try:
            return ColumnKind.parse(value)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None

    def expected(self) -> str:
        return self.kind.value

    def observe(self, column: AnyColumn) -> Observation:
        found = column.kind
        note = "no typed values (e.g. all null)" if found is ColumnKind.UNKNOWN else ""
        return Observation(found.value, found is self.kind, note)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, kind=ColumnKind.NUMERIC)
