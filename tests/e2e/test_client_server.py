"""The client against a real server (uvicorn in a subprocess), on SQLite and PostgreSQL.

Tests that leave the server running share one per backend (`shared_live`, each on model names of
its own); tests that stop or kill it start their own (`live`)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from tests.e2e.live import LiveServer
from tests.test_client import T0, traffic
from tests.waits import patience
from vigil.client import Client
from vigil.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)

pytestmark = pytest.mark.slow

MODEL = {
    "features": ["age", "city"],
    "predictions": ["label"],
    "scores": ["proba"],
    "id_column": "request_id",
    "timestamp_column": "ts",
}


def _client(live: LiveServer, token: str, tmp_path: Path, **kwargs: object) -> Client:
    return Client(live.url, token=token, spool_dir=tmp_path / "spool", **kwargs)  # type: ignore[arg-type]


def test_log_read_labels_and_kpis_through_the_server(
    shared_live: LiveServer, shared_token: str, tmp_path: Path
) -> None:
    with _client(shared_live, shared_token, tmp_path) as client:
        before = {m.name for m in client.models()}  # the shared server's other tests' models
        client.create_model("logged", **MODEL)  # type: ignore[arg-type]
        frame = traffic(300, hours=2)
        result = client.log("logged", frame, version="v2")
        assert result is not None
        assert (result.n_rows, result.n_profiles, result.duplicate) == (300, 2, False)
        windows = client.data.windows("logged", version="v2")
        assert sum(w.n_rows for w in windows) == 300
        assert len(windows) == 2
        assert client.data.profile("logged").columns["age"].mean == pytest.approx(
            frame["age"].mean()
        )
        client.log_labels("logged", frame["request_id"][:5].tolist(), [0, 1, 0, 1, 1])
        joined = client.data.predictions("logged", start=T0, end=T0 + dt.timedelta(hours=2))
        assert joined.num_rows == 300
        assert sum(v is not None for v in joined["vigil_label"].to_pylist()) == 5
        client.log_kpi("logged_revenue", 5.0, model="logged", version="v2")
        assert [k.value for k in client.kpis.list(name="logged_revenue")] == [5.0]
        names = [m.name for m in client.models()]
        assert sorted(names) == sorted(before | {"logged"})


def test_server_errors_reach_the_client_as_vigil_errors(
    shared_live: LiveServer, shared_token: str, tmp_path: Path
) -> None:
    with _client(shared_live, shared_token, tmp_path) as admin:
        admin.create_model("refused", **MODEL)  # type: ignore[arg-type]
    with (
        _client(shared_live, "vgl_wrong", tmp_path) as stranger,
        pytest.raises(AuthenticationError),
    ):
        stranger.models()
    from tests.e2e.live import make_token
    from vigil.api.specs import Scope

    reader = make_token(shared_live.store_url, Scope.READ)
    with _client(shared_live, reader, tmp_path) as client:
        with pytest.raises(PermissionDeniedError, match="scope 'write'"):
            client.log("refused", traffic(5, 1))
        assert client.pending == 0  # a refusal is not spooled
        assert client.data.windows("refused") == []
    with _client(shared_live, shared_token, tmp_path) as admin:
        with pytest.raises(InvalidInputError):
            admin.create_model("x", features=["a"], scores=["a"])
        # A name is one path segment: it cannot reach another route.
        with pytest.raises(NotFoundError, match="x/../../tokens"):
            admin.data.windows("x/../../tokens")


def test_a_call_made_while_the_server_is_down_arrives_once_when_it_is_back(
    live: LiveServer, admin_token: str, tmp_path: Path
) -> None:
    client = _client(live, admin_token, tmp_path, retries=1, backoff=0.01, timeout=patience(2.0))
    client.create_model("churn", **MODEL)  # type: ignore[arg-type]
    client.log("churn", traffic(10, 1, seed=1))
    live.stop()
    assert client.log("churn", traffic(20, 1, seed=2)) is None
    assert client.log_kpi("revenue", 1.0, model="churn") is None
    assert client.pending == 2
    live.start()
    assert client.log("churn", traffic(30, 1, seed=3)) is not None  # delivers the spool first
    assert client.pending == 0
    assert client.flush() == 0
    windows = client.data.windows("churn")
    assert sum(w.n_rows for w in windows) == 60
    assert sum(w.n_uploads for w in windows) == 3
    assert client.data.predictions("churn").num_rows == 60
    assert len(client.kpis.list(name="revenue")) == 1
    client.close()


def test_a_spooled_body_replayed_twice_is_applied_once(
    live: LiveServer, admin_token: str, tmp_path: Path
) -> None:
    # No background flusher: under load its 10 s tick can deliver the replayed body before the
    # second flush() below, which then has nothing to count.
    client = _client(
        live, admin_token, tmp_path, retries=0, timeout=patience(2.0), flush_interval=None
    )
    client.create_model("churn", **MODEL)  # type: ignore[arg-type]
    live.stop()
    client.log("churn", traffic(15, 1))
    spooled = next((tmp_path / "spool").glob("*.vsp"))
    copy = spooled.read_bytes()
    live.start()
    assert client.flush() == 1
    spooled.write_bytes(copy)  # e.g. two processes flushing one spool folder
    assert client.flush() == 1
    assert [w.n_rows for w in client.data.windows("churn")] == [15]
    assert client.data.predictions("churn").num_rows == 15
    client.close()


def test_acknowledged_writes_survive_kill_9(
    live: LiveServer, admin_token: str, tmp_path: Path
) -> None:
    client = _client(live, admin_token, tmp_path, retries=0, timeout=patience(5.0))
    client.create_model("churn", **MODEL)  # type: ignore[arg-type]
    acknowledged = 0
    for seed in range(15):
        if client.log("churn", traffic(100, 1, seed=seed)) is not None:
            acknowledged += 100
    stop = threading.Event()

    def hammer() -> None:
        seed = 100
        while not stop.is_set():
            client_b = Client(
                live.url, token=admin_token, retries=0, spool_dir=None, timeout=patience(2.0)
            )
            try:
                client_b.log("churn", traffic(50, 1, seed=seed))
            except Exception:
                return
            finally:
                client_b.close()
            seed += 1

    background = threading.Thread(target=hammer)
    background.start()
    live.stop(kill=True)  # kill -9 while writes are in flight
    stop.set()
    background.join(timeout=30)
    live.start()
    windows = client.data.windows("churn")
    rows = client.data.predictions("churn")
    total = sum(w.n_rows for w in windows)
    assert total >= acknowledged
    # Store consistent: every window's row count is backed by exactly its prediction rows.
    assert rows.num_rows == total
    assert len(set(rows["vigil_id"].to_pylist())) == rows.num_rows
    client.close()


def test_eight_clients_logging_at_once_lose_nothing(
    shared_live: LiveServer, shared_token: str, tmp_path: Path
) -> None:
    with _client(shared_live, shared_token, tmp_path) as setup:
        setup.create_model("eight", **MODEL)  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with Client(shared_live.url, token=shared_token, spool_dir=None, retries=0) as client:
                for batch in range(8):
                    frame = traffic(100, 1, seed=index * 100 + batch)
                    result = client.log("eight", frame, version="v1")
                    assert result is not None
                    assert not result.duplicate
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with _client(shared_live, shared_token, tmp_path) as reader:
        windows = reader.data.windows("eight")
        assert sum(w.n_rows for w in windows) == 8 * 8 * 100
        assert sum(w.n_uploads for w in windows) <= 8 * 8 * 2
        assert reader.data.profile("eight").n_rows == 6400
        assert reader.data.predictions("eight").num_rows == 6400
    assert "database is locked" not in shared_live.log.read_text()


def test_spooled_calls_arrive_by_themselves_and_later_calls_do_not_wait(
    live: LiveServer, admin_token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from vigil.api import http as transport  # where the retries sleep

    client = _client(live, admin_token, tmp_path, retries=2, backoff=0.4, flush_interval=0.2)
    client.create_model("churn", **MODEL)  # type: ignore[arg-type]
    live.stop()
    backoffs: list[float] = []
    real_sleep = transport.time.sleep
    caller = threading.current_thread()

    def recording_sleep(seconds: float) -> None:
        # Only this thread's: the spool's flusher retries on its own thread, and under load its
        # backoff can fall between the log call's two.
        if threading.current_thread() is caller:
            backoffs.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(transport.time, "sleep", recording_sleep)
    assert client.log("churn", traffic(10, 1, seed=1)) is None  # retried, then spooled
    assert len(backoffs) == 2  # two backoffs: about 0.4 then 0.8 s, with jitter
    assert backoffs[0] >= 0.2
    assert backoffs[1] >= 0.4
    backoffs.clear()
    assert client.log("churn", traffic(10, 1, seed=2)) is None  # spooled at once
    assert backoffs == []  # no retries while calls wait in the spool
    monkeypatch.undo()
    assert client.pending == 2
    live.start()
    deadline = time.monotonic() + patience(20)
    while client.pending and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.pending == 0
    assert [w.n_rows for w in client.data.windows("churn")] == [20]
    client.close()
