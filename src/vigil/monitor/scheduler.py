"""The scheduler: evaluate due monitor windows and send pending notifications, on an interval.

`tick` is one round (what tests and `vigil monitors run` call); `Scheduler` runs ticks in a
background thread inside the server, so a window that closes with no data still raises an alert.
The server app's lifespan starts and stops it (`vigil.server.app`), with the monitor section of
the app's settings.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from vigil.events.delivery import DeliveryStats, deliver_pending
from vigil.events.settings import MonitorSettings
from vigil.monitor.evaluate import WindowResult, evaluate_due
from vigil.store.core import Store

logger = logging.getLogger("vigil.monitor")


@dataclass(frozen=True)
class TickResult:
    results: tuple[WindowResult, ...]
    deliveries: DeliveryStats


def tick(store: Store, settings: MonitorSettings, *, now: dt.datetime | None = None) -> TickResult:
    """Evaluate what is due, then deliver what is pending."""
    results = evaluate_due(store, now=now)
    return TickResult(tuple(results), deliver_pending(store, settings))


class Scheduler:
    """Runs `tick` every `settings.monitor_interval_seconds` in a daemon thread (blocking work:
    SQL, channels) until `stop`."""

    def __init__(self, store: Store, settings: MonitorSettings) -> None:
        self.store = store
        self.settings = settings
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
                tick(self.store, self.settings)
            except Exception:  # keep running: the next tick may succeed (e.g. store back up)
                logger.exception("monitor scheduler tick failed")
            self.ticks += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in progress (waiting at most `timeout` seconds for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
