"""A round of the scheduler leases the monitors it evaluates model by model: on PostgreSQL,
server processes ticking at once share a round's models, evaluate each due window once, and a
lease ends with its model's evaluation or with its process."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours
from tests.store.conftest import store, store_url
from tests.store.pg import postgres_url
from tests.waits import patience, wait_until
from vigil import monitor as monitors
from vigil.monitor import Monitor, MonitorSettings
from vigil.monitor.caches import EvaluationCache
from vigil.monitor.evaluate import evaluate_due
from vigil.monitor.results import WindowResult
from vigil.monitor.scheduler import TickResult, leases, tick
from vigil.store.collab_tables import EventRow
from vigil.store.core import Store
from vigil.store.leases import MODEL_LOCK_BASE, TICK_LOCK_BASE
from vigil.store.models import MonitoredModel
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow

__all__ = ["postgres_url", "store", "store_url"]

MODELS = tuple(f"m{i}" for i in range(6))
NOW = T0 + 5 * HOUR
"""Hours 0-2 have data, 3 and 4 are empty (each model's no_data monitor breaches twice)."""

on_postgresql = pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)


def _settings() -> MonitorSettings:
    return MonitorSettings(webhook_allow_loopback=True, delivery_backoff_seconds=0)


def _two_monitors(store: Store, tmp_path: Path) -> None:
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(3))
    client.close()
    for name in ("a", "b"):
        monitor = {"name": name, "kind": "no_data", "target": {"model": "m"}}
        monitors.save_monitor(store, Monitor.model_validate(monitor))


def _fleet_of_models(store: Store, tmp_path: Path) -> None:
    """MODELS, each logged in hours 0-2, with a volume and a no_data monitor."""
    client = client_for(store, tmp_path)
    for model in MODELS:
        client.create_model(model, features=["x"], scores=["score"])
        for hour in range(3):
            data = {"x": [float(hour), 1.0, 2.0], "score": [0.1, 0.5, 0.9]}
            client.log(model, data, timestamp=T0 + hour * HOUR + dt.timedelta(minutes=30))
    client.close()
    for model in MODELS:
        for monitor in (
            {
                "name": f"volume-{model}",
                "kind": "volume",
                "target": {"model": model},
                "threshold": {"type": "static", "upper": 1e9},  # measured, never alerting
            },
            {"name": f"silence-{model}", "kind": "no_data", "target": {"model": model}},
        ):
            monitors.save_monitor(store, Monitor.model_validate(monitor))


def _model_of(monitor: str) -> str:
    return monitor.split("-", 1)[1]


def _evaluated_once(store: Store, rounds: Iterable[TickResult]) -> dict[str, set[dt.datetime]]:
    """Assert that the rounds together evaluated each monitor's due windows once (no duplicate
    result, alert or event, and every monitor the same windows); each monitor's windows."""
    results = [r for tick_result in rounds for r in tick_result.results]
    keys = Counter((r.monitor, r.window_start) for r in results)
    assert [k for k, n in keys.items() if n > 1] == []
    windows: dict[str, set[dt.datetime]] = {}
    for monitor, start in keys:
        windows.setdefault(monitor, set()).add(start)
    names = {f"{kind}-{m}" for kind in ("volume", "silence") for m in MODELS}
    assert set(windows) == names
    expected = windows["volume-m0"]
    assert {T0 + h * HOUR for h in range(5)} <= expected  # hours 0-4 closed by NOW
    assert all(w == expected for w in windows.values()), windows
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(MonitorResultRow)) == len(results)
        alerts = session.execute(select(AlertRow.monitor_name, AlertRow.n_windows)).all()
        opened = session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.type == "alert.opened")
        )
    assert sorted(alerts) == [(f"silence-{m}", 2) for m in MODELS]  # hours 3 and 4, once each
    assert opened == len(MODELS)
    return windows


def _leases_held(store: Store) -> int:
    held = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid IN (:a, :b)"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    bases = {"a": TICK_LOCK_BASE >> 32, "b": MODEL_LOCK_BASE >> 32}
    with store.engine.connect() as connection:
        return int(connection.execute(text(held), bases).scalar_one())


