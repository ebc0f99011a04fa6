"""Data validation on profiles: checks with severities, suites that round-trip through YAML, and
suites suggested from a reference profile.

>>> suite = vigil.suggest_checks(vigil.profile(train))
>>> result = suite.validate(production)      # a DataFrame, a path or a DatasetProfile
>>> result.passed, [f.message for f in result.failures]
>>> suite.save("checks.yaml"); Suite.load("checks.yaml")
"""

from vigil.analysis.validation.base import Check, CheckResult, RangeCheck, Severity
from vigil.analysis.validation.checks.categories import (
    AllowedCategories,
    DistinctCountInRange,
    Unique,
)
from vigil.analysis.validation.checks.columns import ColumnPresent, KindIs
from vigil.analysis.validation.checks.datetimes import DatetimeInRange
from vigil.analysis.validation.checks.missing import MissingShareAtMost
from vigil.analysis.validation.checks.patterns import PatternMatchShareAtLeast
from vigil.analysis.validation.checks.statistics import (
    MaxInRange,
    MeanInRange,
    MinInRange,
    QuantileInRange,
    StdInRange,
)
from vigil.analysis.validation.registry import CHECKS, check_from_dict
from vigil.analysis.validation.result import ValidationResult
from vigil.analysis.validation.suggest import suggest_checks
from vigil.analysis.validation.suite import Suite

__all__ = [
    "CHECKS",
    "AllowedCategories",
    "Check",
    "CheckResult",
    "ColumnPresent",
    "DatetimeInRange",
    "DistinctCountInRange",
    "KindIs",
    "MaxInRange",
    "MeanInRange",
    "MinInRange",
    "MissingShareAtMost",
    "PatternMatchShareAtLeast",
    "QuantileInRange",
    "RangeCheck",
    "Severity",
    "StdInRange",
    "Suite",
    "Unique",
    "ValidationResult",
    "check_from_dict",
    "suggest_checks",
]
