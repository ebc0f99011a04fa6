"""What the model and feature pages show of drift, and the warmer behind them.

Drift is what the model's drift monitors measured and stored (`vigil.monitor.reading`): the
dashboard runs no drift test of its own. The per-window column statistics of the feature page
(mean, quantiles, missing share) are kept in small rows by `vigil.monitor.window_stats`, read
through the monitors' window reader; the warmer keeps every model's daily statistics (and the
last week's hourly ones) computed, so a page rarely waits for them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from functools import partial

from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.monitor.period_drift import period_drift
from vigil.monitor.reading import DriftCells, drift_cells
from vigil.monitor.window_stats import GRANULARITY_SECONDS, WindowStatistics
from vigil.store.core import Store
from vigil.windows import EPOCH, Grid

logger = logging.getLogger("vigil.server.dashboard")

WARM_PERIODS = ("week", "month", "quarter", "year")
"""The heatmap's coarse units whose drift cells the warmer keeps measured (in each model's zone;
other units are measured by the page within its budget)."""


class DriftCache:
    """The dashboard's reader of drift cells and keeper of window statistics (one per app)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.statistics = WindowStatistics(store)

    def drift(
        self, model: str, granularity: str, start: dt.datetime | None, end: dt.datetime | None
    ) -> DriftCells:
        """The model's drift monitors' results with windows of one `granularity`."""
        with self.store.read_session() as session:
            return ingestion.read_only(
                session,
                lambda s: drift_cells(s, model, GRANULARITY_SECONDS[granularity], start, end),
            )


class Warmer:
    """A background thread that keeps every model's daily statistics cells (and the last week's
    hourly ones) computed, and its drift cells per week, month, quarter and year measured."""

    def __init__(self, cache: DriftCache, interval: float) -> None:
        self.cache = cache
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="vigil-dashboard-warmer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def warm_once(self) -> None:
        with self.cache.store.read_session() as session:
            models = ingestion.read_only(session, ingestion.list_models)
        for model in models:
            if self._stop.is_set():
                return
            statistics = self.cache.statistics
            statistics.refresh(model.name, "day", wait=True)
            with self.cache.store.read_session() as session:
                last = ingestion.read_only(session, partial(queries.latest_start, model=model.name))
            if last is None:
                continue
            week = min(dt.datetime.now(dt.UTC), last) - dt.timedelta(days=7)
            statistics.refresh(model.name, "hour", start=week, wait=True)
            for unit in WARM_PERIODS:  # the heatmap's coarse cells no monitor measures
                if self._stop.is_set():
                    return
                grid = Grid.parse(unit, default_tz=model.grid.tz)
                if grid.nests(model.grid):
                    period_drift(self.cache.store, model.name, grid, EPOCH, model.grid.next(last))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.warm_once()
            except Exception:  # keep warming other rounds; a page computes what it needs itself
                logger.exception("dashboard cache warm-up failed")
            self._stop.wait(self.interval)