def test_a_round_skips_the_monitors_another_process_holds(store: Store, tmp_path: Path) -> None:
    _two_monitors(store, tmp_path)
    settings = _settings()
    now = T0 + 5 * HOUR
    if store.engine.dialect.name != "postgresql":
        with leases(store) as chunks:
            assert list(chunks) == [None]  # one process: every monitor at once
        assert {r.monitor for r in tick(store, settings, now=now).results} == {"a", "b"}
        return
    with store.session() as session:
        a_id = session.scalar(select(MonitorRow.id).where(MonitorRow.name == "a"))
    assert a_id is not None
    other = store.engine.connect()  # another server process's round, holding monitor a
    try:
        assert other.execute(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": TICK_LOCK_BASE + a_id}
        ).scalar()
        other.commit()
        with leases(store) as chunks:
            assert next(chunks) == ["b"]  # model m's monitors, but a
            with leases(store) as again:  # a round at the same time: model m is held
                assert list(again) == []
            assert list(chunks) == []  # the only model was m
        assert {r.monitor for r in tick(store, settings, now=now).results} == {"b"}
    finally:
        other.invalidate()  # the other process ends (or dies): its lease with it
        other.close()
    assert {r.monitor for r in tick(store, settings, now=now).results} == {"a"}
    with leases(store) as chunks:
        assert list(chunks) == [["a", "b"]]  # the rounds above released theirs
    assert _leases_held(store) == 0  # and so did this one: none left in the pool


@on_postgresql
def test_a_round_takes_one_model_at_a_time_in_name_order(store: Store, tmp_path: Path) -> None:
    _fleet_of_models(store, tmp_path)
    with store.session() as session:
        ids = dict(session.execute(select(MonitoredModel.name, MonitoredModel.id)).all())
    held: list[int] = []
    with leases(store) as chunks:
        for names in chunks:
            held.append(_leases_held(store))
            assert names is not None
            assert {_model_of(n) for n in names} == {_model_of(names[0])}
    with leases(store) as chunks:
        order = [_model_of(names[0]) for names in chunks if names]
    assert order == list(MODELS)
    assert held == [3] * len(MODELS)  # the model and its two monitors, never more
    # A model another process holds is skipped; the round goes on to the next one.
    other = store.engine.connect()
    try:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MODEL_LOCK_BASE + ids["m0"]})
        other.commit()
        with leases(store) as chunks:
            assert [_model_of(n[0]) for n in chunks if n] == list(MODELS[1:])
    finally:
        other.invalidate()
        other.close()
    assert _leases_held(store) == 0


def _opened(store: Store, tmp_path: Path) -> Store:
    """Another server process's store: its own engine, so its own connections and leases."""
    url = store.engine.url.render_as_string(hide_password=False)
    return Store.open(url, str(tmp_path / "artifacts"), migrate=False)


@on_postgresql
def test_a_round_leaves_the_models_another_process_evaluated_meanwhile(
    store: Store, tmp_path: Path
) -> None:
    """Process A's first model is in progress while process B runs a whole round: B skips A's
    model and evaluates the others; A then skips those (B evaluated them since A's round
    began). The work is shared and each window evaluated once."""
    _fleet_of_models(store, tmp_path)
    other = _opened(store, tmp_path)
    chunks: dict[str, list[list[str]]] = {"a": [], "b": []}
    b_round: list[TickResult] = []

    def evaluate_b(
        store: Store,
        *,
        now: dt.datetime | None = None,
        monitors: Iterable[str] | None = None,
        cache: EvaluationCache | None = None,
    ) -> list[WindowResult]:
        chunks["b"].append(sorted(monitors or []))
        return evaluate_due(store, now=now, monitors=monitors, cache=cache)

    def evaluate_a(
        store: Store,
        *,
        now: dt.datetime | None = None,
        monitors: Iterable[str] | None = None,
        cache: EvaluationCache | None = None,
    ) -> list[WindowResult]:
        chunks["a"].append(sorted(monitors or []))
        if not b_round:
            b_round.append(tick(other, _settings(), now=now, evaluate=evaluate_b))
        return evaluate_due(store, now=now, monitors=monitors, cache=cache)

    try:
        a_round = tick(store, _settings(), now=NOW, evaluate=evaluate_a)
    finally:
        other.close()
    assert chunks["a"] == [["silence-m0", "volume-m0"]]
    assert chunks["b"] == [[f"silence-{m}", f"volume-{m}"] for m in MODELS[1:]]
    assert {_model_of(r.monitor) for r in a_round.results} == {"m0"}
    _evaluated_once(store, [a_round, *b_round])
    assert _leases_held(store) == 0


