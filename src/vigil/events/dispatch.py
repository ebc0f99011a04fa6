"""The delivery worker's thread in the server: `Dispatcher` runs `vigil.events.delivery.deliver`
(every subscriber of the outbox: webhook subscriptions and alert channels, one retry policy) on an
interval until it is stopped; the server's lifespan starts and stops it, with the `events`
section of the one `vigil.config.Settings` (`EventSettings`, re-exported here).
"""

from __future__ import annotations

import logging
import threading

from vigil.config import EventSettings
from vigil.events.delivery import DeliveryStats, deliver
from vigil.events.settings import MonitorSettings
from vigil.events.subscribers import DELIVERY_HEADER, EVENT_HEADER, TIMEOUT_SECONDS, body_of
from vigil.store.core import Store

logger = logging.getLogger("vigil.events")

DispatchStats = DeliveryStats
deliver_events = deliver
"""The name event deliveries were sent by (`vigil events deliver`): the one worker."""


class Dispatcher:
    """Runs `deliver` every `interval` seconds in a daemon thread until `stop`."""

    def __init__(self, store: Store, settings: MonitorSettings, interval: float) -> None:
        self.store = store
        self.settings = settings
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vigil-events", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver(self.store, self.settings)
            except Exception:  # keep running: the store may be back at the next round
                logger.exception("event dispatch failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "TIMEOUT_SECONDS",
    "DispatchStats",
    "Dispatcher",
    "EventSettings",
    "body_of",
    "deliver_events",
]
