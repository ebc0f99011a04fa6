"""Typed reads of a column's decoded state, each bounded to what Vigil itself writes.

A profile's payload is MessagePack from outside: any field may hold any type or value. Each
reader returns the field with the type its column expects, or raises SerializationError naming
the field and the value, so no crafted state reaches arithmetic, NumPy or native code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from vigil.errors import SerializationError

MAX_COUNT = 2**63 - 1
"""Counts are int64 in Arrow and in the sketches; a larger one is forged."""
MAX_TEXT_CHARS = 4096
"""Time-zone names, pattern expressions and skip reasons are short; category values are capped
at `sketches.MAX_ITEM_CHARS`."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MIN_MICROS = (dt.datetime.min.replace(tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(microseconds=1)
MAX_MICROS = (dt.datetime.max.replace(tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(microseconds=1)


def bad(field: str, message: str, value: Any) -> SerializationError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return SerializationError(f"corrupt profile state: {field} {message}, got {shown}", field=field)


def get(state: Mapping[str, Any], key: str) -> Any:
    try:
        return state[key]
    except (KeyError, TypeError, IndexError):
        raise bad(key, "is missing", type(state).__name__) from None


def count(state: Mapping[str, Any], key: str, *, at_most: int = MAX_COUNT) -> int:
    """A non-negative integer (not a bool), at most `at_most`."""
    return count_value(get(state, key), key, at_most=at_most)


def count_value(value: Any, field: str, *, at_most: int = MAX_COUNT) -> int:
    if type(value) is not int or not 0 <= value <= at_most:
        raise bad(field, f"must be an integer from 0 to {at_most}", value)
    return value


def real(state: Mapping[str, Any], key: str) -> float:
    """A float (ints are accepted: MessagePack writes 0.0 as a float, but others may not)."""
    return real_value(get(state, key), key)


def real_value(value: Any, field: str) -> float:
    if type(value) not in (float, int):
        raise bad(field, "must be a number", value)
    return float(value)


def flag(state: Mapping[str, Any], key: str) -> bool:
    value = get(state, key)
    if type(value) is not bool:
        raise bad(key, "must be true or false", value)
    return value


def text(state: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = get(state, key)
    if value is None and optional:
        return None
    return text_value(value, key)


def text_value(value: Any, field: str, *, at_most: int = MAX_TEXT_CHARS) -> str:
    if type(value) is not str or len(value) > at_most:
        raise bad(field, f"must be a string of at most {at_most} characters", value)
    return value


def micros(state: Mapping[str, Any], key: str) -> int | None:
    """Microseconds since the epoch that a datetime can hold, or None."""
    value = get(state, key)
    if value is None:
        return None
    if type(value) is not int or not MIN_MICROS <= value <= MAX_MICROS:
        raise bad(key, "must be microseconds between the years 1 and 9999", value)
    return value


def optional_count(state: Mapping[str, Any], key: str) -> int | None:
    value = get(state, key)
    return None if value is None else count_value(value, key)


def triple(state: Mapping[str, Any], key: str) -> tuple[int, float, float]:
    """Moments as written: [count, mean, m2]."""
    value = get(state, key)
    if type(value) is not list or len(value) != 3:
        raise bad(key, "must be [count, mean, m2]", value)
    moments = count_value(value[0], key), real_value(value[1], key), real_value(value[2], key)
    if moments[2] < 0:  # a sum of squares (NaN and infinity pass: extreme data overflows)
        raise bad(key, "must have a sum of squared deviations (m2) of at least 0", value)
    return moments


def counts_map(
    state: Mapping[str, Any], key: str, *, at_most: int, key_chars: int
) -> dict[str, int]:
    """A mapping of strings (of at most `key_chars`) to counts, with at most `at_most` entries."""
    value = get(state, key)
    if type(value) is not dict or len(value) > at_most:
        raise bad(key, f"must be a mapping of at most {at_most} entries", type(value).__name__)
    if not all(type(k) is str and len(k) <= key_chars for k in value):
        raise bad(key, f"keys must be strings of at most {key_chars} characters", list(value))
    if not all(type(v) is int and 0 <= v <= MAX_COUNT for v in value.values()):
        raise bad(key, f"values must be integers from 0 to {MAX_COUNT}", list(value.values()))
    return value


def no_more_than(small: int, small_name: str, big: int, big_name: str) -> None:
    if small > big:
        raise SerializationError(
            f"corrupt profile state: {small_name} {small} exceeds {big_name} {big}",
            field=small_name,
        )
