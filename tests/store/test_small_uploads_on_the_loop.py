"""The log route checks a small profile-only upload on its event loop (`INLINE_BYTES`,
`INLINE_PROFILES`) once it knows the model, and hands it to the store's writer thread, on both
backends. It is answered as before (new, duplicate, a refusal naming the column), and what is
stored is the same; larger batches and batches with rows are checked in a worker thread."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

import vigil
from tests.server.conftest import auth, make_tokens
from tests.store.helpers import SPEC, T0, log_batch
from vigil.api.specs import Scope
from vigil.api.wire import CONTENT_TYPE, LogBatch
from vigil.ingestion import service
from vigil.server import Settings, create_app
from vigil.server.routers import ingest
from vigil.store.core import Store


def _profile_body(seed: int, ages: list[object], n_profiles: int = 1) -> bytes:
    profiles = [
        vigil.profile(
            {"age": ages}, window=(T0 + dt.timedelta(hours=h), T0 + dt.timedelta(hours=h + 1))
        ).to_bytes()
        for h in range(n_profiles)
    ]
    return LogBatch(version="v1", profiles=profiles, batch_id=f"profile-{seed}").encode()


def test_small_uploads_are_checked_on_the_loop(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with store.session() as session:
        service.create_model(session, SPEC)
    settings = Settings(
        store_url=store.engine.url.render_as_string(hide_password=False),
        artifacts_url=store.artifacts.url,
        monitor_scheduler=False,
        events_dispatcher=False,
    )
    headers = {**auth(make_tokens(store)[Scope.WRITE]), "Content-Type": CONTENT_TYPE}
    with TestClient(create_app(settings, store=store)) as api:

        def post(body: bytes) -> tuple[int, dict[str, object]]:
            response = api.post("/api/v1/models/churn/log", content=body, headers=headers)
            return response.status_code, response.json()

        assert post(_profile_body(0, [20.0, 31.0]))[0] == 200  # the model is now known
        checked_in_a_worker: list[str] = []
        check_log = service.check_log

        def spy(*args: object, **kwargs: object) -> object:
            checked_in_a_worker.append(str(args[1]))
            return check_log(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(service, "check_log", spy)
        status, answer = post(_profile_body(1, [22.0, 35.0, 40.0]))
        assert (status, answer["duplicate"], answer["n_rows"]) == (200, False, 3)
        status, answer = post(_profile_body(1, [22.0, 35.0, 40.0]))
        assert (status, answer["duplicate"]) == (200, True)
        status, answer = post(_profile_body(2, ["old", "young"]))
        assert status == 409
        assert "age" in str(answer["message"])
        assert checked_in_a_worker == []
        group = api.app.state.ingest_group  # type: ignore[attr-defined]
        assert group.stats.handed_over == 3
        # Not small: more profiles than INLINE_PROFILES, or rows, are checked in a worker.
        many = _profile_body(3, [1.0], n_profiles=ingest.INLINE_PROFILES + 1)
        assert post(many)[0] == 200
        assert post(log_batch(2, 4).encode())[0] == 200
        assert checked_in_a_worker == ["churn", "churn"]
    with store.session() as session:
        windows = service.list_windows(session, "churn")
    by_start = {w.start.replace(tzinfo=dt.UTC): (w.n_uploads, w.n_rows) for w in windows}
    assert by_start[T0] == (4, 2 + 3 + 1 + 2)
    assert len(by_start) == ingest.INLINE_PROFILES + 1
