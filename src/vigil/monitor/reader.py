"""One reader of stored windows for an evaluation tick, shared by every monitor of the tick (and by
the dashboard's window statistics).

Window metadata (rows, uploads, arrivals) is read without the profile blobs. A blob is loaded only
for a window whose profile someone asks for (`WindowReader.load(..., profiles=True)`: the kinds
that read profiles), and decoded at most once per reader however many monitors read it: five
monitors on one model's day decode its 24 hourly profiles once, and a volume monitor decodes none.
A stored window that received data since it was decoded (more uploads) is read again. A window's
profile is its folded blob merged with its pending parts, read together (`load_stored`); folding
parts leaves the content, and so the (window id, uploads) cache key, unchanged.

A stored window retention rolled up (a day, a month: see `vigil.ingestion.rollup`) is read whole
in the monitor window where it starts, so sums over a range stay exact; but a monitor window
shorter than it cannot be measured on its own (an hour's share of a rolled day's rows is not
stored anywhere). Every monitor window it overlaps is marked `ReadWindow.rolled` with its
bounds: the evaluation records no value there and says why, as NannyML shows no result for a
chunk it cannot compute, rather than 480 rows at midnight and none for the next 23 hours.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from vigil.monitor.windows import Window, monitor_grid
from vigil.profile import DatasetProfile
from vigil.store.models import ProfileWindow
from vigil.store.stored_profiles import StoredProfile, decode_stored, load_stored, tally_of
from vigil.windows import Grid, GridLike

_SPANS_PER_QUERY = 200
_LONGEST_ROLLUP = dt.timedelta(days=32)
"""Longer than any window retention rolls up (a calendar month in any time zone)."""


@dataclass(frozen=True)
class StoredWindow:
    """One stored window's metadata (no blob)."""

    id: int
    model_id: int
    segment: str
    start: dt.datetime
    version: str
    n_rows: int
    n_uploads: int
    last_arrival: dt.datetime
    end: dt.datetime | None = None
    """Where the stored window ends: beyond the model's grid window when retention rolled windows
    up into a day or a month."""


@dataclass(frozen=True)
class ReadWindow(Window):
    """A monitor window whose profile is the merge of its stored windows as the reader decoded
    them (each decoded once per reader, in time order)."""

    parts: tuple[StoredWindow, ...] = field(default=(), repr=False)
    reader: WindowReader | None = field(default=None, repr=False, compare=False)
    rolled: tuple[dt.datetime, dt.datetime] | None = None
    """[start, end) of the stored data this window lies in when retention rolled it up into a
    window longer than this one (None: the window is made of whole stored windows)."""

    @property
    def rolled_note(self) -> str:
        """Why a `rolled` window has no value ("" when it is not rolled)."""
        if self.rolled is None:
            return ""
        first, end = (t.strftime("%Y-%m-%d %H:%M") for t in self.rolled)
        return (
            f"not measured: retention rolled {first} to {end} (UTC) up into one stored "
            "window, of which this window is only a part; a monitor with windows that long or "
            "longer measures it"
        )

    @cached_property
    def profile(self) -> DatasetProfile:
        if self.reader is None:
            return DatasetProfile.merge_all(())
        return self.reader.merged(self.parts)


def _rolled(
    grid: Grid,
    starts: Sequence[dt.datetime],
    stored: Iterable[StoredWindow],
    ends: Mapping[dt.datetime, dt.datetime] | None = None,
) -> dict[dt.datetime, tuple[dt.datetime, dt.datetime]]:
    """The monitor windows among `starts` (sorted) that stored windows longer than them
    overlap, with the bounds of that stored data. `ends`: the ends of monitor windows already
    known, by start (`grid.next`)."""
    known = ends or {}
    rolled: dict[dt.datetime, tuple[dt.datetime, dt.datetime]] = {}
    for window in stored:
        if window.end is None:
            continue
        end = known.get(window.start)  # a stored window starting a monitor window: its end
        if end is None:
            end = grid.next(grid.floor(window.start))
        if window.end <= end:
            continue
        first = grid.floor(window.start)
        for s in starts[bisect_left(starts, first) : bisect_left(starts, window.end)]:
            low, high = rolled.get(s, (window.start, window.end))
            rolled[s] = (min(low, window.start), max(high, window.end))
    return rolled


