"""The scheduler: evaluate due monitor windows and send pending notifications, on an interval.

`tick` is one round (what tests and `vigil monitors run` call); `Scheduler` runs ticks in a
background thread inside the server, so a window that closes with no data still raises an alert.
The server app's lifespan starts and stops it (`vigil.server.app`), with the monitor section of
the app's settings.

Several server processes on one PostgreSQL database each run a scheduler, and share a round's
work model by model. A round goes through the models in name order; for each it tries a lease on
the model (a session-level advisory lock, `MODEL_LOCK_BASE` + the model's id), then on each of
its monitors (`TICK_LOCK_BASE` + the monitor's id), evaluates the monitors it got, releases them
and goes on to the next model. A model another process holds is skipped, and so is one another
process evaluated since this round began (a monitor's `evaluated_until` moved): processes that
tick at the same time thus take turns through the list, each starting at the first model no one
holds, and a model's monitors stay in one process, which reads the model's windows once for all
of them. Each due window is evaluated by one process; a lease ends with its model's evaluation, or
with its process (PostgreSQL drops the locks of a connection that died), and the next round of
any process evaluates what a dead one left. No process leads. On SQLite (one process) a round
evaluates every monitor in one pass.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, cast

from sqlalchemy import BigInteger, Connection, func, literal, select, text

from vigil.events.delivery import DeliveryStats, deliver_pending
from vigil.events.settings import MonitorSettings
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.evaluate import evaluate_due
from vigil.monitor.results import WindowResult
from vigil.store.core import Store
from vigil.store.leases import MODEL_LOCK_BASE, TICK_LOCK_BASE
from vigil.store.models import MonitoredModel
from vigil.store.monitor_tables import MonitorRow

logger = logging.getLogger("vigil.monitor")


@dataclass(frozen=True)
class TickResult:
    results: tuple[WindowResult, ...]
    deliveries: DeliveryStats


class Evaluate(Protocol):
    """What evaluates a leased chunk of monitors (`evaluate_due`; tests wrap it)."""

    def __call__(
        self,
        store: Store,
        *,
        now: dt.datetime | None = None,
        monitors: Iterable[str] | None = None,
        cache: EvaluationCache | None = None,
    ) -> list[WindowResult]: ...


def tick(
    store: Store,
    settings: MonitorSettings,
    *,
    now: dt.datetime | None = None,
    cache: EvaluationCache | None = None,
    evaluate: Evaluate = evaluate_due,
) -> TickResult:
    """Evaluate what is due (on PostgreSQL, model by model, of the models no other process is
    evaluating), then deliver what is pending. `cache` is what the calling process keeps between
    ticks; without one, the round's models share one. The results come in monitor name order."""
    cache = cache if cache is not None else EvaluationCache()
    results: list[WindowResult] = []
    with leases(store) as chunks:
        for names in chunks:
            results.extend(evaluate(store, now=now, monitors=names, cache=cache))
    results.sort(key=lambda result: result.monitor)  # stable: a monitor's windows stay in order
    return TickResult(tuple(results), deliver_pending(store, settings))


@dataclass(frozen=True)
class _Model:
    """A model's monitors as a round found them when it began."""

    key: int | None
    """Its lease's key; None for monitors whose model does not exist (evaluated alone)."""
    monitors: dict[int, tuple[str, dt.datetime | None]]
    """Monitor id: (name, evaluated_until)."""


@contextmanager
def leases(store: Store) -> Iterator[Iterator[list[str] | None]]:
    """The chunks of monitors this round may evaluate, one after the other: on PostgreSQL the
    names of one model's monitors, leased until the next chunk is asked for or the block ends;
    elsewhere (SQLite: one process) a single None, every monitor."""
    if store.engine.dialect.name != "postgresql":
        yield iter([None])
        return
    connection = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield _leased(connection, _plan(connection))
    finally:
        try:
            _release(connection)
        except Exception:  # never pool a connection that may still hold leases
            connection.invalidate()
            raise
        finally:
            connection.close()


def _plan(connection: Connection) -> list[_Model]:
    """Every monitor, grouped by its model, in model name order (monitors of a missing model
    last, one by one)."""
    target = MonitorRow.definition[("target", "model")].as_string()
    rows = connection.execute(
        select(MonitorRow.id, MonitorRow.name, MonitorRow.evaluated_until, MonitoredModel.id)
        .outerjoin(MonitoredModel, MonitoredModel.name == target)
        .order_by(MonitoredModel.name, MonitorRow.name)
    ).all()
    models: dict[int, _Model] = {}
    orphans = []
    for monitor_id, name, until, found in rows:
        model_id = cast("int | None", found)  # None: an outer join's missing model
        if model_id is None:
            orphans.append(_Model(None, {monitor_id: (name, until)}))
            continue
        model = models.setdefault(model_id, _Model(MODEL_LOCK_BASE + model_id, {}))
        model.monitors[monitor_id] = (name, until)
    return [*models.values(), *orphans]


def _leased(connection: Connection, plan: list[_Model]) -> Iterator[list[str]]:
    for model in plan:
        if model.key is not None and not connection.scalar(
            select(func.pg_try_advisory_lock(literal(model.key, BigInteger)))
        ):
            continue  # another process is evaluating it
        # The lock is in the select list: tried once per monitor of this model, none other.
        lease = func.pg_try_advisory_lock(literal(TICK_LOCK_BASE, BigInteger) + MonitorRow.id)
        rows = connection.execute(
            select(MonitorRow.id, MonitorRow.name, MonitorRow.evaluated_until, lease).where(
                MonitorRow.id.in_(list(model.monitors))
            )
        ).all()
        taken = {monitor_id: until for monitor_id, _, until, leased in rows if leased}
        if any(model.monitors[i][1] != until for i, until in taken.items()):
            # Another process evaluated it since this round began: its next windows are not due
            # before the next round.
            _release(connection)
            continue
        if taken:
            yield sorted(model.monitors[i][0] for i in taken)
        _release(connection)


def _release(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_unlock_all()"))


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
