"""Options of `vigil.drift`, checked before any data is read: the method and threshold of each
column, the effect-size gates and the roles of prediction and target columns."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vigil.analysis.drift.base import DRIFT_KINDS, DriftMethod
from vigil.analysis.drift.findings import Role
from vigil.analysis.drift.registry import get_method
from vigil.errors import InvalidInputError
from vigil.schema import ColumnKind

DEFAULT_METHODS: Mapping[ColumnKind, str] = {
    ColumnKind.NUMERIC: "ks",
    ColumnKind.CATEGORICAL: "chi_square",
    ColumnKind.BOOLEAN: "z_test",
}
EFFECT_THRESHOLDS: Mapping[ColumnKind, float] = {
    ColumnKind.NUMERIC: 0.05,
    ColumnKind.CATEGORICAL: 0.02,
    ColumnKind.BOOLEAN: 0.02,
}


@dataclass(frozen=True, slots=True)
class ColumnOptions:
    """A per-column override: another method and/or threshold."""

    method: str | None = None
    threshold: float | None = None

    @classmethod
    def coerce(cls, name: str, value: Any) -> ColumnOptions:
        if isinstance(value, ColumnOptions):
            return value
        if isinstance(value, str):
            return cls(method=value)
        if isinstance(value, Mapping) and set(value) <= {"method", "threshold"}:
            return cls(method=value.get("method"), threshold=value.get("threshold"))
        raise InvalidInputError(
            f"per_column[{name!r}] must be a method name or {{'method': ..., 'threshold': ...}}, "
            f"got {value!r}",
            column=name,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """The method and threshold a column is compared with."""

    method: DriftMethod
    threshold: float


def check_threshold(value: float, method: DriftMethod | None, what: str) -> None:
    is_test = method is None or method.is_test
    ok = isinstance(value, int | float) and math.isfinite(value)
    if ok and is_test:
        ok = 0 < value < 1
    elif ok:
        ok = value > 0
    if not ok:
        allowed = "a p-value level in (0, 1)" if is_test else "a positive distance"
        raise InvalidInputError(
            f"{what} must be {allowed} for method {method.name if method else 'default tests'}, "
            f"got {value!r}",
            value=value,
        )


def effect_thresholds(value: float | Mapping[str, float] | None) -> dict[ColumnKind, float]:
    result = dict(EFFECT_THRESHOLDS)
    if value is None:
        return result
    items: Mapping[Any, Any] = value if isinstance(value, Mapping) else dict.fromkeys(result, value)
    for key, v in items.items():
        try:
            kind = ColumnKind(key)
        except ValueError:
            raise InvalidInputError(
                f"effect_threshold has unknown kind {key!r}; use numeric, categorical or boolean"
            ) from None
        if kind not in DRIFT_KINDS or not isinstance(v, int | float) or not v >= 0:
            raise InvalidInputError(
                f"effect_threshold for {kind.value} must be a number >= 0, got {v!r}", value=v
            )
        result[kind] = float(v)
    return result


def plan_column(
    name: str,
    kind: ColumnKind,
    global_method: DriftMethod | None,
    threshold: float | None,
    override: ColumnOptions | None,
) -> Plan:
    if override is not None and override.method is not None:
        chosen = get_method(override.method)
        if not chosen.accepts(kind):
            raise InvalidInputError(
                f"method {chosen.name!r} does not accept {kind.value} column {name!r}; it accepts "
                f"{sorted(k.value for k in chosen.kinds)}",
                column=name,
            )
        limit = override.threshold if override.threshold is not None else chosen.default_threshold
        check_threshold(limit, chosen, f"threshold of column {name!r}")
        return Plan(chosen, limit)
    if global_method is not None and global_method.accepts(kind):
        chosen, limit_given = global_method, threshold
    else:
        chosen = get_method(DEFAULT_METHODS[kind])
        limit_given = threshold if global_method is None else None
    if override is not None and override.threshold is not None:
        limit_given = override.threshold
    limit = limit_given if limit_given is not None else chosen.default_threshold
    check_threshold(limit, chosen, f"threshold of column {name!r}")
    return Plan(chosen, limit)


def column_roles(
    names: list[str], predictions: Iterable[str], targets: Iterable[str]
) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for role, given in (("prediction", predictions), ("target", targets)):
        for name in [given] if isinstance(given, str) else given:
            if name not in names:
                raise InvalidInputError(
                    f"{role} column {name!r} is not among the compared columns {names}",
                    column=name,
                )
            if name in roles:
                raise InvalidInputError(f"column {name!r} is named both prediction and target")
            roles[name] = role  # type: ignore[assignment]
    return roles
