"""The client in local mode (embedded store). The same client against a real server is tested in
tests/e2e/test_client_server.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vigil
from vigil.client import Client, ServerUnavailableError
from vigil.errors import InvalidInputError, NotFoundError

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    local.create_model(
        "churn",
        features=["age", "city"],
        predictions=["label"],
        scores=["proba"],
        id_column="request_id",
        timestamp_column="ts",
    )
    yield local
    local.close()


def traffic(n: int, hours: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.to_datetime(T0) + pd.to_timedelta(np.sort(rng.integers(0, hours * 3600, n)), unit="s")
    proba = rng.random(n)
    return pd.DataFrame(
        {
            "request_id": [f"s{seed}-{i}" for i in range(n)],
            "ts": ts,
            "age": rng.normal(40, 9, n),
            "city": rng.choice(["Oslo", "Lyon"], n),
            "label": (proba > 0.5).astype(int),
            "proba": proba,
            "raw_email": [f"user{i}@example.com" for i in range(n)],
        }
    )


def test_log_profiles_each_hour_and_keeps_rows(client: Client) -> None:
    frame = traffic(600, hours=3)
    result = client.log("churn", frame, version="v1")
    assert result is not None
    assert result.n_rows == 600
    assert result.n_profiles == 3
    windows = client.data.windows("churn")
    expected = frame.groupby(frame["ts"].dt.floor("h")).size()
    assert [w.start for w in windows] == [t.to_pydatetime() for t in expected.index]
    assert [w.n_rows for w in windows] == expected.tolist()
    assert all(w.end - w.start == dt.timedelta(hours=1) for w in windows)
    merged = client.data.profile("churn")
    assert merged.n_rows == 600
    assert merged.columns["age"].mean == pytest.approx(frame["age"].mean())
    assert "raw_email" not in merged.columns  # undeclared columns never leave the process
    rows = client.data.predictions("churn")
    assert rows.num_rows == 600
    assert "age" not in rows.column_names
    assert "raw_email" not in rows.column_names
    assert sorted(rows["vigil_id"].to_pylist()) == sorted(frame["request_id"])


def test_a_model_can_name_its_registry_model(tmp_path: Path) -> None:
    with Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a")) as local:
        local.create_model("fraud", features=["amount"], registry_model="fraud-detector")
        assert local.get_model("fraud").registry_model == "fraud-detector"


def test_labels_join_and_kpis(client: Client) -> None:
    frame = traffic(50, hours=1)
    client.log("churn", frame, version="v1")
    client.log_labels("churn", frame["request_id"][:10].tolist(), [1] * 10, timestamp=T0)
    joined = client.data.predictions("churn")
    assert sum(v is not None for v in joined["vigil_label"].to_pylist()) == 10
    client.log_kpi("revenue", 99.5, timestamp=T0, model="churn", version="v1")
    kpis = client.kpis.list(model="churn")
    assert [(k.name, k.value, k.version) for k in kpis] == [("revenue", 99.5, "v1")]


def test_timestamp_argument_puts_all_rows_in_its_window(client: Client) -> None:
    client.log(
        "churn", traffic(40, hours=5).drop(columns="ts"), timestamp=T0 + dt.timedelta(minutes=7)
    )
    assert [(w.start, w.n_rows) for w in client.data.windows("churn")] == [(T0, 40)]


def test_rows_before_1970_fall_in_the_window_that_contains_them(tmp_path: Path) -> None:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    local.create_model("old", features=["x"], timestamp_column="ts", window=dt.timedelta(days=1))
    when = dt.datetime(1969, 12, 31, 23, 30, tzinfo=dt.UTC)
    local.log("old", pd.DataFrame({"x": [1.0], "ts": [pd.Timestamp(when)]}))
    assert [w.start for w in local.data.windows("old")] == [
        dt.datetime(1969, 12, 31, tzinfo=dt.UTC)
    ]
    local.close()


def test_bad_calls_say_what_is_wrong(client: Client) -> None:
    with pytest.raises(InvalidInputError, match="request_id"):
        client.log("churn", traffic(5, 1).drop(columns="request_id"))
    with pytest.raises(InvalidInputError, match="none of model"):
        client.log("churn", pd.DataFrame({"request_id": ["a"], "other": [1]}))
    with pytest.raises(InvalidInputError, match="not a timestamp"):
        client.log("churn", traffic(5, 1).assign(ts="yesterday"))
    with pytest.raises(NotFoundError, match="ghost"):
        client.log("ghost", traffic(5, 1))
    with pytest.raises(InvalidInputError, match="same length"):
        client.log_labels("churn", ["a", "b"], [1])
    with pytest.raises(InvalidInputError, match="invalid model definition"):
        client.create_model("bad name!", features=["x"])
    assert client.data.windows("churn") == []


def test_remote_client_without_spool_reports_an_unreachable_server() -> None:
    remote = Client("http://127.0.0.1:9", token="x", retries=1, backoff=0.01, spool_dir=None)
    with pytest.raises(ServerUnavailableError, match="failed 2 time"):
        remote.models()
    remote.close()


def test_the_client_is_exported_as_vigil_client() -> None:
    assert vigil.Client is Client
    assert "Client" in vigil.__all__


@settings(max_examples=40, deadline=None)
@given(
    seconds=st.lists(st.integers(-3 * 86400, 3 * 86400), min_size=1, max_size=60),
    window=st.sampled_from([60, 900, 3600, 86400]),
)
def test_window_profiles_cover_every_row_once(seconds: list[int], window: int) -> None:
    import pyarrow as pa

    from vigil.client.batching import window_profiles as _window_profiles

    times = pa.array([T0 + dt.timedelta(seconds=s) for s in seconds], pa.timestamp("us", tz="UTC"))
    table = pa.table({"x": [float(s) for s in seconds]})
    profiles = [vigil.DatasetProfile.from_bytes(b) for b in _window_profiles(table, times, window)]
    assert sum(p.n_rows for p in profiles) == len(seconds)
    starts = [p.window.start for p in profiles if p.window]
    assert starts == sorted(set(starts))
    for p in profiles:
        assert p.window is not None
        assert (p.window.end - p.window.start).total_seconds() == window
        assert p.window.start.timestamp() % window == 0
        inside = [
            s for s in seconds if p.window.start <= T0 + dt.timedelta(seconds=s) < p.window.end
        ]
        assert p.n_rows == len(inside)
        assert p.columns["x"].count == len(inside)


def test_a_missing_optional_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(vigil.VigilError, match=r"pip install 'vigil\[server\]'"):
        Client("http://127.0.0.1:9")


def test_importing_the_client_does_not_import_the_server_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vigil.client; "
        "print(sorted(m for m in ('sqlalchemy', 'duckdb', 'fastapi', 'httpx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "dict", "parquet"])
def test_log_takes_every_supported_input(client: Client, kind: str, tmp_path: Path) -> None:
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = traffic(30, hours=1)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    data: object = {
        "polars": lambda: pl.from_pandas(frame),
        "pyarrow": lambda: table,
        "dict": lambda: {name: table[name].to_numpy() for name in table.column_names},
        "parquet": lambda: (pq.write_table(table, tmp_path / "b.parquet"), tmp_path / "b.parquet")[
            1
        ],
    }[kind]()
    result = client.log("churn", data, version="v1")
    assert result is not None
    assert result.n_rows == 30
    assert client.data.profile("churn").columns["age"].mean == pytest.approx(frame["age"].mean())
    assert sorted(client.data.predictions("churn")["vigil_id"].to_pylist()) == sorted(
        frame["request_id"]
    )


def test_labels_need_a_model_with_an_id_column(tmp_path: Path) -> None:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    local.create_model("no-ids", features=["x"])
    with pytest.raises(InvalidInputError, match="no id column"):
        local.log_labels("no-ids", ["a"], [1])
    local.close()


def _log_locally(args: tuple[str, str, int]) -> int:
    store_url, artifacts, seed = args
    with Client.local(store_url, artifacts) as local:
        for batch in range(5):
            local.log("churn", traffic(40, 1, seed=seed * 10 + batch), version="v1")
    return 5 * 40


@pytest.mark.slow
def test_processes_logging_to_one_local_sqlite_store_lose_nothing(tmp_path: Path) -> None:
    import multiprocessing

    store_url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts")
    with Client.local(store_url, artifacts) as setup:
        setup.create_model(
            "churn",
            features=["age", "city"],
            predictions=["label"],
            id_column="request_id",
            timestamp_column="ts",
        )
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        sent = sum(pool.map(_log_locally, [(store_url, artifacts, s) for s in range(4)]))
    with Client.local(store_url, artifacts) as reader:
        assert sum(w.n_rows for w in reader.data.windows("churn")) == sent == 800
        assert sum(w.n_uploads for w in reader.data.windows("churn")) == 20
        assert reader.data.predictions("churn").num_rows == 800


def test_client_settings_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="flush_interval"):
        Client("http://127.0.0.1:9", flush_interval=0)
    with pytest.raises(InvalidInputError, match="retries"):
        Client("http://127.0.0.1:9", retries=-1)
    with pytest.raises(InvalidInputError, match="timeout"):
        Client("http://127.0.0.1:9", timeout=0)


def test_a_large_log_call_is_sent_as_several_batches_each_applied_once(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from vigil.client.transport import LocalTransport
    from vigil.store.models import IngestedBatch

    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a"))
    local.max_body_bytes = 8 * 1024
    local.create_model(
        "churn",
        features=["age", "city"],
        predictions=["label"],
        scores=["proba"],
        id_column="request_id",
        timestamp_column="ts",
    )
    frame = traffic(3000, hours=30)
    result = local.log("churn", frame, version="v1")
    assert result is not None
    assert result.n_rows == 3000
    assert result.n_profiles == 30
    assert len(result.windows) == 30
    assert sum(w.n_rows for w in local.data.windows("churn")) == 3000
    assert local.data.predictions("churn").num_rows == 3000
    assert isinstance(local._transport, LocalTransport)
    with local._transport.store.session() as session:
        batches = session.scalar(select(func.count()).select_from(IngestedBatch))
    assert batches is not None
    assert batches > 2
    local.close()


def test_split_log_keeps_every_profile_and_row_once() -> None:
    import pyarrow as pa

    from vigil.client import split_log

    rows = pa.table({"vigil_id": [str(i) for i in range(1000)], "p": list(range(1000))})
    profiles = [bytes([i]) * 300 for i in range(10)]
    batches = split_log("v1", profiles, rows, 2048)
    assert len(batches) > 1
    assert len({b.batch_id for b in batches}) == len(batches)
    assert [p for b in batches for p in b.profiles] == profiles
    from vigil.api.wire import ipc_to_table

    ids = [i for b in batches if b.rows for i in ipc_to_table(b.rows)["vigil_id"].to_pylist()]
    assert ids == [str(i) for i in range(1000)]
    assert len(split_log("v1", profiles[:1], rows.slice(0, 5), 2048)) == 1


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(1, 900), max_size=40), limit=st.integers(1024, 4096))
def test_split_log_packs_profiles_greedily_under_half_the_limit(
    sizes: list[int], limit: int
) -> None:
    from vigil.client import split_log

    profiles = [bytes([i % 256]) * size for i, size in enumerate(sizes)]
    batches = split_log("v1", profiles, None, limit) if profiles else []
    assert [p for b in batches for p in b.profiles] == profiles
    half = limit // 2
    for batch, following in zip(batches, [*batches[1:], None], strict=False):
        total = sum(len(p) for p in batch.profiles)
        assert total <= half or len(batch.profiles) == 1
        if following is not None:  # the next one's first profile did not fit
            assert total + len(following.profiles[0]) > half


def test_profiles_built_elsewhere_merge_into_the_windows(client: Client) -> None:
    """A batch job (Spark, a backfill) sends hourly profiles; they merge with logged traffic."""
    from vigil.profile.groups import profile_groups

    frame = traffic(3_000, hours=3, seed=4)
    client.log("churn", frame.iloc[:1_000])
    grouped = profile_groups(
        pa.Table.from_pandas(frame.iloc[1_000:][["ts", "age", "city"]], preserve_index=False),
        window_column="ts",
        window="hour",
    )
    result = client.log_profiles("churn", grouped.values(), version="")
    assert result is not None
    assert result.n_profiles == len(grouped) == 2  # rows are in time order: hours 2 and 3
    windows = client.data.windows("churn")
    assert [w.n_rows for w in windows] == [
        int(
            (
                (frame.ts >= T0 + dt.timedelta(hours=h))
                & (frame.ts < T0 + dt.timedelta(hours=h + 1))
            ).sum()
        )
        for h in range(3)
    ]
    assert [w.n_uploads for w in windows] == [1, 2, 1]  # hour 2 got both kinds of upload
    merged = client.data.profile("churn")
    assert merged.columns["age"].count == 3_000


def test_profiles_must_carry_a_window_of_the_models_length(client: Client) -> None:
    with pytest.raises(InvalidInputError, match="has no window"):
        client.log_profiles("churn", [vigil.profile({"age": [1.0]})])
    with pytest.raises(InvalidInputError, match="at least one profile"):
        client.log_profiles("churn", [])
    daily = vigil.profile({"age": [1.0]}, window=(T0, T0 + dt.timedelta(days=1)))
    with pytest.raises(vigil.VigilError, match=r"windows of 3600 s|hour windows"):
        client.log_profiles("churn", [daily])
    assert client.data.windows("churn") == []
