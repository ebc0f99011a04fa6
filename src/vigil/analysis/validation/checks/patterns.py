"""The share of string values matching a regular expression."""

from __future__ import annotations

import re
from typing import Self

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from vigil.analysis.validation.base import STRINGS, Check, Observation
from vigil.profile.columns import AnyColumn, StringColumn


class PatternMatchShareAtLeast(Check):
    """At least `min_share` (0 to 1) of the non-null values contain a match of `pattern`.

    Patterns are counted while profiling (RE2 syntax, searched anywhere in the value: anchor with
    ``^...$`` for a full match). `Suite.validate` on raw data counts them itself; for a profile
    built beforehand, profile with ``vigil.profile(data, patterns=suite.patterns())``, otherwise
    the check fails saying the pattern was not counted.
    """

    type = "pattern_match_share_at_least"
    kinds = STRINGS
    statistic = "pattern match share"

    pattern: str = Field(min_length=1)
    min_share: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
            pc.match_substring_regex(pa.array([""]), value)
        except (re.error, pa.ArrowInvalid) as exc:
            raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
        return value

    def label(self) -> str:
        return f"share matching {self.pattern!r}"

    def expected(self) -> str:
        return f">= {self.min_share:.4g}"

    def patterns(self) -> tuple[str, ...]:
        return (self.pattern,)

    def observe(self, column: AnyColumn) -> Observation:
        assert isinstance(column, StringColumn)  # guaranteed by `kinds`
        if self.pattern not in column.patterns:
            return Observation.unavailable(
                f"pattern {self.pattern!r} was not counted when profiling; pass raw data to "
                "suite.validate, or profile with vigil.profile(data, patterns=suite.patterns())"
            )
        if column.count == column.null_count:
            return Observation.unavailable("the column has no non-null values")
        share = column.pattern_share(self.pattern)
        return Observation(share, share >= self.min_share)

    @classmethod
    def example(cls, column: str) -> Self:
        return cls(column=column, pattern=r"^[a-z]+$", min_share=0.9)