def _metadata(*where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """The stored windows' metadata (`StoredWindow`'s fields) where `where` holds, in order."""
    return (
        select(
            ProfileWindow.id,
            ProfileWindow.model_id,
            ProfileWindow.segment,
            ProfileWindow.start,
            ProfileWindow.version,
            ProfileWindow.n_rows,
            ProfileWindow.n_uploads,
            ProfileWindow.last_arrival,
            ProfileWindow.end,
        )
        .where(*where)
        .order_by(ProfileWindow.start, ProfileWindow.version)
    )


@functools.lru_cache(maxsize=4 * _SPANS_PER_QUERY)
def _in_spans(n_spans: int, versioned: bool, seek: bool = False) -> Select[*tuple[Any, ...]]:
    """The statement reading the metadata of a model's windows starting in `n_spans` spans
    ([first<i>, end<i>) each), built once per shape: a tick runs it for every model, and
    building it took as long as running it. Parameters: model_id, segment, version (when
    `versioned`), first0, end0, ...

    With `seek` (SQLite) and no version, each span is a range of the window key's index
    (model_id, version, segment, start) for each of the model's versions, found by `_versions`:
    otherwise SQLite reads every window of the model (720 for 30 days of hours) to keep a few
    dozen, 0.6 of 0.8 ms per model (PostgreSQL's plan is left as it was)."""
    model_id, segment = ProfileWindow.model_id, ProfileWindow.segment
    if versioned:
        fixed: tuple[ColumnElement[bool], ...] = (ProfileWindow.version == bindparam("version"),)
    elif seek:
        fixed = (ProfileWindow.version.in_(select(_versions().c.version)),)
    else:
        fixed = ()
    spans = [
        and_(
            ProfileWindow.start >= bindparam(f"first{i}"),
            ProfileWindow.start < bindparam(f"end{i}"),
        )
        for i in range(n_spans)
    ]
    if seek and not versioned:
        # Every term names the whole key prefix, so each is one index range (SQLite's OR of
        # index ranges); a condition outside the OR would be read row by row.
        within = or_(
            *(
                and_(
                    model_id == bindparam("model_id"), *fixed, segment == bindparam("segment"), span
                )
                for span in spans
            )
        )
        return _metadata(within)
    return _metadata(
        model_id == bindparam("model_id"), segment == bindparam("segment"), or_(*spans), *fixed
    )


def _versions() -> Any:
    """The model's distinct stored versions (parameter model_id), one index seek each: the
    smallest, then the smallest above it, ... (a recursive CTE; DISTINCT would read the index
    entry of every window)."""
    smallest = select(func.min(ProfileWindow.version).label("version")).where(
        ProfileWindow.model_id == bindparam("model_id")
    )
    versions = smallest.cte("model_versions", recursive=True)
    above = (
        select(func.min(ProfileWindow.version))
        .where(
            ProfileWindow.model_id == bindparam("model_id"),
            ProfileWindow.version > versions.c.version,
        )
        .scalar_subquery()
    )
    return versions.union_all(select(above).where(versions.c.version.is_not(None)))


class WindowReader:
    """Reads a model's stored windows for monitors (see the module docstring).

    Not thread-safe: one reader belongs to one tick (or one request) and its session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._decoded: dict[tuple[int, int], DatasetProfile | None] = {}
        self._blobs: dict[tuple[int, int], StoredProfile] = {}
        self._shared: dict[str, DatasetProfile | None] = {}
        self.decodes = 0
        """How many blobs this reader decoded (each stored window state at most once)."""
        self.blob_loads = 0
        """How many blobs this reader loaded from the store."""
        self._seek = session.get_bind().dialect.name == "sqlite"
        """Whether to read spans by seeking the window key's index per version (`_in_spans`)."""

    def stored(
        self,
        model_id: int,
        version: str | None,
        first: dt.datetime,
        end: dt.datetime,
        *,
        segment: str = "",
    ) -> list[StoredWindow]:
        """The stored windows starting in [first, end), oldest first, without their blobs."""
        return self._stored_in(model_id, version, [(first, end)], segment)

    def _stored_in(
        self,
        model_id: int,
        version: str | None,
        spans: Sequence[tuple[dt.datetime, dt.datetime]],
        segment: str,
    ) -> list[StoredWindow]:
        """The stored windows starting in any of `spans` ([first, end) each), oldest first."""
        found: list[StoredWindow] = []
        for i in range(0, len(spans), _SPANS_PER_QUERY):
            found += self._query(model_id, version, spans[i : i + _SPANS_PER_QUERY], segment)
        return found

    def _query(
        self,
        model_id: int,
        version: str | None,
        spans: Sequence[tuple[dt.datetime, dt.datetime]],
        segment: str,
    ) -> list[StoredWindow]:
        params: dict[str, object] = {"model_id": model_id, "segment": segment, "version": version}
        for i, (first, end) in enumerate(spans):
            params[f"first{i}"], params[f"end{i}"] = first, end
        query = _in_spans(len(spans), version is not None, self._seek)
        return [StoredWindow(*row) for row in self.session.execute(query, params)]

    def _select(
        self, model_id: int, version: str | None, segment: str, within: ColumnElement[bool]
    ) -> list[StoredWindow]:
        query = _metadata(
            ProfileWindow.model_id == model_id,
            ProfileWindow.segment == segment,
            within,
            *(() if version is None else (ProfileWindow.version == version,)),
        )
        return [StoredWindow(*row) for row in self.session.execute(query)]

    def _reaching(
        self,
        model_id: int,
        version: str | None,
        instants: Sequence[dt.datetime],
        segment: str,
    ) -> list[StoredWindow]:
        """The stored windows that start before and end after one of `instants` (rolled up)."""
        found: list[StoredWindow] = []
        for i in range(0, len(instants), _SPANS_PER_QUERY):
            chunk = instants[i : i + _SPANS_PER_QUERY]
            reaching = or_(
                *(
                    and_(
                        ProfileWindow.start >= at - _LONGEST_ROLLUP,
                        ProfileWindow.start < at,
                        ProfileWindow.end > at,
                    )
                    for at in chunk
                )
            )
            found += self._select(model_id, version, segment, reaching)
        return found

    def load(
        self,
        model_id: int,
        version: str | None,
        starts: Sequence[dt.datetime],
        window: GridLike,
        *,
        segment: str = "",
        profiles: bool = True,
    ) -> dict[dt.datetime, ReadWindow]:
        """The monitor windows starting at `starts` (each the union of the model's stored windows
        in it; empty windows included) of the monitor's `window` grid. With `profiles`, the blobs
        the reader has not read yet are loaded now, so measuring them later needs no
        transaction."""
        if not starts:
            return {}
        grid = monitor_grid(window)
        wanted = set(starts)
        parts: dict[dt.datetime, list[StoredWindow]] = {s: [] for s in starts}
        ends = {s: grid.next(s) for s in sorted(wanted)}
        # Only the runs of adjacent windows asked for (a baseline day and today: not the month
        # between them).
        spans: list[tuple[dt.datetime, dt.datetime]] = []
        for start, end in ends.items():
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        found = self._stored_in(model_id, version, spans, segment)
        for stored in found:
            key = grid.floor(stored.start)
            if key in wanted:
                parts[key].append(stored)
        # A span with no stored window starting at its start may lie inside a window rolled up
        # earlier (an hour of a rolled day): look for one reaching into it.
        starting = {w.start for w in found}
        inside = [first for first, _ in spans if first not in starting]
        reaching = self._reaching(model_id, version, inside, segment) if inside else []
        rolled = _rolled(grid, list(ends), [*reaching, *found], ends)
        if profiles:
            self.fetch([p for items in parts.values() for p in items])
        return {
            s: ReadWindow(
                start=s,
                end=ends[s],
                n_rows=sum(p.n_rows for p in items),
                n_uploads=sum(p.n_uploads for p in items),
                last_arrival=max((p.last_arrival for p in items), default=None),
                parts=tuple(items),
                reader=self,
                rolled=rolled.get(s),
            )
            for s, items in parts.items()
        }

    def fetch(self, windows: Iterable[StoredWindow]) -> None:
        """Load the blobs (and pending parts) of `windows` that this reader has not read in their
        current state."""
        missing = {
            w.id: w
            for w in windows
            if (w.id, w.n_uploads) not in self._decoded and (w.id, w.n_uploads) not in self._blobs
        }
        for window_id, blobs in load_stored(self.session, missing).items():
            meta = missing[window_id]
            self.blob_loads += 1
            stored = StoredProfile(
                meta.model_id, meta.start, blobs.blob, meta.version, meta.segment, blobs.parts
            )
            self._blobs[(window_id, blobs.n_uploads)] = stored
            if blobs.n_uploads != meta.n_uploads:  # data arrived between the two reads
                self._blobs[(window_id, meta.n_uploads)] = stored

    def profile(self, window: StoredWindow) -> DatasetProfile | None:
        """The stored window's profile (None when its bytes do not decode: logged, counted)."""
        key = (window.id, window.n_uploads)
        if key not in self._decoded:
            if key not in self._blobs:
                self.fetch([window])
            stored = self._blobs.pop(key, None)
            if stored is None:  # the window was deleted meanwhile
                self._decoded[key] = None
            else:
                self.decodes += 1
                self._decoded[key] = decode_stored(stored, tally_of(self.session))
        return self._decoded[key]

    def merged(self, windows: Iterable[StoredWindow]) -> DatasetProfile:
        """The merge of the windows' profiles in the given (time) order, undecodable ones
        skipped."""
        decoded = (self.profile(w) for w in windows)
        return DatasetProfile.merge_all(p for p in decoded if p is not None)

    def forget(self, windows: Iterable[StoredWindow]) -> None:
        """Drop the decoded profiles of `windows` (a reader of many windows read once each)."""
        for w in windows:
            self._decoded.pop((w.id, w.n_uploads), None)
            self._blobs.pop((w.id, w.n_uploads), None)

    def shared(self, key: str, load: Callable[[], DatasetProfile | None]) -> DatasetProfile | None:
        """A profile several monitors of the tick compare with (a baseline artifact, a registered
        version's training data, a baseline period's merge), loaded once per reader by `key`."""
        if key not in self._shared:
            self._shared[key] = load()
        return self._shared[key]
