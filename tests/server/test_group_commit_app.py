"""The app on a SQLite store writes log calls through group commit
(`vigil.ingestion.group_commit`): concurrent log requests, resends among them, are each answered
once they are stored, each batch stored once, and every request went through the group."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient

from tests.server.conftest import auth, make_tokens
from tests.store.helpers import SPEC, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE
from vigil.ingestion import service
from vigil.ingestion.group_commit import GroupCommit
from vigil.server import Settings, create_app
from vigil.store.core import Store


def test_concurrent_log_requests_go_through_the_group(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    with store.session() as session:
        service.create_model(session, SPEC)
    settings = Settings(
        store_url=str(store.engine.url),
        artifacts_url=store.artifacts.url,
        monitor_scheduler=False,
        events_dispatcher=False,
    )
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
