"""API token lifetimes: durations such as `90d`, expiry, and how often the last use is stamped.

A token may carry an `expires_at`; from then on it authenticates nothing (a 401 naming the
expiry). `last_used_at` is written at most once per `LAST_USE_RESOLUTION` per token, so a busy
client does not cost a write per request.
"""

from __future__ import annotations

import datetime as dt

from vigil.errors import AuthenticationError

LAST_USE_RESOLUTION = dt.timedelta(minutes=1)
"""`last_used_at` is accurate to this: a use within this time of the stamp does not move it."""


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
