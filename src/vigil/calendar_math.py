"""Calendar arithmetic under `vigil.windows`: local dates that name calendar windows, time zones,
their offsets and the instant a local midnight happens, NumPy floors of microsecond times to
months, quarters and years, fixed lengths' limits, and a period's `"<start>/<end>"` text."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from vigil.errors import InvalidInputError

MIN_STEP = dt.timedelta(seconds=60)
MAX_STEP = dt.timedelta(days=366)
"""Fixed lengths allowed: a minute to a leap year (longer spans are what `"year"` is for)."""
_US = dt.timedelta(microseconds=1)

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


def local_midnight(day: dt.date, tz: str) -> dt.datetime:
    """The instant (UTC) local midnight `day` happens in zone `tz`: that midnight (its first
    occurrence if the clocks went back over it), or, where the clocks jumped over midnight,
    the instant they jumped."""
    try:
        wall = dt.datetime(day.year, day.month, day.day)
    except (OverflowError, ValueError):
        raise out_of_range(day) from None
    if tz == "UTC":
        return wall.replace(tzinfo=dt.UTC)
    zone = ZoneInfo(tz)
    try:
        first = wall.replace(tzinfo=zone).astimezone(dt.UTC)
        if first.astimezone(zone).replace(tzinfo=None) == wall:
            return first
        # Midnight does not exist that day: find the jump, between the readings of the
        # missing wall time with the offsets before (fold=0) and after (fold=1) it.
        other = wall.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    except OverflowError:
        raise out_of_range(day) from None
    low, high = min(first, other), max(first, other)
    after = high.astimezone(zone).utcoffset()
    low_us, high_us = 0, (high - low) // _US
    while high_us - low_us > 1:
        middle = (low_us + high_us) // 2
        if (low + middle * _US).astimezone(zone).utcoffset() == after:
            high_us = middle
        else:
            low_us = middle
    return low + high_us * _US


def check_step(step: object, *, periodic: bool = True) -> dt.timedelta:
    """A fixed length: whole seconds from a minute, at most 366 days unless it is a period's
    (`periodic=False`: a custom `[start, end)` may span years)."""
    if not isinstance(step, dt.timedelta):
        raise InvalidInputError(
            f"a 'fixed' window needs its length as a datetime.timedelta, got {step!r}"
        )
    if step < MIN_STEP or (periodic and step > MAX_STEP) or step.microseconds:
        longest = "366 days" if periodic else "any length"
        raise InvalidInputError(
            f"a window length must be whole seconds between 60 s and {longest}, got {step}",
            seconds=step.total_seconds(),
        )
    return step


def period_bounds(body: str, zone: str, text: str) -> tuple[dt.datetime, dt.datetime]:
    """The two ends of `"<start>/<end>"`: ISO 8601 dates or times; those without an offset
    are local times in `zone` (the first reading of a wall time the clocks repeat)."""
    ends = body.split("/")
    if len(ends) != 2:
        raise InvalidInputError(
            f"window {text!r} is not a period '<start>/<end>' (e.g. '2026-01-01/2026-04-01')",
            window=text,
        )
    out = []
    for end in ends:
        try:
            value = dt.datetime.fromisoformat(end.strip())
        except ValueError:
            raise InvalidInputError(
                f"{end.strip()!r} in window {text!r} is not an ISO 8601 date or time "
                f"(e.g. '2026-01-01' or '2026-01-01T06:00:00Z')",
                window=text,
            ) from None
        if value.tzinfo is None and zone != "UTC":
            value = value.replace(tzinfo=ZoneInfo(check_zone(zone)))
        try:
            out.append(value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC))
        except OverflowError:
            raise InvalidInputError(
                f"{end.strip()!r} in window {text!r} falls outside the years 1 to 9999 in UTC",
                window=text,
            ) from None
    return out[0], out[1]


def period_text(start: dt.datetime, end: dt.datetime) -> str:
    """`"<start>/<end>"` in UTC: dates when both ends are UTC midnights, else times with Z."""
    if all(t.time() == dt.time() for t in (start, end)):
        return f"{start.date().isoformat()}/{end.date().isoformat()}"  # years below 1000 too
    return "/".join(
        t.replace(tzinfo=None).isoformat(timespec="seconds") + "Z" for t in (start, end)
    )