@on_postgresql
@pytest.mark.parametrize("processes", [2, 3])
def test_schedulers_ticking_at_once_share_the_round_and_evaluate_each_window_once(
    store: Store, tmp_path: Path, processes: int
) -> None:
    """Each scheduler's first model waits, leased, until every scheduler holds one: the rounds
    overlap for sure, so each takes a share (a round that leased every monitor at once would
    leave the others nothing, and the barrier would break)."""
    _fleet_of_models(store, tmp_path)
    stores = [store, *(_opened(store, tmp_path) for _ in range(processes - 1))]
    everyone_leased = threading.Barrier(processes, timeout=patience(30))
    rounds: dict[int, TickResult] = {}
    failures: list[BaseException] = []

    def scheduler(index: int) -> None:
        first = True

        def evaluate(
            store: Store,
            *,
            now: dt.datetime | None = None,
            monitors: Iterable[str] | None = None,
            cache: EvaluationCache | None = None,
        ) -> list[WindowResult]:
            nonlocal first
            if first:
                first = False
                # Broken: the share assertion below says what went wrong.
                with contextlib.suppress(threading.BrokenBarrierError):
                    everyone_leased.wait()
            return evaluate_due(store, now=now, monitors=monitors, cache=cache)

        try:
            rounds[index] = tick(
                stores[index], _settings(), now=NOW, cache=EvaluationCache(), evaluate=evaluate
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=scheduler, args=(i,)) for i in range(processes)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for opened in stores[1:]:
            opened.close()
    assert failures == []
    shares = {i: {_model_of(r.monitor) for r in rounds[i].results} for i in range(processes)}
    assert all(shares.values()), shares  # every scheduler evaluated some models
    for i in range(processes):  # and each model whole, in one process
        for j in range(i + 1, processes):
            assert not shares[i] & shares[j], shares
    _evaluated_once(store, rounds.values())
    assert _leases_held(store) == 0


@contextlib.contextmanager
def _held_by_a_process(store: Store, keys: list[int]) -> Iterator[subprocess.Popen[str]]:
    """A process holding the advisory locks `keys` on its own connection until it is killed."""
    url = make_url(store.engine.url.render_as_string(hide_password=False))
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    code = (
        "import sys, time, psycopg\n"
        "c = psycopg.connect(sys.argv[1], autocommit=True)\n"
        "for key in sys.argv[2:]:\n"
        "    c.execute('SELECT pg_advisory_lock(%s)', (int(key),))\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, dsn, *map(str, keys)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@on_postgresql
def test_the_lease_of_a_killed_process_is_taken_over(store: Store, tmp_path: Path) -> None:
    _fleet_of_models(store, tmp_path)
    with store.session() as session:
        m0 = session.scalar(select(MonitoredModel.id).where(MonitoredModel.name == "m0"))
        names = ("volume-m0", "silence-m0")
        ids = session.scalars(select(MonitorRow.id).where(MonitorRow.name.in_(names))).all()
    assert m0 is not None
    assert len(ids) == len(names)
    # Another server process, in the middle of model m0 (its lease and its monitors'), killed.
    keys = [MODEL_LOCK_BASE + m0, *(TICK_LOCK_BASE + i for i in ids)]
    with _held_by_a_process(store, keys) as process:
        before = tick(store, _settings(), now=NOW)
        assert {_model_of(r.monitor) for r in before.results} == set(MODELS[1:])
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert wait_until(lambda: _leases_held(store) == 0, 30)  # PostgreSQL ends its connection
    after = tick(store, _settings(), now=NOW)
    assert {_model_of(r.monitor) for r in after.results} == {"m0"}  # taken over, once
    _evaluated_once(store, [before, after])
