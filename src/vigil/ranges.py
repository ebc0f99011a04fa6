"""What a number or a time from a client must fit before it reaches the store.

The store keeps integers in 64 bits (SQLite INTEGER, PostgreSQL BIGINT) and times as values that
Python's `datetime` can show (years 1 to 9999). A value outside is refused where it enters, as
an `InvalidInputError` naming the field, instead of failing deep inside a driver or a page.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import Field

from vigil.errors import InvalidInputError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
EPOCH_MS_MIN = -62_135_596_800_000  # 0001-01-01T00:00:00Z in milliseconds since the epoch
EPOCH_MS_MAX = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

EpochMs = Annotated[int, Field(ge=EPOCH_MS_MIN, le=EPOCH_MS_MAX)]
"""Milliseconds since the epoch, UTC, between the years 1 and 9999."""


def int64(value: int, field: str) -> int:
    """`value` if it fits in a signed 64-bit integer, else an InvalidInputError naming `field`."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidInputError(
            f"{field}: {value} does not fit in a 64-bit integer "
            f"(allowed: {INT64_MIN} to {INT64_MAX})",
            field=field,
        )
    return value


MAX_DURATION = dt.timedelta(days=3660)
"""The longest lifetime or grace period accepted (ten years); a token that should live longer
should have no expiry at all."""

DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"([0-9]{1,12})([smhdw])")


def parse_duration(text: str, *, name: str = "--expires-in") -> dt.timedelta:
    """`90d`, `12h`, `30m`, `3600s` or `2w` as a timedelta; anything else is an
    `InvalidInputError` naming `name` and the value.

    >>> parse_duration("90d")
    datetime.timedelta(days=90)
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise InvalidInputError(
            f"{name}: {text!r} is not a duration: give a whole number and one unit of "
            "s, m, h, d or w (e.g. 90d)",
            field=name,
            value=text,
        )
    seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds <= 0 or seconds > MAX_DURATION.total_seconds():
        raise InvalidInputError(
            f"{name}: {text!r} is out of range: give more than 0s and at most {MAX_DURATION.days}d",
            field=name,
            value=text,
        )
    return dt.timedelta(seconds=seconds)
