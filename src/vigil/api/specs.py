"""Typed values that cross the store's boundary: what the server's /api/v1 and the client exchange."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from vigil.caps import MAX_MODEL_COLUMNS
from vigil.errors import InvalidInputError
from vigil.ranges import parse_duration
from vigil.schema import RESERVED_PREFIX
from vigil.windows import Grid

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"name {value!r} must start with a letter or digit and contain only letters, digits "
            "and . _ - (at most 200 characters)"
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]


def _check_column(value: str) -> str:
    if not value or len(value) > 200:
        raise ValueError(f"column name {value!r} must have 1 to 200 characters")
    if value.startswith(RESERVED_PREFIX):
        raise ValueError(
            f"column name {value!r} starts with {RESERVED_PREFIX!r}, which is reserved"
        )
    return value


Column = Annotated[str, AfterValidator(_check_column)]


class Scope(StrEnum):
    """What a token may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Scope).index(self)

    def allows(self, required: Scope) -> bool:
        return self.rank >= required.rank


DEFAULT_MIN_LABEL_COVERAGE = 0.5
"""A window's realized performance is complete from this share of labelled predictions."""


class ModelSpec(BaseModel):
    """A monitored model and the roles of its columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    description: str = ""
    features: list[Column] = Field(default_factory=list, max_length=MAX_MODEL_COLUMNS)
    predictions: list[Column] = Field(default_factory=list, max_length=MAX_MODEL_COLUMNS)
    scores: list[Column] = Field(default_factory=list, max_length=MAX_MODEL_COLUMNS)
    segments: list[Column] = Field(default_factory=list, max_length=MAX_MODEL_COLUMNS)
    id_column: Column | None = None
    timestamp_column: Column | None = None
    target_column: Column | None = None
    window_seconds: int = Field(default=3600, ge=60, le=31 * 86400)
    """The windows' length for grids that clients before `window` understand (a length from a
    minute to 31 days on the epoch, dividing a day or of whole days); for the other grids, a
    stand-in those clients accept (the longest window, at most 31 days)."""
    registry_model: str | None = None
    window: str | None = Field(default=None, max_length=100, exclude_if=lambda v: v is None)
    """The time grid, when `window_seconds` cannot say it: `"week"` (Mondays), `"month"`,
    `"quarter"`, `"year"`, a time zone (`"day@Europe/Oslo"`), a length over 31 days. None (and
    left out of the JSON, so that older clients read it) when `window_seconds` says it all."""
    row_features: list[Column] = Field(
        default_factory=list, max_length=MAX_MODEL_COLUMNS, exclude_if=lambda v: not v
    )
    """Features whose values are stored with each prediction row, for direct loss estimation
    of a regression model. Empty by default: then raw feature values never leave the serving
    process (only their profiles do). Each must be one of `features`. Left out of the JSON when
    empty, so that older clients read the model."""
    min_label_coverage: float = Field(
        default=DEFAULT_MIN_LABEL_COVERAGE,
        ge=0,
        le=1,
        exclude_if=lambda v: v == DEFAULT_MIN_LABEL_COVERAGE,
    )
    """The share of a window's predictions that must have a label before its realized
    performance counts as complete: incomplete windows are flagged, drawn as such and never
    raise a performance alert. Left out of the JSON at its default, so that older clients read
    the model."""

    @model_validator(mode="before")
    @classmethod
    def _one_grid(cls, data: Any) -> Any:
        """`window` as the grid's canonical string, or None with `window_seconds` saying it."""
        if not isinstance(data, dict) or data.get("window") is None:
            return data
        try:
            grid = Grid.parse(data["window"])
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
        window, seconds = _stored_window(grid)
        given = data.get("window_seconds")
        if given is not None and given != seconds:
            raise ValueError(
                f"window={data['window']!r} and window_seconds={given!r} disagree; "
                "give the window only"
            )
        return {**data, "window": window, "window_seconds": seconds}

    @property
    def grid(self) -> Grid:
        """The model's time grid: the windows its traffic is profiled and stored in."""
        return Grid.parse(self.window) if self.window else Grid.of(self.window_seconds)

    @model_validator(mode="after")
    def _roles_are_distinct(self) -> ModelSpec:
        """One role per column, except that a feature may also be a segment (a sensitive
        attribute the model reads, e.g. age): drift watches it, fairness groups by it."""
        seen: dict[str, str] = {}
        for role, names in self._roles().items():
            for name in names:
                if name in seen and {seen[name], role} != {"feature", "segment"}:
                    raise ValueError(
                        f"column {name!r} is both a {seen[name]} and a {role}; a column has "
                        "one role, except that a feature may also be a segment"
                    )
                seen.setdefault(name, role)
        if 86400 % self.window_seconds and self.window_seconds % 86400:
            raise ValueError(
                f"window_seconds={self.window_seconds} must divide a day (e.g. 3600) "
                "or be a whole number of days"
            )
        return self

    @model_validator(mode="after")
    def _row_features_are_features(self) -> ModelSpec:
        unknown = [name for name in self.row_features if name not in self.features]
        if unknown:
            raise ValueError(
                f"row_features {unknown} are not among the model's features {self.features}"
            )
        return self

    def _roles(self) -> dict[str, list[str]]:
        single = {
            "id column": self.id_column,
            "timestamp column": self.timestamp_column,
            "target column": self.target_column,
        }
        roles: dict[str, list[str]] = {
            "feature": list(self.features),
            "prediction": list(self.predictions),
            "score": list(self.scores),
            "segment": list(self.segments),
        }
        roles.update({role: [name] for role, name in single.items() if name})
        return roles

    @property
    def profiled_columns(self) -> list[str]:
        """Columns whose statistics are profiled per window."""
        extra = [self.target_column] if self.target_column else []
        columns = [*self.features, *self.predictions, *self.scores, *self.segments, *extra]
        return list(dict.fromkeys(columns))  # a feature that is also a segment, once

    @property
    def row_columns(self) -> list[str]:
        """Columns sent as rows (so labels can be joined to them later, performance grouped by
        segment, and the loss of a regression model estimated from its `row_features`)."""
        columns = [*self.row_features, *self.predictions, *self.scores, *self.segments]
        return list(dict.fromkeys(columns))


