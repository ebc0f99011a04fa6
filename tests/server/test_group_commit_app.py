"""The app on a SQLite store writes log calls through group commit
(`vigil.ingestion.group_commit`): concurrent log requests, resends among them, are each answered
once they are stored, each batch stored once, and every request went through the group."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response

import vigil
from tests.server.conftest import auth, make_tokens
from tests.store.helpers import SPEC, T0, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LogBatch
from vigil.ingestion import service
from vigil.ingestion.group_commit import GroupCommit
from vigil.server import Settings, create_app
from vigil.store.core import Store


def _store_and_settings(tmp_path: Path) -> tuple[Store, Settings]:
    """A SQLite store with the churn model, and an app's settings on it (no background work)."""
    store = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    with store.session() as session:
        service.create_model(session, SPEC)
    settings = Settings(
        store_url=str(store.engine.url),
        artifacts_url=store.artifacts.url,
        monitor_scheduler=False,
        events_dispatcher=False,
    )
    return store, settings


def test_concurrent_log_requests_go_through_the_group(tmp_path: Path) -> None:
    store, settings = _store_and_settings(tmp_path)
    tokens = make_tokens(store)
    headers = {**auth(tokens[Scope.WRITE]), "Content-Type": CONTENT_TYPE}
    batches = [log_batch(3 + i, i) for i in range(6)]
    bodies = [b.encode() for b in batches] + [batches[0].encode(), batches[3].encode()]
    answers: list[dict[str, object]] = []
    failures: list[str] = []
    try:
        with TestClient(create_app(settings, store=store)) as api:
            group = api.app.state.ingest_group  # type: ignore[attr-defined]
            assert isinstance(group, GroupCommit)

            def send(chunk: list[bytes]) -> None:
                for body in chunk:
                    response = api.post("/api/v1/models/churn/log", content=body, headers=headers)
                    if response.status_code != 200:
                        failures.append(response.text)
                    else:
                        answers.append(response.json())

            threads = [threading.Thread(target=send, args=(bodies[i::4],)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert failures == []
            assert group.stats.batches == len(bodies)
        new = sorted(str(a["batch_id"]) for a in answers if not a["duplicate"])
        assert new == sorted(b.batch_id for b in batches)
        assert len(answers) == len(bodies)
        with store.session() as session:
            [window] = service.list_windows(session, "churn")
        rows = sum(3 + i for i in range(6))
        assert (window.n_uploads, window.n_rows) == (6, rows)
        assert store.predictions.read(1).num_rows == rows
    finally:
        store.close()


def _profile_body(seed: int, ages: list[object]) -> bytes:
    """A log body of one profile and no rows, as a replica sends its window's profile."""
    profile = vigil.profile({"age": ages}, window=(T0, T0 + dt.timedelta(hours=1)))
    return LogBatch(
        version="v1", profiles=[profile.to_bytes()], batch_id=f"profile-{seed}"
    ).encode()


def test_small_profile_uploads_are_checked_on_the_loop_and_handed_over(tmp_path: Path) -> None:
    """Profile-only uploads for a model the process knows skip the worker threads: they are
    checked on the event loop and written by the store's writer thread, answered as before
    (new, duplicate, a column conflict as a 409 naming it); the writer stops with the app."""
    store, settings = _store_and_settings(tmp_path)
    headers = {**auth(make_tokens(store)[Scope.WRITE]), "Content-Type": CONTENT_TYPE}
    bodies = [_profile_body(i, [20.0 + i, 30.0, 41.5]) for i in range(8)]
    try:
        with TestClient(create_app(settings, store=store)) as api:
            group = api.app.state.ingest_group  # type: ignore[attr-defined]

            def post(body: bytes) -> Response:
                return api.post("/api/v1/models/churn/log", content=body, headers=headers)

            first = post(bodies[0])
            assert first.status_code == 200, first.text
            assert first.json()["duplicate"] is False  # the model is now known
            answers: list[Response] = []
            threads = [
                threading.Thread(target=lambda c=c: answers.extend(post(b) for b in c))
                for c in (bodies[1::2], bodies[2::2])
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert [a.status_code for a in answers] == [200] * 7
            assert not any(a.json()["duplicate"] for a in answers)
            again = post(bodies[3])
            assert (again.status_code, again.json()["duplicate"]) == (200, True)
            conflict = post(_profile_body(99, ["old", "young", "old"]))
            assert conflict.status_code == 409
            assert "age" in conflict.json()["message"]
            assert group.stats.handed_over == 9  # all but the first
            assert group.stats.batches == 10
            writer = group._writer
            assert writer is not None
        assert not writer.is_alive()
        with store.session() as session:
            [window] = service.list_windows(session, "churn")
        assert (window.n_uploads, window.n_rows) == (8, 24)
    finally:
        store.close()
