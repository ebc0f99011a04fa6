"""Bounded list answers: a page of at most `limit` items in time order, and where the next begins.

A route asks its query for `limit + 1` items ordered by time; `time_page` keeps at most `limit`,
never splitting the items of one time across two pages, and puts the time the next page starts
from in the `X-Vigil-Next-Start` header (absent on the last page). The client asks again with
`start=<that time>` until the header is gone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Query, Response

from vigil.caps import MAX_PAGE

T = TypeVar("T")
NEXT_START = "X-Vigil-Next-Start"
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most items answered.")]


def time_page(
    items: list[T], limit: int, time_of: Callable[[T], dt.datetime], response: Response
) -> list[T]:
    """At most `limit` of `items` (asked for `limit + 1`), the next page's start in a header."""
    if len(items) <= limit:
        return items
    following = time_of(items[limit])
    page = [item for item in items[:limit] if time_of(item) != following]
    if page:
        response.headers[NEXT_START] = following.isoformat()
        return page
    # More than `limit` items share one time: answer `limit` of them; the others are left out.
    response.headers[NEXT_START] = (following + dt.timedelta(microseconds=1)).isoformat()
    return items[:limit]
