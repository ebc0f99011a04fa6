"""The scheduler: evaluate due monitor windows and send pending notifications, on an interval.

`tick` is one round (what tests and `vigil monitors run` call); `Scheduler` runs ticks in a
background thread inside the server, so a window that closes with no data still raises an alert.
The server app's lifespan starts and stops it (`vigil.server.app`), with the monitor section of
the app's settings.

Several server processes on one PostgreSQL database each run a scheduler. A round takes a lease
on each monitor it evaluates (a session-level advisory lock, `TICK_LOCK_BASE` + the monitor's id)
and skips the monitors another process holds, so each due window is evaluated by one process;
a lease ends with its round, or with its process (PostgreSQL drops the locks of a connection that
died), and the next round of any process evaluates what a dead one left. No process leads.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import BigInteger, func, literal, select, text

from vigil.events.delivery import DeliveryStats, deliver_pending
from vigil.events.settings import MonitorSettings
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.evaluate import WindowResult, evaluate_due
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorRow

logger = logging.getLogger("vigil.monitor")

TICK_LOCK_BASE = 0x5649_0001_0000_0000
"""pg advisory lock keys of a round's leases: TICK_LOCK_BASE + monitor id (apart from the keys
`vigil.monitor.evaluate` holds while it records a monitor's results)."""


@dataclass(frozen=True)
class TickResult:
    results: tuple[WindowResult, ...]
    deliveries: DeliveryStats


def tick(
    store: Store,
    settings: MonitorSettings,
    *,
    now: dt.datetime | None = None,
    cache: EvaluationCache | None = None,
) -> TickResult:
    """Evaluate what is due (on PostgreSQL, of the monitors no other process is evaluating),
    then deliver what is pending. `cache` is what the calling process keeps between ticks."""
    with leases(store) as monitors:
        results = evaluate_due(store, now=now, monitors=monitors, cache=cache)
    return TickResult(tuple(results), deliver_pending(store, settings))


@contextmanager
def leases(store: Store) -> Iterator[list[str] | None]:
    """The names of the monitors this round may evaluate, leased until the block ends: on
    PostgreSQL those no other process holds; elsewhere (SQLite: one process) None, every one."""
    if store.engine.dialect.name != "postgresql":
        yield None
        return
    with store.engine.connect() as connection:
        # One statement tries every monitor's lease (not a round trip per monitor).
        lease = func.pg_try_advisory_lock(literal(TICK_LOCK_BASE, BigInteger) + MonitorRow.id)
        taken = list(connection.scalars(select(MonitorRow.name).where(lease)).all())
        connection.commit()
        try:
            yield sorted(taken)
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock_all()"))
                connection.commit()
            except Exception:  # never pool a connection that may still hold leases
                connection.invalidate()
                raise


class Scheduler:
    """Runs `tick` every `settings.monitor_interval_seconds` in a daemon thread (blocking work:
    SQL, channels) until `stop`, with one evaluation cache for its lifetime."""

    def __init__(self, store: Store, settings: MonitorSettings) -> None:
        self.store = store
        self.settings = settings
        self.cache = EvaluationCache()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="vigil-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # The first round runs one interval after start-up (not during the server's start).
        while not self._stop.wait(self.settings.monitor_interval_seconds):
            try:
                tick(self.store, self.settings, cache=self.cache)
            except Exception:  # keep running: the next tick may succeed (e.g. store back up)
                logger.exception("monitor scheduler tick failed")
            self.ticks += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in progress (waiting at most `timeout` seconds for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
