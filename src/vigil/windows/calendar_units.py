"""Calendar windows (day, week, month, quarter, year) in one time zone: where the window holding an
instant starts and ends, listing and counting windows, and flooring many times at once.

Each window is named by the local date of its first midnight (the first of the month for a month,
a Monday for a week) and starts at that midnight in the zone, so its length follows the calendar
and the clocks: a zoned day lasts 23 or 25 hours when they change, and a local day the clocks
skipped (Pacific/Apia's 2011-12-30) is no window at all. `vigil.windows.Grid` hands every calendar
unit here; lengths on the UTC clock it computes by plain arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from vigil.calendar_math import (
    add_key,
    floor_calendar_utc,
    floor_key,
    local_midnight,
    search,
)
from vigil.errors import InvalidInputError
from vigil.windows.instants import DAY_US, MAX_US, MIN_US, US, from_us, to_us

MIN_DAYS = {"day": 0.9, "week": 6.9, "month": 27.9, "quarter": 88.9, "year": 364.9}
"""A lower bound on each unit's length in days, to bound how many windows a span holds."""
MAX_LISTED = 20_000
"""Calendar floors over up to this many windows list their starts (see `_floor_listed`)."""
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class CalendarWindows:
    """The windows of one calendar unit in one (already checked) IANA time zone."""

    unit: str
    tz: str

    def locate(self, u: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime | None]:
        """(the local date the window holding the aware UTC instant `u` is named by, its start,
        its end); the end is None when it would fall after the year 9999."""
        try:
            local = u.astimezone(ZoneInfo(self.tz)) if self.tz != "UTC" else u
        except OverflowError:
            raise InvalidInputError(
                f"{u.isoformat()} in {self.tz} falls outside the years 1 to 9999",
                time=u.isoformat(),
            ) from None
        key = floor_key(self.unit, local.date())
        start = self._resolve(key)
        # Clocks that went back across midnight can leave `t` before its date's start, or
        # past the next one: step until start <= t < end.
        while start > u:
            key = add_key(self.unit, key, -1)
            start = self._resolve(key)
        end = self._boundary_after(key)
        while end is not None and end <= u:
            key, start = add_key(self.unit, key, 1), end
            end = self._boundary_after(key)
        # A skipped local day (Pacific/Apia, 2011-12-30) is an empty window; never return one.
        while end is not None and end <= start:
            key = add_key(self.unit, key, 1)
            end = self._boundary_after(key)
        return key, start, end

    def shift(self, u: dt.datetime, n: int) -> dt.datetime:
        """The start of the window `n` windows after the one holding `u` (before, if n < 0)."""
        return self.locate(self._resolve(add_key(self.unit, self.locate(u)[0], n)))[1]

    def starts(self, first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
        """Starts of the windows that begin in `[floor(first), last)`, in order."""
        out = []
        current: dt.datetime | None = self.locate(first)[1]
        while current is not None and current < last:
            out.append(current)
            current = self.locate(current)[2]
        return out

    def count(self, first: dt.datetime, last: dt.datetime) -> int:
        """How many windows begin in `[first, last)`, `first` a window's start before `last`;
        over many windows without listing them (zoned days and weeks are then counted by local
        dates, so a day the clocks skipped altogether counts)."""
        if (last - first).days / MIN_DAYS[self.unit] <= MAX_LISTED:
            return len(self.starts(first, last))
        key_first, key_last = self.locate(first)[0], self.locate(last - US)[0]
        if self.unit in ("day", "week"):
            return (key_last - key_first).days // (1 if self.unit == "day" else 7) + 1
        months = (key_last.year - key_first.year) * 12 + key_last.month - key_first.month
        return months // {"month": 1, "quarter": 3, "year": 12}[self.unit] + 1

    def floor_micros(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Window starts of timestamps, both in microseconds since the epoch (UTC)."""
        if values.size == 0:
            return values.copy()
        low, high = int(values.min()), int(values.max())
        if low < MIN_US or high > MAX_US:
            bad = low if low < MIN_US else high
            raise InvalidInputError(
                f"{bad} µs from the epoch is outside the years 1 to 9999, where calendar "
                f"windows end",
                micros=bad,
            )
        first_day, last_day = low // DAY_US, high // DAY_US
        if (last_day - first_day + 1) / MIN_DAYS[self.unit] <= MAX_LISTED:
            return self._floor_listed(values, first_day, last_day)
        if self.tz == "UTC":
            return floor_calendar_utc(values, self.unit)
        return self._floor_zoned(values)

    def _boundary_after(self, key: dt.date) -> dt.datetime | None:
        """The start of the window after the one `key` names; None after the year 9999."""
        try:
            return self._resolve(add_key(self.unit, key, 1))
        except InvalidInputError:
            return None

    def _resolve(self, day: dt.date) -> dt.datetime:
        """The instant the calendar window named by local midnight `day` starts."""
        return local_midnight(day, self.tz)

    def _floor_listed(
        self, values: npt.NDArray[np.int64], first_day: int, last_day: int
    ) -> npt.NDArray[np.int64]:
        """Calendar floors when the times span few windows: list the windows' starts, then per
        UTC day the start in force when it begins and the next one; each time takes one of the
        two (a table lookup, much faster than NumPy's calendar units or a search per time)."""
        day_starts = np.arange(first_day, last_day + 2, dtype=np.int64) * DAY_US
        listed = self.starts(from_us(int(day_starts[0])), from_us(min(int(day_starts[-1]), MAX_US)))
        bounds = np.array([to_us(s) for s in listed], dtype=np.int64)
        padded = np.append(bounds, [_NEVER, _NEVER])
        current = np.searchsorted(bounds, day_starts[:-1], side="right") - 1
        if np.any(padded[current + 2] < day_starts[1:]):
            return search(bounds.tolist(), values)  # two starts in one UTC day
        day = values // DAY_US - first_day
        before, after = bounds[current][day], padded[current + 1][day]
        out: npt.NDArray[np.int64] = np.where(values >= after, after, before)
        return out

    def _floor_zoned(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Calendar windows in a time zone, for times spread over many windows: the window
        starts around each UTC day the times fall in, then a binary search for every time
        (linear in the number of distinct days, some microseconds each)."""
        bounds: set[int] = set()
        for day in np.unique(values // DAY_US).tolist():
            day_start = from_us(day * DAY_US)
            _, start, end = self.locate(day_start)
            bounds.add(to_us(start))
            day_end = day_start + dt.timedelta(days=1)
            while end is not None and end < day_end:
                bounds.add(to_us(end))
                end = self.locate(end)[2]
        return search(sorted(bounds), values)
