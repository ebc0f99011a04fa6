"""What a monitor is made of, below the kinds: its target, baselines and thresholds, and the view
of a monitor that the kinds read (`MonitorView`; `vigil.monitor.definitions.Monitor` is one).

The kinds import this module and never `definitions`, so that a `Monitor` can ask its kind to
check it without the two importing each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigil.caps import MAX_SEGMENT_KEYS
from vigil.windows import Grid

Severity = Literal["info", "warning", "critical"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value.isoformat()} has no time zone; write it in UTC, e.g. ...Z")
    return value.astimezone(dt.UTC)


class Target(_Frozen):
    """What a monitor watches: a monitored model; optionally one of its versions, or the version
    a registry alias points at (resolved at each evaluation); optionally one segment.

    >>> Target(model="churn", alias="production", segment={"country": "FR"}).key
    'churn@production[country=FR]'
    """

    model: str = Field(min_length=1, max_length=200)
    version: str | None = Field(default=None, max_length=200)
    alias: str | None = Field(default=None, max_length=200)
    """An alias of the model's `registry_model` (`production`): its version's windows."""
    segment: dict[str, str] | None = Field(default=None, max_length=MAX_SEGMENT_KEYS)
    """One segment column and its value, e.g. `{"country": "FR"}`: that segment's windows."""

    @field_validator("segment", mode="before")
    @classmethod
    def _segment_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, str) else _segment_value(v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_version(self) -> Target:
        if self.version is not None and self.alias is not None:
            raise ValueError(
                f"a target names a version ({self.version!r}) or an alias ({self.alias!r}), "
                "not both"
            )
        if self.alias is not None:
            from vigil.errors import InvalidInputError
            from vigil.registry.types import check_alias

            try:
                check_alias(self.alias)
            except InvalidInputError as exc:
                raise ValueError(exc.message) from None
        if self.segment is not None:
            if len(self.segment) != 1:
                raise ValueError(
                    f"a target's segment names exactly one column and its value, e.g. "
                    f'{{"country": "FR"}}; got {self.segment}'
                )
            ((column, _),) = self.segment.items()
            if not column or "=" in column:
                raise ValueError(f"segment column {column!r} must be a non-empty name without '='")
        return self

    @property
    def segment_key(self) -> str:
        """The stored windows' segment key: "" (the whole traffic) or "column=value"."""
        if not self.segment:
            return ""
        ((column, value),) = self.segment.items()
        return f"{column}={value}"

    @property
    def key(self) -> str:
        """The alert deduplication key of this target: model, @version or @alias, [segment]."""
        key = self.model
        if self.version is not None:
            key += f"@{self.version}"
        elif self.alias is not None:
            key += f"@{self.alias}"
        return key + (f"[{self.segment_key}]" if self.segment else "")


def _segment_value(value: Any) -> str:
    """A segment value as the store keys it (booleans `true`/`false`, numbers as written)."""
    if isinstance(value, bool | int | float):
        import pyarrow as pa
        import pyarrow.compute as pc

        # As the client writes segment keys: Arrow's cast to string (1.0 -> "1", True -> "true").
        return str(pc.cast(pa.array([value]), pa.string())[0].as_py())
    raise ValueError(f"a segment value must be a string, number or boolean, got {value!r}")


class ProfileBaseline(_Frozen):
    """A stored reference profile (e.g. the training data), by its artifact key."""

    type: Literal["profile"] = "profile"
    artifact: str = Field(min_length=1, max_length=500)


class RegistryBaseline(_Frozen):
    """The training data profile of a registered model version, by number or alias.

    `model` defaults to the monitored model's `registry_model`.
    """

    type: Literal["registry"] = "registry"
    model: str | None = Field(default=None, max_length=200)
    version: int | None = Field(default=None, ge=1)
    alias: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_of(self) -> RegistryBaseline:
        if (self.version is None) == (self.alias is None):
            raise ValueError("a registry baseline needs exactly one of `version` and `alias`")
        return self


class PeriodBaseline(_Frozen):
    """A fixed period of the model's own windows, [start, end)."""

    type: Literal["period"] = "period"
    start: dt.datetime
    end: dt.datetime

    _utc_start = field_validator("start", "end")(_utc)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodBaseline:
        if self.end <= self.start:
            raise ValueError(
                f"baseline period ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})"
            )
        return self


class TrailingBaseline(_Frozen):
    """The N monitor windows just before the evaluated one."""

    type: Literal["trailing"] = "trailing"
    windows: int = Field(default=24, ge=2, le=10_000)


class SeasonalBaseline(_Frozen):
    """The same window in each of the N previous weeks (e.g. Monday 9:00 against earlier Mondays)."""

    type: Literal["seasonal"] = "seasonal"
    weeks: int = Field(default=4, ge=2, le=520)


Baseline = Annotated[
    ProfileBaseline | RegistryBaseline | PeriodBaseline | TrailingBaseline | SeasonalBaseline,
    Field(discriminator="type"),
]


class StaticThreshold(_Frozen):
    """Fixed bounds: the monitor breaches when its statistic is above `upper` or below `lower`."""

    type: Literal["static"] = "static"
    upper: float | None = None
    lower: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> StaticThreshold:
        if self.upper is None and self.lower is None:
            raise ValueError("a static threshold needs `upper`, `lower` or both")
        if self.upper is not None and self.lower is not None and self.lower > self.upper:
            raise ValueError(f"lower ({self.lower}) is above upper ({self.upper})")
        return self


class LearnedThreshold(_Frozen):
    """Bounds learned from the baseline's own variation: mean +/- k standard deviations of the
    statistic over the baseline's windows. `direction` says which side breaches."""

    type: Literal["learned"] = "learned"
    k: float = Field(default=3.0, gt=0)
    direction: Literal["above", "below", "both"] = "both"
    min_windows: int = Field(default=3, ge=2)


Threshold = Annotated[StaticThreshold | LearnedThreshold, Field(discriminator="type")]


AnyBaseline = (
    ProfileBaseline | RegistryBaseline | PeriodBaseline | TrailingBaseline | SeasonalBaseline
)


class MonitorView(Protocol):
    """What a kind reads of a monitor (its definition, `vigil.monitor.definitions.Monitor`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def target(self) -> Target: ...
    @property
    def baseline(self) -> AnyBaseline | None: ...
    @property
    def threshold(self) -> StaticThreshold | LearnedThreshold | None: ...
    @property
    def options(self) -> dict[str, Any]: ...
    @property
    def grid(self) -> Grid: ...
    def effective_baseline(self) -> AnyBaseline: ...
