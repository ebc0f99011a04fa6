"""Following a run while it runs: the points logged since a cursor, and a loop that polls them.

A cursor is each metric's last step seen (opaque, URL-safe). A poll reads the run's latest
metrics (one small query), then, only for the metrics that moved, the new points through the
(run, key, step) index: its cost follows the new points, not the run's history. Points logged at
a step not above one already seen (re-logging an old step) are not returned again.

>>> page = live_metrics(session, run_id, since_step=-1)            # doctest: +SKIP
>>> page = live_metrics(session, run_id, cursor=page.cursor)       # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterator

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.api.client import VigilApi
from vigil.api.tracking import MetricPoint, RunStatus, none_to_nan
from vigil.errors import InvalidInputError, NotFoundError
from vigil.store.core import Store
from vigil.store.tracking_tables import LatestMetric, Run, RunMetric

SYSTEM_PREFIX = "system."
MAX_POINTS = 50_000


class LivePage(BaseModel):
    """New points of a run (metrics and system metrics apart), the run's status, and the cursor
    to pass back for the points after these."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    status: RunStatus
    end_ms: int | None
    metrics: list[MetricPoint]
    system_metrics: list[MetricPoint]
    cursor: str
    has_more: bool

    @property
    def running(self) -> bool:
        return self.status == RunStatus.RUNNING

    @property
    def points(self) -> list[MetricPoint]:
        return [*self.metrics, *self.system_metrics]


def encode_cursor(positions: dict[str, int]) -> str:
    raw = json.dumps(positions, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        raise InvalidInputError(
            f"cursor {cursor[:40]!r} is not one a live metrics answer returned", cursor=cursor
        )
    return value


def live_metrics(
    session: Session,
    run_id: str,
    *,
    cursor: str | None = None,
    since_step: int | None = None,
    since_time: int | None = None,
    limit: int = 10_000,
) -> LivePage:
    """Points of `run_id` after `cursor` (a previous answer's), else with a step above
    `since_step` and/or a timestamp (ms) above `since_time`, else all; at most `limit`."""
    if not 1 <= limit <= MAX_POINTS:
        raise InvalidInputError(f"limit must be 1 to {MAX_POINTS}, got {limit}")
    if cursor is not None and (since_step is not None or since_time is not None):
        raise InvalidInputError("give a cursor, or since_step/since_time to start from, not both")
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id!r}", run_id=run_id)
    positions = decode_cursor(cursor) if cursor is not None else {}
    start = since_step if since_step is not None else -(2**62)
    latest = session.execute(
        select(LatestMetric.key, LatestMetric.step, LatestMetric.timestamp_ms).where(
            LatestMetric.run_id == run_id
        )
    ).all()
    moved = sorted(
        (key, positions.get(key, start))
        for key, step, stamp in latest
        if step > positions.get(key, start) and (since_time is None or stamp > since_time)
    )
    found: list[MetricPoint] = []
    more = False
    for key, after in moved:
        query = select(RunMetric.value, RunMetric.step, RunMetric.timestamp_ms).where(
            RunMetric.run_id == run_id, RunMetric.key == key, RunMetric.step > after
        )
        if since_time is not None:
            query = query.where(RunMetric.timestamp_ms > since_time)
        room = limit - len(found)
        rows = session.execute(
            query.order_by(RunMetric.step, RunMetric.timestamp_ms, RunMetric.id).limit(room + 1)
        ).all()
        if len(rows) > room:
            more, next_step, rows = True, rows[room][1], rows[:room]
            if rows[-1][1] == next_step and rows[0][1] != next_step:
                # The cut splits a step's points: leave that step whole to the next poll.
                rows = [r for r in rows if r[1] != next_step]
        points = [
            MetricPoint(key=key, value=none_to_nan(v), step=s, timestamp_ms=t) for v, s, t in rows
        ]
        if points:
            positions[key] = points[-1].step
        found.extend(points)
        if more:
            break
    return LivePage(
        run_id=run_id,
        status=RunStatus(run.status),
        end_ms=run.end_ms,
        metrics=[p for p in found if not p.key.startswith(SYSTEM_PREFIX)],
        system_metrics=[p for p in found if p.key.startswith(SYSTEM_PREFIX)],
        cursor=encode_cursor(positions),
        has_more=more,
    )


Fetch = Callable[[str | None], LivePage]
"""One poll: the page after a cursor (None: the first)."""


def follow(
    fetch: Fetch,
    *,
    interval: float = 1.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LivePage]:
    """Poll `fetch` until the run has ended and every point was read (or `timeout` seconds
    passed), yielding each page that has points, then the last page."""
    if interval <= 0:
        raise InvalidInputError(f"interval must be positive seconds, got {interval}")
    deadline = None if timeout is None else time.monotonic() + timeout
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        cursor = page.cursor
        if page.has_more:
            yield page
            continue
        if not page.running:
            yield page
            return
        if page.points:
            yield page
        if deadline is not None and time.monotonic() >= deadline:
            return
        sleep(interval)


def store_fetch(store: Store, run_id: str, *, limit: int = 10_000) -> Fetch:
    """Polls of a run in a store (local mode, or a store shared with the machine training)."""

    def fetch(cursor: str | None) -> LivePage:
        with store.session() as session:
            try:
                return live_metrics(session, run_id, cursor=cursor, limit=limit)
            finally:
                session.rollback()

    return fetch


def http_fetch(api: VigilApi, run_id: str, *, limit: int = 10_000) -> Fetch:
    """Polls of a run through a Vigil server (its live metrics route)."""

    def fetch(cursor: str | None) -> LivePage:
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return LivePage.model_validate(api.runs.live_metrics(run_id, params))

    return fetch


def watch_run(
    run_id: str,
    *,
    store: Store | None = None,
    url: str | None = None,
    token: str | None = None,
    interval: float = 1.0,
    timeout: float | None = None,
) -> Iterator[LivePage]:
    """Follow a run until it ends: on a Vigil server (`url`, `token`) or a store.

    >>> for page in vigil.watch_run(run_id, url="http://vigil:8000", token=TOKEN):  # doctest: +SKIP
    ...     for point in page.metrics:
    ...         print(point.step, point.key, point.value)
    """
    if (store is None) == (url is None):
        raise InvalidInputError("give store= (a store) or url= (a Vigil server), exactly one")
    if url is not None:
        with VigilApi(url, token) as api:
            yield from follow(http_fetch(api, run_id), interval=interval, timeout=timeout)
        return
    assert store is not None
    yield from follow(store_fetch(store, run_id), interval=interval, timeout=timeout)
