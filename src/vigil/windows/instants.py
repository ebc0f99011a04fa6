"""Instants under the time grid: the epochs windows are aligned on, and the conversions between
aware UTC datetimes and microseconds since the epoch that every grid computes with."""

from __future__ import annotations

import datetime as dt

from vigil.errors import InvalidInputError

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""Where hours, days (in UTC) and fixed lengths are aligned."""
ORIGIN = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)
"""Where weeks (in UTC) are aligned: the first Monday after the epoch."""

US = dt.timedelta(microseconds=1)
DAY_US = 86_400_000_000
ORIGIN_US = (ORIGIN - EPOCH) // US
MAX_US = (dt.datetime.max.replace(tzinfo=dt.UTC) - EPOCH) // US
"""The last microsecond of the year 9999, from the epoch."""
MIN_US = (dt.datetime.min.replace(tzinfo=dt.UTC) - EPOCH) // US
"""The first microsecond of the year 1, from the epoch (negative)."""


def utc(t: dt.datetime) -> dt.datetime:
    """`t` as an aware UTC datetime; a naive datetime is read as UTC."""
    if not isinstance(t, dt.datetime):
        raise InvalidInputError(f"a window needs a datetime, got {t!r}")
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def to_us(t: dt.datetime) -> int:
    """Microseconds from the epoch to an aware datetime."""
    return (t - EPOCH) // US


def from_us(micros: int) -> dt.datetime:
    """The aware UTC datetime `micros` microseconds after the epoch."""
    try:
        return EPOCH + micros * US
    except OverflowError:
        raise InvalidInputError(
            f"{micros} µs from the epoch is outside the years 1 to 9999", micros=micros
        ) from None
