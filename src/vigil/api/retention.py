"""A model's retention policy as the API, the client and the CLI exchange it: how long raw rows,
fine windows, resolved alerts and events are kept (None keeps them for ever).

>>> RetentionIn(rows_days=30, daily_after_days=7, monthly_after_days=90).monthly_after_days
90
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigil.errors import InvalidInputError

MAX_RETENTION_DAYS = 36_525
"""A hundred years: longer is "for ever" (None), and keeps date arithmetic in range."""

RETENTION_FIELDS: tuple[str, ...] = (
    "rows_days",
    "daily_after_days",
    "monthly_after_days",
    "alerts_days",
    "events_days",
)

Days = Annotated[int | None, Field(default=None, ge=1, le=MAX_RETENTION_DAYS, strict=True)]


class RetentionIn(BaseModel):
    """A retention policy (the whole policy: a field left out, or None, keeps for ever)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows_days: Days = None
    """Raw prediction and label rows are deleted, by whole days, after this many days."""
    daily_after_days: Days = None
    """Windows shorter than a day are rolled up into one per day after this many days."""
    monthly_after_days: Days = None
    """Windows of a day are rolled up into one per calendar month (in the model's time zone)
    after this many days."""
    alerts_days: Days = None
    """Resolved alerts, with their history, are deleted this many days after they resolved."""
    events_days: Days = None
    """The model's events, with their sent or failed deliveries, are deleted after this many days
    (an event still waiting for a delivery is kept)."""

    @model_validator(mode="after")
    def _monthly_after_daily(self) -> RetentionIn:
        daily, monthly = self.daily_after_days, self.monthly_after_days
        if daily is not None and monthly is not None and monthly < daily:
            raise ValueError(
                f"monthly_after_days={monthly} must be at least daily_after_days={daily}: "
                "days are rolled up into months after they were rolled up from hours"
            )
        return self

    @property
    def keeps_everything(self) -> bool:
        return all(getattr(self, name) is None for name in RETENTION_FIELDS)


class RetentionOut(RetentionIn):
    """A model's retention policy, who set it and when (`updated_at` None: never set)."""

    model: str
    updated_at: dt.datetime | None = None
    updated_by: str = ""

    def policy(self) -> RetentionIn:
        """The policy alone (what a PUT takes)."""
        return RetentionIn(**{name: getattr(self, name) for name in RETENTION_FIELDS})


def retention_policy(**days: object) -> RetentionIn:
    """A policy from keyword values, or InvalidInputError naming each bad value and why.

    >>> retention_policy(rows_days=0)
    Traceback (most recent call last):
    vigil.errors.InvalidInputError: rows_days=0: Input should be greater than or equal to 1
    """
    try:
        return RetentionIn.model_validate(days)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}={error['input']!r}: {message}" if where else message)
        raise InvalidInputError("; ".join(problems), **{"fields": sorted(days)}) from None
