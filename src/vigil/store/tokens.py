"""API token lifetimes: durations such as `90d`, expiry, and how often the last use is stamped.

A token may carry an `expires_at`; from then on it authenticates nothing (a 401 naming the
expiry). `last_used_at` is written at most once per `LAST_USE_RESOLUTION` per token, so a busy
client does not cost a write per request.
"""

from __future__ import annotations

import datetime as dt
import re

from vigil.errors import AuthenticationError, InvalidInputError

LAST_USE_RESOLUTION = dt.timedelta(minutes=1)
"""`last_used_at` is accurate to this: a use within this time of the stamp does not move it."""

MAX_DURATION = dt.timedelta(days=3660)
"""The longest lifetime or grace period accepted (ten years); a token that should live longer
should have no expiry at all."""

DURATION_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"([0-9]{1,12})([smhdw])")


def parse_duration(text: str, *, name: str = "--expires-in") -> dt.timedelta:
    """`90d`, `12h`, `30m`, `3600s` or `2w` as a timedelta; anything else is an
    `InvalidInputError` naming `name` and the value.

    >>> parse_duration("90d")
    datetime.timedelta(days=90)
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise InvalidInputError(
            f"{name}: {text!r} is not a duration: give a whole number and one unit of "
            "s, m, h, d or w (e.g. 90d)",
            field=name,
            value=text,
        )
    seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds <= 0 or seconds > MAX_DURATION.total_seconds():
        raise InvalidInputError(
            f"{name}: {text!r} is out of range: give more than 0s and at most {MAX_DURATION.days}d",
            field=name,
            value=text,
        )
    return dt.timedelta(seconds=seconds)


def actor_of(owner: str, token_id: str) -> str:
    """The name recorded for what a token's holder does: its owner, else `token:<id>`."""
    return owner or f"token:{token_id}"


def check_not_expired(expires_at: dt.datetime | None, now: dt.datetime) -> None:
    """Raise the 401 of an expired token, naming when it expired."""
    if expires_at is not None and expires_at <= now:
        raise AuthenticationError(
            f"the API token expired at {expires_at.isoformat()}; ask an admin for a new one "
            "(`vigil token rotate` or `vigil token create`)",
            expired_at=expires_at.isoformat(),
        )


def is_live(
    revoked_at: dt.datetime | None, expires_at: dt.datetime | None, now: dt.datetime
) -> bool:
    """Whether a token with these times authenticates requests at `now`."""
    return revoked_at is None and (expires_at is None or expires_at > now)
