"""The one time grid: how time is cut into windows, for profiles, models, monitors and pages.

A `Grid` is an immutable value, parsed from the strings users and the store write:

- `"hour"`, and fixed lengths such as `"15m"`, `"6h"` or `"3d"` (at least a minute, whole
  seconds): absolute durations on the UTC clock, aligned on the Unix epoch (1970-01-01 00:00
  UTC), so a day's length divides into them evenly and windows stored before this module keep
  their bounds;
- `"day"`, `"week"`, `"month"`, `"quarter"`, `"year"`: calendar windows starting at midnight,
  weeks on Mondays (in UTC, 1970-01-05 is the first Monday), months and years as the calendar
  has them (28 to 31 days, 365 or 366), optionally in an IANA time zone (`"day@Europe/Oslo"`),
  where a day starts at local midnight and lasts 23 or 25 hours when the clocks change;
- a period `"<start>/<end>"` (ISO 8601 dates or times, e.g. `"2026-01-01/2026-04-01"`): a
  custom `[start, end)` as one window, and the windows of its length before and after it; dates
  and times without an offset are read in the time zone given (`"...@Europe/Oslo"`, else UTC).

Times go in and come out as aware UTC datetimes (a naive datetime is read as UTC): the time zone
moves where windows start, storage stays in UTC.

>>> grid = Grid.parse("month@Europe/Oslo")
>>> [t.isoformat() for t in grid.window_of(dt.datetime(2026, 3, 15, tzinfo=dt.UTC))]
['2026-02-28T23:00:00+00:00', '2026-03-31T22:00:00+00:00']
>>> grid.label(dt.datetime(2026, 3, 15, tzinfo=dt.UTC)), grid.to_str()
('2026-03', 'month@Europe/Oslo')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from vigil.calendar_math import (
    MAX_STEP,
    add_key,
    check_step,
    check_zone,
    floor_calendar_utc,
    floor_key,
    local_midnight,
    offsets,
    period_bounds,
    period_text,
    search,
)
from vigil.errors import InvalidInputError

Unit = Literal["hour", "day", "week", "month", "quarter", "year", "fixed"]
UNITS: tuple[str, ...] = get_args(Unit)
CALENDAR_UNITS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
"""The units that start at local midnight, and so move with a time zone."""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""Where hours, days (in UTC) and fixed lengths are aligned."""
ORIGIN = dt.datetime(1970, 1, 5, tzinfo=dt.UTC)
"""Where weeks (in UTC) are aligned: the first Monday after the epoch."""


_FIXED = re.compile(r"([1-9][0-9]{0,9})([smhd])")
_MIN_DAYS = {"day": 0.9, "week": 6.9, "month": 27.9, "quarter": 88.9, "year": 364.9}
_MAX_LISTED = 20_000
"""Calendar floors over up to this many windows list their starts (see `_floor_listed`)."""
_SUFFIX_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_US = dt.timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_ORIGIN_US = (ORIGIN - EPOCH) // _US
_MAX_US = (dt.datetime.max.replace(tzinfo=dt.UTC) - EPOCH) // _US
_MIN_US = (dt.datetime.min.replace(tzinfo=dt.UTC) - EPOCH) // _US
_NEVER = np.iinfo(np.int64).max
_ALLOWED = (
    "'hour', 'day', 'week', 'month', 'quarter', 'year', a length such as '15m', '6h' or "
    "'3d' (a minute to 366 days), or a period '<start>/<end>' such as "
    "'2026-01-01/2026-04-01', with an optional time zone for the calendar units and periods, "
    "e.g. 'day@Europe/Oslo'"
)


