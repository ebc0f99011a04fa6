"""The server's retention worker: applies every model's retention policy now and then, in a
daemon thread the app's lifespan starts and stops. Several servers on one store may run it at
once: each rolled window is one locked transaction, deleting a deleted file or row is a no-op."""

from __future__ import annotations

import logging
import threading

from vigil.ingestion.retention import apply
from vigil.store.core import Store

logger = logging.getLogger(__name__)


class RetentionWorker:
    """Runs `vigil.ingestion.retention.apply` every `interval_seconds` until `stop`; the first
    round one interval after start-up (not during the server's start)."""

    def __init__(self, store: Store, interval_seconds: float) -> None:
        self.store = store
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0
        """Rounds completed (failed ones included, logged)."""

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vigil-retention", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                for outcome in apply(self.store):
                    if outcome.changed:
                        logger.info("retention applied to %s", outcome.summary())
            except Exception:  # keep running: the next round may succeed (e.g. store back up)
                logger.exception("retention round failed")
            self.rounds += 1

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in progress (waiting at most `timeout` seconds for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
