"""Calendar arithmetic under `vigil.windows`: local dates that name calendar windows, time zones
and their offsets, and NumPy floors of microsecond times to months, quarters and years."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from vigil.errors import InvalidInputError

UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu"})
ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


def offsets(tz: str) -> set[int]:
    """The UTC offsets (seconds) a zone has used since 1970 and is set to use until 2100,
    read on the first of every month."""
    if tz == "UTC":
        return {0}
    zone = ZoneInfo(tz)
    out = set()
    for year in range(1970, 2101):
        for month in range(1, 13):
            offset = dt.datetime(year, month, 1, tzinfo=dt.UTC).astimezone(zone).utcoffset()
            out.add(int(offset.total_seconds()) if offset is not None else 0)
    return out


def check_zone(tz: object) -> str:
    if not isinstance(tz, str) or not ZONE_KEY.fullmatch(tz) or len(tz) > 64:
        raise InvalidInputError(
            f"time zone must be an IANA name such as 'Europe/Oslo' or 'UTC', got {tz!r}", tz=tz
        )
    if tz in UTC_NAMES:
        return "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInputError(
            f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Oslo' or 'UTC'", tz=tz
        ) from None
    return tz


def out_of_range(day: dt.date) -> InvalidInputError:
    return InvalidInputError(
        f"the window after {day.isoformat()} falls outside the years 1 to 9999", day=str(day)
    )


def floor_key(unit: str, day: dt.date) -> dt.date:
    """The local date that names the calendar window holding `day`."""
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return dt.date(day.year, 1, 1)


def add_key(unit: str, key: dt.date, n: int) -> dt.date:
    """The date naming the calendar window `n` windows after the one `key` names."""
    try:
        if unit == "day":
            return key + dt.timedelta(days=n)
        if unit == "week":
            return key + dt.timedelta(days=7 * n)
        months = {"month": 1, "quarter": 3, "year": 12}[unit] * n
        index = key.year * 12 + key.month - 1 + months
        return dt.date(index // 12, index % 12 + 1, 1)
    except (OverflowError, ValueError):
        raise out_of_range(key) from None


def search(bounds: list[int], values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """For each value, the greatest of the sorted `bounds` at or below it."""
    ordered = np.array(bounds, dtype=np.int64)
    out: npt.NDArray[np.int64] = ordered[np.searchsorted(ordered, values, side="right") - 1]
    return out


def floor_calendar_utc(values: npt.NDArray[np.int64], unit: str) -> npt.NDArray[np.int64]:
    """Months, quarters and years in UTC through NumPy's calendar units (which floor)."""
    stamps = values.view("datetime64[us]")
    if unit == "year":
        floored = stamps.astype("datetime64[Y]")
    else:
        months = stamps.astype("datetime64[M]").view(np.int64)
        if unit == "quarter":
            months = months // 3 * 3
        floored = months.view("datetime64[M]")
    out: npt.NDArray[np.int64] = floored.astype("datetime64[us]").view(np.int64)
    return out
