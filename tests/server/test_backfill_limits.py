"""A monitor backfill over a huge range is refused by the API, and a backfill records its windows a
few at a time, each chunk in its own transaction, so that other writers never wait for the whole
range (issue 14)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from tests.monitor.conftest import HOUR, T0, client_for, create_model, log_hours, sqlite_store
from tests.server.conftest import auth, make_tokens
from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.monitor import Monitor
from vigil.monitor.evaluate import WINDOWS_PER_TRANSACTION
from vigil.server import Settings, create_app
from vigil.store.core import Store
from vigil.store.monitor_tables import MonitorResultRow

__all__ = ["sqlite_store"]

MISSING = {
    "name": "gaps",
    "kind": "missing_values",
    "target": {"model": "m"},
    "threshold": {"type": "static", "upper": 0.5},
}


def _monitored(store: Store, tmp_path: Path, hours: int) -> None:
    client = client_for(store, tmp_path)
    create_model(client)
    log_hours(client, range(hours), rows=5)
    client.close()
    monitors.save_monitor(store, Monitor.model_validate(MISSING))
    monitors.save_monitor(
        store,
        Monitor.model_validate({"name": "silence", "kind": "no_data", "target": {"model": "m"}}),
    )


def _results(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(MonitorResultRow)) or 0)


@pytest.fixture
def backfill_api(sqlite_store: Store) -> Iterator[TestClient]:
    settings = Settings(
        store_url=str(sqlite_store.engine.url),
        artifacts_url=sqlite_store.artifacts.url,
        backfill_max_windows=10,
    )
    with TestClient(create_app(settings, store=sqlite_store)) as client:
        yield client


def test_a_backfill_over_more_windows_than_the_limit_is_refused_before_any_work(
    backfill_api: TestClient, sqlite_store: Store, tmp_path: Path
) -> None:
    _monitored(sqlite_store, tmp_path, 2)
    token = auth(make_tokens(sqlite_store)[Scope.WRITE])
    # Ten years of hourly windows, two monitors: 175,000+ evaluations.
    body = {"start": "2016-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    response = backfill_api.post("/api/v1/monitors/run", json=body, headers=token)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["details"]["limit"] == 10
    assert error["details"]["windows"] == 2 * 3653 * 24  # 2016-2025: 3653 days
    assert "at most 10" in error["message"]
    assert "vigil monitors run" in error["message"]
    assert _results(sqlite_store) == 0


def test_a_backfill_within_the_limit_runs(
    backfill_api: TestClient, sqlite_store: Store, tmp_path: Path
) -> None:
    _monitored(sqlite_store, tmp_path, 5)
    token = auth(make_tokens(sqlite_store)[Scope.WRITE])
    # Five hourly windows of two monitors: exactly the limit of 10.
    body = {"start": T0.isoformat(), "end": (T0 + 5 * HOUR).isoformat()}
    response = backfill_api.post("/api/v1/monitors/run", json=body, headers=token)
    assert response.status_code == 200, response.text
    assert response.json()["evaluated"] == 10
    one_more = {**body, "end": (T0 + 6 * HOUR).isoformat()}
    assert (
        backfill_api.post("/api/v1/monitors/run", json=one_more, headers=token).status_code == 422
    )


def test_a_backfill_writes_its_windows_in_short_transactions_and_writers_get_through(
    sqlite_store: Store, tmp_path: Path
) -> None:
    hours = 3 * WINDOWS_PER_TRANSACTION
    _monitored(sqlite_store, tmp_path, hours)
    written: dict[int, int] = {}  # per thread: monitor_results rows in its open transaction
    per_transaction: list[int] = []

    def count(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        """Result rows a statement writes: one, or one per parameter set (an executemany, as
        the results' upsert is)."""
        if "monitor_results" in statement and statement.lstrip().upper().startswith(
            ("INSERT", "UPDATE")
        ):
            thread = threading.get_ident()
            written[thread] = written.get(thread, 0) + (len(parameters) if many else 1)

    def commit(conn: Any) -> None:
        n = written.pop(threading.get_ident(), 0)
        if n:
            per_transaction.append(n)

    event.listen(sqlite_store.engine, "before_cursor_execute", count)
    event.listen(sqlite_store.engine, "commit", commit)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            monitors.backfill(sqlite_store, T0, T0 + hours * HOUR, now=T0 + hours * HOUR)
        except BaseException as exc:
            failures.append(exc)

    backfill = threading.Thread(target=run)
    writer = client_for(sqlite_store, tmp_path)
    try:
        backfill.start()
        # A writer logging while the backfill runs: every call completes (none waits for the
        # whole range; on SQLite a writer blocked past the busy timeout would fail).
        logged = 0
        while backfill.is_alive() or logged < 3:
            writer.log(
                "m",
                {"x": [1.0], "y": [0.0], "city": ["a"], "score": [0.5]},
                timestamp=T0 + 30 * HOUR,
            )
            logged += 1
        backfill.join()
    finally:
        writer.close()
        event.remove(sqlite_store.engine, "before_cursor_execute", count)
        event.remove(sqlite_store.engine, "commit", commit)
    assert failures == []
    assert _results(sqlite_store) == 2 * hours
    # Three chunks per monitor, each in its own transaction (the whole range in one before).
    assert per_transaction == [WINDOWS_PER_TRANSACTION] * 6


def test_a_backfill_shows_its_windows_when_asked_and_is_silent_by_default(
    sqlite_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from vigil.monitor.evaluate import backfill

    _monitored(sqlite_store, tmp_path, 3)
    capsys.readouterr()
    monkeypatch.setenv("VIGIL_PROGRESS", "1")
    backfill(sqlite_store, T0, T0 + 3 * HOUR, now=T0 + 4 * HOUR)  # the server's call: no bar
    assert capsys.readouterr().err == ""
    results = backfill(sqlite_store, T0, T0 + 3 * HOUR, now=T0 + 4 * HOUR, progress=None)
    assert len(results) == 6
    err = capsys.readouterr().err
    assert "backfilling" in err
    assert "/6 " in err  # two monitors x three hourly windows
