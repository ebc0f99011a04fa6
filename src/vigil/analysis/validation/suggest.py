"""`suggest_checks`: a suite built from a reference profile, with tolerances wide enough that
another sample of the same data passes, and narrow enough that broken data fails.

The rules, with their tolerances and reasons, are in docs/validation.md ("Suggested suites").
Every rule reads exact statistics only (counts, moments, extremes, exact category counts), so the
same reference always gives the same suite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from vigil.analysis.validation.base import SEVERITIES, Check, Severity
from vigil.analysis.validation.checks.categories import (
    AllowedCategories,
    DistinctCountInRange,
    Unique,
)
from vigil.analysis.validation.checks.columns import ColumnPresent, KindIs
from vigil.analysis.validation.checks.missing import MissingShareAtMost, missing_share
from vigil.analysis.validation.checks.patterns import PatternMatchShareAtLeast
from vigil.analysis.validation.checks.statistics import (
    MaxInRange,
    MeanInRange,
    MinInRange,
    StdInRange,
)
from vigil.analysis.validation.suite import Suite
from vigil.errors import InvalidInputError
from vigil.profile import DatasetProfile, profile
from vigil.profile.columns import AnyColumn, NumericColumn, StringColumn
from vigil.schema import ColumnKind


def suggest_checks(
    reference: DatasetProfile | Any,
    *,
    columns: Iterable[str] | None = None,
    range_margin: float = 0.5,
    mean_margin: float = 0.5,
    std_factor: float = 1.5,
    share_margin: float = 0.02,
    share_relative_margin: float = 0.5,
    max_new_share: float = 0.01,
    max_singleton_share: float = 0.02,
    min_unique_rows: int = 20,
    window_rows: int = 1_000,
    statistic_severity: Severity = "warning",
    fail_on: Severity = "warning",
) -> Suite:
    """Suggest a validation suite from a reference profile (or data, which is profiled first).

    >>> suite = vigil.suggest_checks(vigil.profile(train))
    >>> suite.validate(production).passed
    """
    _nonnegative(
        range_margin=range_margin,
        mean_margin=mean_margin,
        share_margin=share_margin,
        share_relative_margin=share_relative_margin,
    )
    _share(max_new_share=max_new_share, max_singleton_share=max_singleton_share)
    if not std_factor >= 1.0:
        raise InvalidInputError(f"std_factor must be at least 1, got {std_factor!r}")
    if not isinstance(min_unique_rows, int) or min_unique_rows < 2:
        raise InvalidInputError(f"min_unique_rows must be an integer >= 2, got {min_unique_rows!r}")
    if not isinstance(window_rows, int) or window_rows < 1:
        raise InvalidInputError(f"window_rows must be an integer >= 1, got {window_rows!r}")
    if statistic_severity not in SEVERITIES:
        raise InvalidInputError(
            f"statistic_severity must be one of {', '.join(SEVERITIES)}, got {statistic_severity!r}"
        )
    ref = reference if isinstance(reference, DatasetProfile) else profile(reference)
    names = list(ref.columns) if columns is None else list(columns)
    missing = [n for n in names if n not in ref.columns]
    if missing:
        raise InvalidInputError(
            f"no column(s) {missing} in the reference profile; it has {sorted(ref.columns)}",
            columns=missing,
        )
    rules = _Rules(
        range_margin,
        mean_margin,
        std_factor,
        share_margin,
        share_relative_margin,
        max_new_share,
        max_singleton_share,
        min_unique_rows,
        window_rows,
        statistic_severity,
    )
    checks: list[Check] = []
    for name in names:
        checks.extend(rules.for_column(name, ref.columns[name]))
    return Suite(checks, fail_on=fail_on)


class _Rules:
    def __init__(
        self,
        range_margin: float,
        mean_margin: float,
        std_factor: float,
        share_margin: float,
        share_relative_margin: float,
        max_new_share: float,
        max_singleton_share: float,
        min_unique_rows: int,
        window_rows: int,
        statistic_severity: Severity,
    ) -> None:
        self.range_margin = range_margin
        self.mean_margin = mean_margin
        self.std_factor = std_factor
        self.share_margin = share_margin
        self.share_relative_margin = share_relative_margin
        self.max_new_share = max_new_share
        self.max_singleton_share = max_singleton_share
        self.min_unique_rows = min_unique_rows
        self.window_rows = window_rows
        self.statistic_severity: Severity = statistic_severity

    def widen(self, share: float, n_reference: int) -> float:
        """Room beyond a reference share: an absolute and a relative margin, and at least
        `BINOMIAL_STD_DEVS` standard deviations of the difference between the share in the
        reference and in a `window_rows`-row window of the same data."""
        p = (share * n_reference + 1.0) / (n_reference + 2.0)  # never 0: a rare event is possible
        spread = math.sqrt(p * (1.0 - p) * (1.0 / self.window_rows + 1.0 / n_reference))
        return max(
            self.share_margin, self.share_relative_margin * share, BINOMIAL_STD_DEVS * spread
        )

    def for_column(self, name: str, column: AnyColumn) -> list[Check]:
        checks: list[Check] = [ColumnPresent(column=name)]
        if column.kind is not ColumnKind.UNKNOWN:
            checks.append(KindIs(column=name, kind=column.kind))
        share = missing_share(column)
        if share is not None and share < 1.0:
            bound = min(1.0, share + self.widen(share, column.count))
            checks.append(MissingShareAtMost(column=name, max_share=_round_up(bound)))
        if isinstance(column, NumericColumn):
            checks.extend(self.numeric(name, column))
        elif isinstance(column, StringColumn):
            checks.extend(self.strings(name, column))
        return checks

    def numeric(self, name: str, col: NumericColumn) -> list[Check]:
        if col.finite_count == 0:
            return []
        lo, hi = col.min, col.max
        spread = hi - lo if hi > lo else max(abs(lo), abs(hi), 1.0)
        margin = self.range_margin * spread
        lower, upper = lo - margin, hi + margin
        if lo >= 0.0:
            lower = max(lower, 0.0)
            mean = col.mean  # exact, so a suggestion is the same on every run (KLL is random)
            if hi > 0.0 and mean > 0.0:
                # Room for a right tail as heavy as the data's: lognormal or gamma maxima grow fast.
                upper = max(upper, hi * (hi / mean) ** self.range_margin)
        if hi <= 0.0:
            upper = min(upper, 0.0)
        if col.integral:
            lower, upper = float(math.floor(lower)), float(math.ceil(upper))
        checks: list[Check] = [
            MinInRange(column=name, min=_tidy(lower, "down")),
            MaxInRange(column=name, max=_tidy(upper, "up")),
        ]
        std = col.std
        if col.finite_count >= 2 and math.isfinite(std) and std > 0.0:
            severity = self.statistic_severity
            half_width = max(self.mean_margin, BINOMIAL_STD_DEVS / math.sqrt(self.window_rows))
            checks.append(
                MeanInRange(
                    column=name,
                    min=_tidy(col.mean - half_width * std, "down"),
                    max=_tidy(col.mean + half_width * std, "up"),
                    severity=severity,
                )
            )
            checks.append(
                StdInRange(
                    column=name,
                    min=_tidy(std / self.std_factor, "down"),
                    max=_tidy(std * self.std_factor, "up"),
                    severity=severity,
                )
            )
        return checks

    def strings(self, name: str, col: StringColumn) -> list[Check]:
        checks: list[Check] = []
        present = col.count - col.null_count
        unique = present >= self.min_unique_rows and Unique(column=name).observe(col).passed
        if unique:
            checks.append(Unique(column=name))
        exact = col.categories.exact
        if col.kind is ColumnKind.CATEGORICAL and exact and not unique:
            singletons = sum(1 for c in exact.values() if c == 1) / present
            if singletons <= self.max_singleton_share:
                checks.append(
                    AllowedCategories(
                        column=name,
                        values=tuple(exact),
                        max_new_share=_round_up(min(1.0, self.max_new_share + 2 * singletons)),
                    )
                )
                checks.append(
                    DistinctCountInRange(
                        column=name,
                        min=min(2, len(exact)),
                        max=2 * len(exact),
                        severity=self.statistic_severity,
                    )
                )
        for pattern in col.patterns:
            if present == 0:
                continue
            share = col.pattern_share(pattern)
            bound = max(0.0, share - self.widen(1.0 - share, present))
            checks.append(
                PatternMatchShareAtLeast(column=name, pattern=pattern, min_share=_round_down(bound))
            )
        return checks


BINOMIAL_STD_DEVS = 5.0
"""Share bounds leave at least this many binomial standard deviations for a window of
`window_rows` rows, so a same-distribution window fails a share check with probability below 1e-6."""


def _tidy(value: float, direction: Literal["down", "up"]) -> float:
    """A bound rounded outward to 6 significant digits, so a suite's YAML reads well and the
    rounding never makes a bound tighter than the rule asked for."""
    if value == 0.0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 5)
    rounded = (math.floor if direction == "down" else math.ceil)(value / step) * step
    tidy = float(f"{rounded:.6g}")
    if (direction == "down" and tidy > value) or (direction == "up" and tidy < value):
        return value
    return tidy


def _round_up(share: float) -> float:
    return min(1.0, math.ceil(share * 1e4) / 1e4)


def _round_down(share: float) -> float:
    return max(0.0, math.floor(share * 1e4) / 1e4)


def _nonnegative(**values: float) -> None:
    for key, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise InvalidInputError(f"{key} must be a finite number >= 0, got {value!r}")


def _share(**values: float) -> None:
    for key, value in values.items():
        if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
            raise InvalidInputError(f"{key} must be a share between 0 and 1, got {value!r}")
