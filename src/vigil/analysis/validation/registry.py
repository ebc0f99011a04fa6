"""The one place checks are registered: add a check class to `CHECK_TYPES` (one line) and YAML,
suggestions' docs and the contract tests pick it up."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from vigil.analysis.validation.base import Check
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
from vigil.errors import InvalidInputError

CHECK_TYPES: tuple[type[Check], ...] = (
    ColumnPresent,
    KindIs,
    MissingShareAtMost,
    MinInRange,
    MaxInRange,
    MeanInRange,
    StdInRange,
    QuantileInRange,
    DatetimeInRange,
    DistinctCountInRange,
    AllowedCategories,
    Unique,
    PatternMatchShareAtLeast,
)

CHECKS: Mapping[str, type[Check]] = MappingProxyType({cls.type: cls for cls in CHECK_TYPES})
"""Every check by its YAML name."""


def check_from_dict(data: Any, *, where: str = "check") -> Check:
    """Build a check from its plain form ``{"type": ..., "column": ..., **parameters}``.

    Errors name `where` (e.g. ``checks[3]``), the check, the bad key and the value given.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(
            f"{where} must be a mapping with 'type', 'column' and parameters, "
            f"got {type(data).__name__} {data!r}",
            where=where,
        )
    if "type" not in data:
        raise InvalidInputError(
            f"{where} has no 'type'; give one of: {', '.join(CHECKS)}", where=where
        )
    name = data["type"]
    cls = CHECKS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidInputError(
            f"{where}: unknown check type {name!r}; known types: {', '.join(CHECKS)}",
            where=where,
            value=repr(name),
        )
    params = {str(k): v for k, v in data.items() if k != "type"}
    column = params.get("column")
    label = f"{where} ({name}" + (f" on {column!r})" if isinstance(column, str) else ")")
    try:
        return cls(**params)
    except InvalidInputError as exc:
        reason = exc.message.removeprefix(f"{name}: ")
        raise InvalidInputError(f"{label}: {reason}", where=where, type=name) from None
