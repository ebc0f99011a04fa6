"""What a DatasetProfile is made of: its time window, and the fields a reader of a profile needs.

The modules that encode, decode or render a profile read it through `ProfileFields`, so they do
not import `DatasetProfile` (whose methods call them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from vigil.errors import InvalidInputError
from vigil.profile.columns import AnyColumn


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise InvalidInputError(
            f"window {name} must be a datetime, got {type(value).__name__}", value=repr(value)
        )
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """The half-open time span [start, end) a profile covers, in UTC (naive times are read as UTC)."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        start, end = _utc(self.start, "start"), _utc(self.end, "end")
        if end < start:
            raise InvalidInputError(
                f"window end {end.isoformat()} is before its start {start.isoformat()}"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def union(self, other: Window | None) -> Window:
        if other is None:
            return self
        return Window(min(self.start, other.start), max(self.end, other.end))

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def to_window(value: Window | tuple[Any, Any] | None) -> Window | None:
    """A `Window`, or None, from what `vigil.profile(window=...)` accepts."""
    if value is None or isinstance(value, Window):
        return value
    try:
        start, end = value
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"window must be a vigil.Window or a (start, end) pair, got {value!r}"
        ) from None
    return Window(start, end)


class ProfileFields(Protocol):
    """The fields of a profile, as `DatasetProfile` and `ProfileParts` both have them."""

    @property
    def columns(self) -> Mapping[str, AnyColumn]: ...

    @property
    def n_rows(self) -> int: ...

    @property
    def window(self) -> Window | None: ...

    @property
    def skipped(self) -> Mapping[str, str]: ...


class ProfileParts(NamedTuple):
    """A profile's fields read from bytes, before they become a `DatasetProfile`."""

    columns: Mapping[str, AnyColumn]
    n_rows: int
    window: Window | None
    skipped: Mapping[str, str]
