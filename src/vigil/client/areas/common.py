"""What the areas share: turning arguments into query parameters, the embedded store's handle."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any, ClassVar

from vigil.errors import InvalidInputError


def utc(value: dt.datetime, label: str) -> dt.datetime:
    """`value` in UTC (a naive time is taken as UTC); InvalidInputError names `label`."""
    if not isinstance(value, dt.datetime):
        raise InvalidInputError(f"{label} must be a datetime, got {value!r}")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def params(**values: Any) -> dict[str, str]:
    """Query parameters: times as ISO 8601 in UTC, None left out."""
    return {
        k: utc(v, k).isoformat() if isinstance(v, dt.datetime) else str(v)
        for k, v in values.items()
        if v is not None
    }


def deprecated(old: str, new: str) -> None:
    """Warn that `Client.<old>` is now `client.<new>` (the alias lasts one release)."""
    warnings.warn(
        f"Client.{old}(...) is deprecated and will be removed in the next release; "
        f"use client.{new}(...)",
        DeprecationWarning,
        stacklevel=3,
    )


class FormerMethod:
    """An area whose name was a `Client` method: calling the area (`client.alerts(...)`) still
    runs that method, `client.<area>.<FORMER>`, with a DeprecationWarning, for one release."""

    AREA: ClassVar[str]
    FORMER: ClassVar[str]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        deprecated(self.AREA, f"{self.AREA}.{self.FORMER}")
        return getattr(self, self.FORMER)(*args, **kwargs)
