"""Monitor definitions (channels are defined in `vigil.events.channels.definitions`): pydantic models validated at construction.

A monitor watches one model (optionally one version) with one kind of check, per window, against
a baseline, with a threshold; when it breaches it raises an alert sent to its channels.

>>> Monitor(name="churn-drift", kind="data_drift", target={"model": "churn"},
...         baseline={"type": "period", "start": "2026-01-01T00:00:00Z",
...                   "end": "2026-01-08T00:00:00Z"}, window="day")    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from pydantic import Field, field_validator, model_validator

from vigil.caps import MAX_NAMES
from vigil.errors import InvalidInputError
from vigil.events.channels.definitions import (
    NAME_PATTERN,
    Channel,
    ChannelConfig,
    EmailChannel,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from vigil.monitor.kinds import get_kind
from vigil.monitor.specs import (
    Baseline,
    LearnedThreshold,
    PeriodBaseline,
    ProfileBaseline,
    RegistryBaseline,
    SeasonalBaseline,
    Severity,
    StaticThreshold,
    Target,
    Threshold,
    TrailingBaseline,
    _Frozen,
)
from vigil.windows import Grid


@functools.lru_cache(maxsize=1024)
def _grid(window: str) -> Grid:
    """The grid a (validated) window string names, parsed once: a tick asks every monitor's
    grid thousands of times, and a grid is immutable."""
    return Grid.parse(window)


class Monitor(_Frozen):
    """A monitor. `kind` names a registered kind (`vigil.monitor.kinds.KINDS`); `options` are that
    kind's settings, checked by the kind. `threshold` defaults to the kind's own default."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: str
    target: Target
    baseline: Baseline | None = None
    window: str = Field(default="hour", max_length=100)
    """The monitor's grid (`vigil.windows`): "hour", "day", "week", "month", "quarter", "year", a
    length such as "6h", or a calendar unit in a time zone ("day@Europe/Oslo")."""
    threshold: Threshold | None = None
    severity: Severity = "warning"
    channels: tuple[str, ...] = Field(default=(), max_length=MAX_NAMES)
    cooldown: dt.timedelta = dt.timedelta(hours=1)
    grace: dt.timedelta = dt.timedelta(days=1)
    """How long after a window closes late data still re-evaluates it."""
    delay: dt.timedelta = dt.timedelta(0)
    """How long after a window's end it counts as closed (room for data in flight)."""
    enabled: bool = True
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_accepts(self) -> Monitor:
        from vigil.errors import InvalidInputError

        try:
            kind = get_kind(self.kind)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
        kind.check(self)
        if isinstance(self.threshold, LearnedThreshold) and isinstance(
            self.baseline, ProfileBaseline | RegistryBaseline
        ):
            raise ValueError(
                "a learned threshold needs a baseline made of windows (period, trailing or "
                "seasonal), not a single profile"
            )
        for value, label in ((self.cooldown, "cooldown"), (self.grace, "grace")):
            if value < dt.timedelta(0):
                raise ValueError(f"{label} must not be negative, got {value}")
        return self

    @field_validator("window")
    @classmethod
    def _window_is_a_grid(cls, value: str) -> str:
        try:
            return Grid.parse(value).to_str()
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None

    @property
    def grid(self) -> Grid:
        """The monitor's windows (weeks from Monday 00:00, calendar units in their zone)."""
        return _grid(self.window)

    @property
    def window_seconds(self) -> int | None:
        """The windows' length when it is fixed (hours, days, weeks, lengths); None for months,
        quarters, years and zoned calendar units."""
        return self.grid.seconds

    def effective_threshold(self) -> StaticThreshold | LearnedThreshold:

        return self.threshold or get_kind(self.kind).default_threshold

    def effective_baseline(
        self,
    ) -> ProfileBaseline | RegistryBaseline | PeriodBaseline | TrailingBaseline | SeasonalBaseline:

        return self.baseline or get_kind(self.kind).default_baseline


class MonitorFile(_Frozen):
    """The content of a monitors YAML file: channels and monitors, applied together."""

    channels: tuple[Channel, ...] = ()
    monitors: tuple[Monitor, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> MonitorFile:
        for label, names in (
            ("monitor", [m.name for m in self.monitors]),
            ("channel", [c.name for c in self.channels]),
        ):
            seen = {n for n in names if names.count(n) > 1}
            if seen:
                raise ValueError(f"{label} names appear more than once: {sorted(seen)}")
        return self


__all__ = [
    "Channel",
    "ChannelConfig",
    "EmailChannel",
    "Monitor",
    "MonitorFile",
    "PagerDutyChannel",
    "SlackChannel",
    "WebhookChannel",
]
