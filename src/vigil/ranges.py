"""What a number or a time from a client must fit before it reaches the store.

The store keeps integers in 64 bits (SQLite INTEGER, PostgreSQL BIGINT) and times as values that
Python's `datetime` can show (years 1 to 9999). A value outside is refused where it enters, as
an `InvalidInputError` naming the field, instead of failing deep inside a driver or a page.
"""

from __future__ import annotations

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