_LEGACY_MAX = 31 * 86_400


def _stored_window(grid: Grid) -> tuple[str | None, int]:
    """(`window`, `window_seconds`) of a grid: no `window` when a length on the epoch that
    clients before `window` accepted says it; else its string and the longest window's
    length, capped at 31 days (what those clients accept, to read the model, not log to it)."""
    seconds = grid.seconds
    if (
        grid.unit in ("hour", "day", "fixed")
        and grid.origin is None  # a period's alignment is in its string
        and seconds is not None
        and seconds <= _LEGACY_MAX
        and (86_400 % seconds == 0 or seconds % 86_400 == 0)
    ):
        return None, seconds
    longest = {"day": 86_400, "week": 7 * 86_400}.get(grid.unit, _LEGACY_MAX)
    return grid.to_str(), min(seconds or longest, _LEGACY_MAX) // 86_400 * 86_400 or 86_400


class ModelOut(ModelSpec):
    created_at: dt.datetime


class WindowOut(BaseModel):
    """One window of one model version: its volume and when its data arrived."""

    version: str
    segment: str = ""
    start: dt.datetime
    end: dt.datetime
    n_rows: int
    n_uploads: int
    first_arrival: dt.datetime
    last_arrival: dt.datetime


class IngestResult(BaseModel):
    batch_id: str
    duplicate: bool = Field(description="True when this batch had already been applied.")
    n_rows: int
    n_profiles: int
    windows: list[dt.datetime]


class KpiIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    value: float = Field(allow_inf_nan=False)
    timestamp: dt.datetime | None = None
    model: Name | None = None
    version: str = ""
    batch_id: str | None = Field(default=None, max_length=64)


class KpiOut(BaseModel):
    name: str
    value: float
    timestamp: dt.datetime
    model: str | None
    version: str
    created_by: str = Field(default="", description="Who logged it (the token's owner).")


def _check_duration(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        try:
            parse_duration(value, name=info.field_name or "duration")
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
    return value


Duration = (
    Annotated[
        str,
        AfterValidator(_check_duration),
        Field(max_length=20, description="A whole number and a unit: 90d, 12h, 2w."),
    ]
    | None
)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope
    name: str = Field(default="", max_length=200)
    owner: str = Field(
        default="",
        max_length=200,
        description="Who will hold the token (default: the admin creating it); what they do is "
        "recorded under this name.",
    )
    expires_in: Duration = None


class TokenRotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_in: Duration = None
    grace: Duration = None


class TokenOut(BaseModel):
    id: str
    name: str
    owner: str
    scope: Scope
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = Field(
        default=None, description="The last authenticated request, to the minute."
    )


class NewToken(TokenOut):
    token: str = Field(description="The secret; shown once, store it now.")


class DailyVolume(BaseModel):
    day: dt.date
    n_predictions: int
    n_labelled: int