@dataclass(frozen=True, slots=True)
class Grid:
    """How time is cut into windows: a unit, the length of a `"fixed"` one, and a time zone.

    Values are normalised so that equal grids compare equal: `Grid.parse("60m") == Grid("hour")`
    and `Grid.parse("24h") == Grid("day")` (days in UTC are 24 hours, aligned on the epoch).
    """

    unit: Unit = "hour"
    step: dt.timedelta | None = None
    """The length of a `"fixed"` grid (None for the named units)."""
    tz: str = "UTC"
    """An IANA time zone for the calendar units (day to year); "UTC" otherwise."""
    origin: dt.datetime | None = None
    """Where a `"fixed"` grid's windows are aligned, when not on the epoch: the start of a
    custom period (`"2026-01-01/2026-04-01"`). None for every other grid."""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise InvalidInputError(
                f"window unit must be one of {list(UNITS)}, got {self.unit!r}", window=self.unit
            )
        tz = check_zone(self.tz)
        if self.origin is not None:
            self._check_origin()
        if self.unit == "fixed":
            step = check_step(self.step, periodic=self.origin is None)
            named = {3600: "hour", 86_400: "day"}.get(int(step.total_seconds()))
            if self.origin is None and (named == "hour" or (named == "day" and tz == "UTC")):
                object.__setattr__(self, "unit", named)
                object.__setattr__(self, "step", None)
        elif self.step is not None:
            raise InvalidInputError(
                f"a length is given only to 'fixed' windows, not to {self.unit!r} "
                f"(got step={self.step!r})",
                window=self.unit,
            )
        if tz != "UTC" and self.unit not in CALENDAR_UNITS:
            raise InvalidInputError(
                f"a time zone moves only day, week, month, quarter and year windows; "
                f"{self.to_str(with_tz=False)!r} windows are lengths on the UTC clock, "
                f"so drop the time zone {tz!r} (or use a calendar unit, e.g. 'day@{tz}')",
                window=self.to_str(with_tz=False),
                tz=tz,
            )
        object.__setattr__(self, "tz", tz)

    def _check_origin(self) -> None:
        """A period's start: on a `"fixed"` grid only, in UTC, to the second; dropped when it
        falls on the epoch's alignment of a length up to 366 days anyway (so
        `"2026-01-01/2026-01-02"` is `"day"`)."""
        if self.unit != "fixed" or not isinstance(self.step, dt.timedelta):
            raise InvalidInputError(
                f"only a 'fixed' window length has an origin, not {self.unit!r}", window=self.unit
            )
        if not isinstance(self.origin, dt.datetime) or self.origin.microsecond:
            raise InvalidInputError(
                f"a period starts at a whole second, got {self.origin!r}", origin=str(self.origin)
            )
        origin = _utc(self.origin)
        step_us = self.step // _US
        if self.step <= MAX_STEP and ((origin - EPOCH) // _US) % step_us == 0:
            object.__setattr__(self, "origin", None)
        else:
            object.__setattr__(self, "origin", origin)

    # -- building and writing -------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, tz: str | None = None, *, default_tz: str | None = None) -> Grid:
        """The grid a string names: `"hour"`, `"day"`, `"week"`, `"month"`, `"quarter"`,
        `"year"`, a length `"<n>s|m|h|d"` or a period `"<start>/<end>"`, with an optional
        `"@<IANA zone>"` or `tz=`.

        `default_tz` is the zone of a calendar unit or a period that names none (a model's zone,
        for a report asked `"month"` of a model on `"day@Europe/Berlin"`); it never moves hours
        or lengths, and `"day@UTC"` keeps UTC."""
        if not isinstance(text, str) or len(text) > 100:
            shown = repr(text)[:100]
            raise InvalidInputError(f"window must be a short string, got {shown}; use {_ALLOWED}")
        body, sep, zone = text.strip().partition("@")
        if sep and tz is not None and zone != tz:
            raise InvalidInputError(
                f"window {text!r} names the time zone {zone!r} and tz={tz!r} another; give one",
                window=text,
            )
        name = body.strip().lower()
        named = sep or tz is not None
        if not named and default_tz is not None and (name in CALENDAR_UNITS or "/" in name):
            zone = default_tz
        else:
            zone = zone if sep else (tz if tz is not None else "UTC")
        if "/" in name:
            return cls.period(*period_bounds(body.strip(), zone, text))
        if name in CALENDAR_UNITS or name == "hour":
            return cls(cast(Unit, name), None, zone)
        match = _FIXED.fullmatch(name)
        if match is None:
            raise InvalidInputError(f"window {text!r} is not one of {_ALLOWED}", window=text)
        seconds = int(match.group(1)) * _SUFFIX_SECONDS[match.group(2)]
        if seconds > MAX_STEP.total_seconds():
            raise InvalidInputError(
                f"window {text!r} is longer than 366 days; use 'year'", window=text
            )
        return cls("fixed", dt.timedelta(seconds=seconds), zone)

    @classmethod
    def period(cls, start: dt.datetime, end: dt.datetime) -> Grid:
        """The grid whose window `[start, end)` is a custom period (any length from a minute,
        whole seconds; its neighbours are as long): what a report over exactly that period
        asks for. Written `"<start>/<end>"` in UTC.

        >>> Grid.period(dt.datetime(2026, 1, 1), dt.datetime(2026, 4, 1)).to_str()
        '2026-01-01/2026-04-01'
        """
        first, last = _utc(start), _utc(end)
        if last <= first:
            raise InvalidInputError(
                f"a period's end {last.isoformat()} must be after its start {first.isoformat()}",
                start=first.isoformat(),
                end=last.isoformat(),
            )
        return cls("fixed", last - first, "UTC", first)

    @classmethod
    def of(cls, value: GridLike) -> Grid:
        """A grid from what callers hold: a grid, its string, a `timedelta`, or whole seconds
        (a stored `window_seconds`: 3600 is `"hour"`, 86400 `"day"`, other lengths are fixed
        lengths on the epoch, so 604800 is a 7-day grid starting on Thursdays, not `"week"`)."""
        if isinstance(value, Grid):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, dt.timedelta):
            return cls("fixed", value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 < value <= MAX_STEP.total_seconds():
                raise InvalidInputError(
                    f"window_seconds must be between 60 and {int(MAX_STEP.total_seconds())}, "
                    f"got {value}",
                    window_seconds=value,
                )
            return cls("fixed", dt.timedelta(seconds=value))
        raise InvalidInputError(
            f"window must be a string ({_ALLOWED}), a datetime.timedelta or whole seconds, "
            f"got {value!r}"
        )

    def to_str(self, *, with_tz: bool = True) -> str:
        """The string `parse` reads back into this grid (`"hour"`, `"6h"`, `"day@Europe/Oslo"`,
        `"2026-01-01/2026-04-01"`)."""
        if self.origin is not None and self.step is not None:
            return period_text(self.origin, self.origin + self.step)
        if self.step is None:
            text: str = self.unit
        else:
            seconds = int(self.step.total_seconds())
            suffix = next(k for k in "dhms" if seconds % _SUFFIX_SECONDS[k] == 0)
            text = f"{seconds // _SUFFIX_SECONDS[suffix]}{suffix}"
        return f"{text}@{self.tz}" if with_tz and self.tz != "UTC" else text

    def __str__(self) -> str:
        return self.to_str()

    # -- facts ------------------------------------------------------------------------------------

    @property
    def seconds(self) -> int | None:
        """The length of every window in seconds, when they all have one (hours, fixed lengths,
        days and weeks in UTC); None for months, quarters, years and zoned days and weeks."""
        if self.step is not None:
            return int(self.step.total_seconds())
        if self.unit == "hour":
            return 3600
        if self.tz == "UTC" and self.unit in ("day", "week"):
            return 86_400 if self.unit == "day" else 7 * 86_400
        return None

    @property
    def is_calendar(self) -> bool:
        """Whether windows follow the calendar, so their lengths differ (`seconds` is None)."""
        return self.seconds is None

    def nests(self, finer: GridLike) -> bool:
        """Whether every window of this grid is a whole number of `finer`'s windows, so it can
        be assembled from windows stored on `finer` (a monitor's windows from a model's).
        Zoned calendars are judged on the zone's offsets since 1970 (before, many zones kept
        local mean time, to the second).

        >>> Grid.parse("month").nests("6h"), Grid.parse("week").nests("2d")
        (True, False)
        """
        inner = Grid.of(finer)
        if inner == self:
            return True
        size = inner.seconds
        if size is None:  # calendar in calendar: same zone, and a unit that divides ours
            return self.tz == inner.tz and self.unit in _CONTAINS.get(inner.unit, ())
        outer = self.seconds
        if outer is not None:
            offset = self._origin_us() - inner._origin_us()
            return outer % size == 0 and offset % (size * 1_000_000) == 0
        if 86_400 % size:
            return False
        shift = inner._origin_us() // 1_000_000
        return all((offset + shift) % size == 0 for offset in offsets(self.tz))

    # -- one time -------------------------------------------------------------------------------

    def floor(self, t: dt.datetime) -> dt.datetime:
        """The start of the window that holds `t`."""
        return self._locate(_utc(t))[1]

    def next(self, t: dt.datetime) -> dt.datetime:
        """The end of the window that holds `t`: the next window's start."""
        return self.window_of(t)[1]

    def window_of(self, t: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The `(start, end)` of the window that holds `t`; `start <= t < end`."""
        _, start, end = self._locate(_utc(t))
        if end is None:
            raise InvalidInputError(
                f"the {self.to_str()} window of {start.isoformat()} ends after the year 9999",
                start=start.isoformat(),
            )
        return start, end

    def is_window(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether `[start, end)` is exactly one window of this grid."""
        return self.window_of(start) == (_utc(start), _utc(end))

    def shift(self, t: dt.datetime, n: int) -> dt.datetime:
        """The start of the window `n` windows after the one that holds `t` (before, if n < 0)."""
        u = _utc(t)
        size = self._fixed_us()
        if size is not None:
            origin = self._origin_us()
            start_us = ((u - EPOCH) // _US - origin) // size * size + origin
            return _from_us(start_us + n * size)
        return self._locate(self._resolve(add_key(self.unit, self._key(u), n)))[1]

    def starts(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Starts of the windows that begin in `[floor(start), end)`, in order."""
        first, last = _utc(start), _utc(end)
        size = self._fixed_us()
        if size is not None:
            begin = (self.floor(first) - EPOCH) // _US
            stop = (last - EPOCH) // _US
            return [_from_us(s) for s in range(begin, stop, size)] if stop > begin else []
        out = []
        current: dt.datetime | None = self.floor(first)
        while current is not None and current < last:
            out.append(current)
            current = self._locate(current)[2]
        return out

    def count(self, start: dt.datetime, end: dt.datetime) -> int:
        """How many windows `starts(start, end)` holds, without listing them when they are
        many (for zoned days and weeks over centuries, it counts local dates: a day that the
        clocks skipped altogether, as Samoa's 2011-12-30, is then counted)."""
        first, last = self.floor(start), _utc(end)
        if last <= first:
            return 0
        size = self._fixed_us()
        if size is not None:
            return -(-((last - first) // _US) // size)
        if (last - first).days / _MIN_DAYS[self.unit] <= _MAX_LISTED:
            return len(self.starts(first, last))
        key_first, key_last = self._key(first), self._key(last - _US)
        if self.unit in ("day", "week"):
            return (key_last - key_first).days // (1 if self.unit == "day" else 7) + 1
        months = (key_last.year - key_first.year) * 12 + key_last.month - key_first.month
        return months // {"month": 1, "quarter": 3, "year": 12}[self.unit] + 1

    def label(self, t: dt.datetime) -> str:
        """A short name for the window that holds `t`: `"2026-03-29 14:00 UTC"`, `"2026-03-29"`,
        `"2026-W13"`, `"2026-03"`, `"2026-Q1"`, `"2026"` (calendar units in their time zone)."""
        start = self.floor(t)
        if self.origin is not None and self.step is not None:
            return period_text(start, start + self.step)
        if self.unit in ("hour", "fixed"):
            if (self.seconds or 0) % 86_400 == 0:
                return f"{start:%Y-%m-%d}"  # lengths of whole days start at UTC midnight
            pattern = "%Y-%m-%d %H:%M" if start.second == 0 else "%Y-%m-%d %H:%M:%S"
            return f"{start:{pattern}} UTC"
        day = start.astimezone(self._zone()).date() if self.tz != "UTC" else start.date()
        if self.unit == "day":
            return day.isoformat()
        if self.unit == "week":
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.unit == "month":
            return f"{day.year}-{day.month:02d}"
        if self.unit == "quarter":
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        return f"{day.year}"

    # -- many times -------------------------------------------------------------------------------

    def floor_micros(self, micros: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Window starts of timestamps, both in microseconds since the epoch (UTC), vectorised."""
        values = np.asarray(micros, dtype=np.int64)
        size = self._fixed_us()
        if size is not None:
            origin = self._origin_us()
            fixed: npt.NDArray[np.int64] = (values - origin) // size * size + origin
            return fixed
        if values.size == 0:
            return values.copy()
        low, high = int(values.min()), int(values.max())
        if low < _MIN_US or high > _MAX_US:
            bad = low if low < _MIN_US else high
            raise InvalidInputError(
                f"{bad} µs from the epoch is outside the years 1 to 9999, where calendar "
                f"windows end",
                micros=bad,
            )
        first_day, last_day = low // _DAY_US, high // _DAY_US
        if (last_day - first_day + 1) / _MIN_DAYS[self.unit] <= _MAX_LISTED:
            return self._floor_listed(values, first_day, last_day)
        if self.tz == "UTC":
            return floor_calendar_utc(values, self.unit)
        return self._floor_zoned(values)

    # -- internals --------------------------------------------------------------------------------

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def _origin_us(self) -> int:
        """Where fixed-length windows are aligned, in µs from the epoch: a period's start, the
        first Monday for UTC weeks, else the epoch."""
        if self.origin is not None:
            return (self.origin - EPOCH) // _US
        return _ORIGIN_US if self.unit == "week" else 0

    def _fixed_us(self) -> int | None:
        """The length in microseconds when windows are aligned by plain arithmetic."""
        seconds = self.seconds
        return None if seconds is None else seconds * 1_000_000

    def _locate(self, u: dt.datetime) -> tuple[dt.date | None, dt.datetime, dt.datetime | None]:
        """(the local date a calendar window is named by, its start, its end) for an instant;
        the end is None when it would fall after the year 9999."""
        size = self._fixed_us()
        if size is not None:
            origin = self._origin_us()
            start_us = ((u - EPOCH) // _US - origin) // size * size + origin
            end_us = start_us + size
            return None, _from_us(start_us), _from_us(end_us) if end_us < _MAX_US else None
        try:
            local = u.astimezone(self._zone()) if self.tz != "UTC" else u
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

    def _key(self, u: dt.datetime) -> dt.date:
        """The local date that names the calendar window holding `u`."""
        key = self._locate(u)[0]
        if key is None:
            raise TypeError(f"{self.to_str()!r} windows are not named by dates")
        return key

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
        day_starts = np.arange(first_day, last_day + 2, dtype=np.int64) * _DAY_US
        listed = self.starts(
            _from_us(int(day_starts[0])), _from_us(min(int(day_starts[-1]), _MAX_US))
        )
        bounds = np.array([(s - EPOCH) // _US for s in listed], dtype=np.int64)
        padded = np.append(bounds, [_NEVER, _NEVER])
        current = np.searchsorted(bounds, day_starts[:-1], side="right") - 1
        if np.any(padded[current + 2] < day_starts[1:]):
            return search(bounds.tolist(), values)  # two starts in one UTC day
        day = values // _DAY_US - first_day
        before, after = bounds[current][day], padded[current + 1][day]
        out: npt.NDArray[np.int64] = np.where(values >= after, after, before)
        return out

    def _floor_zoned(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Calendar windows in a time zone, for times spread over many windows: the window
        starts around each UTC day the times fall in, then a binary search for every time
        (linear in the number of distinct days, some microseconds each)."""
        bounds: set[int] = set()
        for day in np.unique(values // _DAY_US).tolist():
            day_start = _from_us(day * _DAY_US)
            _, start, end = self._locate(day_start)
            bounds.add((start - EPOCH) // _US)
            day_end = day_start + dt.timedelta(days=1)
            while end is not None and end < day_end:
                bounds.add((end - EPOCH) // _US)
                end = self._locate(end)[2]
        return search(sorted(bounds), values)


GridLike = Grid | str | dt.timedelta | int
"""What `Grid.of` accepts: a grid, its string, a length, or a length in seconds."""


_CONTAINS: dict[str, tuple[str, ...]] = {
    "day": ("week", "month", "quarter", "year"),
    "month": ("quarter", "year"),
    "quarter": ("year",),
}
"""The calendar units made of whole windows of each unit (weeks fit in none but themselves)."""


def _utc(t: dt.datetime) -> dt.datetime:
    if not isinstance(t, dt.datetime):
        raise InvalidInputError(f"a window needs a datetime, got {t!r}")
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _from_us(micros: int) -> dt.datetime:
    try:
        return EPOCH + micros * _US
    except OverflowError:
        raise InvalidInputError(
            f"{micros} µs from the epoch is outside the years 1 to 9999", micros=micros
        ) from None
