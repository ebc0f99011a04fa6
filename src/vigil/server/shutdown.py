"""Running the server so that SIGTERM (or Ctrl-C) stops the process within a fixed bound.

uvicorn stops accepting connections, gives open requests `shutdown_timeout_seconds`, then runs
the lifespan's shutdown (the scheduler, dispatcher and warmer threads stop there). Each of those
steps is bounded on its own, but a background thread in the middle of a long evaluation could
still hold the exit up; the watchdog started at the first signal ends the process at
`EXIT_WITHIN_SECONDS` whatever is still running. Nothing acknowledged is lost by that: every
answered write was committed before its answer, and an unanswered one is retried by its client.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOG_LEVELS

logger = logging.getLogger("vigil.server")

EXIT_WITHIN_SECONDS = 9.5  # the promise is 10 s; leave the process time to actually go
FORCED_EXIT_STATUS = 128 + signal.SIGTERM  # what a shell shows for a process ended by SIGTERM


class BoundedServer(uvicorn.Server):
    """uvicorn's server with a watchdog: the process is gone `exit_within` seconds after the
    first SIGTERM or SIGINT, even if a shutdown step hangs."""

    def __init__(self, config: uvicorn.Config, exit_within: float = EXIT_WITHIN_SECONDS) -> None:
        super().__init__(config)
        self.exit_within = exit_within
        self._watchdog: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Timer(self.exit_within, self._force_exit, args=(sig,))
            self._watchdog.daemon = True
            self._watchdog.start()
        super().handle_exit(sig, frame)

    def _force_exit(self, sig: int) -> None:
        busy = sorted(t.name for t in threading.enumerate() if t is not threading.current_thread())
        logger.warning(
            "the server did not stop within %g s of signal %d; exiting now (threads still "
            "running: %s)",
            self.exit_within,
            sig,
            ", ".join(busy) or "none",
        )
        logging.shutdown()
        os._exit(FORCED_EXIT_STATUS)


def run(app: FastAPI, *, host: str, port: int, log_level: str, graceful_seconds: int) -> None:
    """Serve `app` until SIGTERM or Ctrl-C; exits the process as uvicorn does (re-raising the
    signal once stopped, so the exit status says 'terminated'), at most ~10 s after it."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # Access lines are logged at INFO: above it none would be written, but uvicorn would
        # still format each request's client address and path for them.
        access_log=LOG_LEVELS.get(log_level, logging.INFO) <= logging.INFO,
        timeout_graceful_shutdown=graceful_seconds,
    )
    server = BoundedServer(config)
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn's STARTUP_FAILURE (e.g. the port is taken)
