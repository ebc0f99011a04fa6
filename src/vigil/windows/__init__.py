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

>>> import datetime as dt
>>> grid = Grid.parse("month@Europe/Oslo")
>>> [t.isoformat() for t in grid.window_of(dt.datetime(2026, 3, 15, tzinfo=dt.UTC))]
['2026-02-28T23:00:00+00:00', '2026-03-31T22:00:00+00:00']
>>> grid.label(dt.datetime(2026, 3, 15, tzinfo=dt.UTC)), grid.to_str()
('2026-03', 'month@Europe/Oslo')

The grid itself is `vigil.windows.grid`; calendar units (lengths that follow the calendar and the
clocks) are `vigil.windows.calendar_units`; the epochs and µs conversions `vigil.windows.instants`.
"""

from vigil.windows.grid import CALENDAR_UNITS, UNITS, Grid, GridLike, Unit
from vigil.windows.instants import EPOCH, ORIGIN

__all__ = ["CALENDAR_UNITS", "EPOCH", "ORIGIN", "UNITS", "Grid", "GridLike", "Unit"]
