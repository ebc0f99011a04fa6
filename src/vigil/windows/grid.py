"""`Grid`: how time is cut into windows, parsed from and written as the strings users and the
store hold (see `vigil.windows` for the forms); fixed lengths by arithmetic on the UTC clock,
calendar units through `vigil.windows.calendar_units`."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal, cast, get_args
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from vigil.calendar_math import (
    MAX_STEP,
    check_step,
    check_zone,
    offsets,
    period_bounds,
    period_text,
)
from vigil.errors import InvalidInputError
from vigil.windows.calendar_units import CalendarWindows
from vigil.windows.instants import MAX_US, ORIGIN_US, US, from_us, to_us, utc

Unit = Literal["hour", "day", "week", "month", "quarter", "year", "fixed"]
UNITS: tuple[str, ...] = get_args(Unit)
CALENDAR_UNITS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
"""The units that start at local midnight, and so move with a time zone."""


_FIXED = re.compile(r"([1-9][0-9]{0,9})([smhd])")
_SUFFIX_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
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
    _size_us: int | None = field(init=False, repr=False, compare=False)
    """`_fixed_us()`, worked out once (a tick floors and steps tens of thousands of times)."""
    _start_us: int = field(init=False, repr=False, compare=False)
    """`_origin_us()`, worked out once."""

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
        seconds = self.seconds
        object.__setattr__(self, "_size_us", None if seconds is None else seconds * 1_000_000)
        origin_us = to_us(self.origin) if self.origin is not None else 0
        object.__setattr__(self, "_start_us", ORIGIN_US if self.unit == "week" else origin_us)

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
        origin = utc(self.origin)
        step_us = self.step // US
        if self.step <= MAX_STEP and to_us(origin) % step_us == 0:
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
        first, last = utc(start), utc(end)
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
        return self._locate(utc(t))[0]

    def next(self, t: dt.datetime) -> dt.datetime:
        """The end of the window that holds `t`: the next window's start."""
        return self.window_of(t)[1]

    def window_of(self, t: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The `(start, end)` of the window that holds `t`; `start <= t < end`."""
        start, end = self._locate(utc(t))
        if end is None:
            raise InvalidInputError(
                f"the {self.to_str()} window of {start.isoformat()} ends after the year 9999",
                start=start.isoformat(),
            )
        return start, end

    def is_window(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether `[start, end)` is exactly one window of this grid."""
        return self.window_of(start) == (utc(start), utc(end))

    def shift(self, t: dt.datetime, n: int) -> dt.datetime:
        """The start of the window `n` windows after the one that holds `t` (before, if n < 0)."""
        u = utc(t)
        size = self._fixed_us()
        if size is None:
            return self._calendar().shift(u, n)
        origin = self._origin_us()
        start_us = (to_us(u) - origin) // size * size + origin
        return from_us(start_us + n * size)

    def starts(self, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
        """Starts of the windows that begin in `[floor(start), end)`, in order."""
        first, last = utc(start), utc(end)
        size = self._fixed_us()
        if size is None:
            return self._calendar().starts(first, last)
        begin, stop = to_us(self.floor(first)), to_us(last)
        return [from_us(s) for s in range(begin, stop, size)] if stop > begin else []

    def count(self, start: dt.datetime, end: dt.datetime) -> int:
        """How many windows `starts(start, end)` holds, without listing them when they are
        many (for zoned days and weeks over centuries, it counts local dates: a day that the
        clocks skipped altogether, as Samoa's 2011-12-30, is then counted)."""
        first, last = self.floor(start), utc(end)
        if last <= first:
            return 0
        size = self._fixed_us()
        if size is None:
            return self._calendar().count(first, last)
        return -(-((last - first) // US) // size)

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
        day = start.astimezone(ZoneInfo(self.tz)).date() if self.tz != "UTC" else start.date()
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
        if size is None:
            return self._calendar().floor_micros(values)
        origin = self._origin_us()
        fixed: npt.NDArray[np.int64] = (values - origin) // size * size + origin
        return fixed

    # -- internals --------------------------------------------------------------------------------

    def _calendar(self) -> CalendarWindows:
        """The calendar windows of a unit whose lengths differ (`seconds` is None)."""
        return CalendarWindows(self.unit, self.tz)

    def _origin_us(self) -> int:
        """Where fixed-length windows are aligned, in µs from the epoch: a period's start, the
        first Monday for UTC weeks, else the epoch."""
        return self._start_us

    def _fixed_us(self) -> int | None:
        """The length in microseconds when windows are aligned by plain arithmetic."""
        return self._size_us

    def _locate(self, u: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
        """The start and end of the window holding an aware UTC instant; the end is None when
        it would fall after the year 9999."""
        size = self._size_us
        if size is None:
            return self._calendar().locate(u)[1:]
        origin = self._start_us
        start_us = (to_us(u) - origin) // size * size + origin
        end_us = start_us + size
        return from_us(start_us), from_us(end_us) if end_us < MAX_US else None


GridLike = Grid | str | dt.timedelta | int
"""What `Grid.of` accepts: a grid, its string, a length, or a length in seconds."""


_CONTAINS: dict[str, tuple[str, ...]] = {
    "day": ("week", "month", "quarter", "year"),
    "month": ("quarter", "year"),
    "quarter": ("year",),
}
"""The calendar units made of whole windows of each unit (weeks fit in none but themselves)."""
