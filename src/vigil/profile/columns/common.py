"""Helpers the column kinds share: null counts, quantile arguments, optional extremes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from vigil.errors import InvalidInputError

QUANTILE_POINTS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
"""The quantiles a column's `to_dict()` reports."""


def count_nulls(array: pa.Array) -> int:
    return int(array.null_count)


def quantile_dict(fn: Callable[[float], Any]) -> dict[str, float]:
    return {f"p{round(q * 100)}": float(fn(q)) for q in QUANTILE_POINTS}


def check_quantile(q: float) -> None:
    if not 0.0 <= q <= 1.0 or math.isnan(q):
        raise InvalidInputError(f"quantile must be between 0 and 1, got {q!r}", value=q)


def either(fn: Any, a: Any, b: Any) -> Any:
    """`fn(a, b)`, or whichever of the two is not None."""
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
