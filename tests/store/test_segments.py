"""Per-segment windows: a model with segment columns keeps, beside each whole-traffic window, one
window per segment value (`"<column>=<value>"`), merged the same way."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import inspect, text

from vigil.api.wire import LogBatch
from vigil.client import Client
from vigil.client.batching import MAX_SEGMENT_VALUES
from vigil.errors import InvalidInputError
from vigil.ingestion.service import ingest_log
from vigil.profile import profile
from vigil.profile.groups import window_of
from vigil.store.core import Store
from vigil.store.db import create_store_engine, upgrade

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def traffic(n: int, hours: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.to_datetime(T0) + pd.to_timedelta(np.sort(rng.integers(0, hours * 3600, n)), unit="s")
    return pd.DataFrame(
        {
            "ts": ts,
            "age": rng.normal(40, 9, n),
            "country": rng.choice(["FR", "NO", "DE"], n, p=[0.5, 0.3, 0.2]),
            "device": rng.choice(["ios", "android", None], n),
            "label": rng.integers(0, 2, n),
        }
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    local.create_model(
        "churn",
        features=["age"],
        predictions=["label"],
        segments=["country", "device"],
        timestamp_column="ts",
    )
    yield local
    local.close()


def test_each_segment_value_gets_its_own_windows(client: Client) -> None:
    frame = traffic(3_000, hours=3)
    result = client.log("churn", frame, version="v1")
    assert result is not None
    assert result.n_rows == 3_000
    assert len(result.windows) == 3  # whole-traffic windows only
    client.log("churn", traffic(1_000, hours=3, seed=1), version="v1")  # merges into them
    frame = pd.concat([frame, traffic(1_000, hours=3, seed=1)], ignore_index=True)

    assert client.data.segments("churn") == [
        "country=DE",
        "country=FR",
        "country=NO",
        "device=android",
        "device=ios",
    ]
    whole = client.data.windows("churn")
    assert sum(w.n_rows for w in whole) == 4_000
    assert all(w.segment == "" for w in whole)
    hour = frame["ts"].dt.floor("h")
    for country, part in frame.groupby("country"):
        windows = client.data.windows("churn", segment=f"country={country}")
        expected = part.groupby(hour[part.index]).size()
        assert [w.start for w in windows] == [t.to_pydatetime() for t in expected.index]
        assert [w.n_rows for w in windows] == expected.tolist()
        assert all(w.n_uploads == 2 for w in windows)
        merged = client.data.profile("churn", segment=f"country={country}")
        assert merged.n_rows == len(part)
        assert merged.columns["age"].mean == pytest.approx(part["age"].mean())
    # Rows with no device are in the whole traffic only.
    devices = sum(
        client.data.profile("churn", segment=f"device={d}").n_rows for d in ("ios", "android")
    )
    assert devices == frame["device"].notna().sum()
    assert client.data.profile("churn").n_rows == 4_000


def test_an_id_like_segment_column_is_capped(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    frame = traffic(400, hours=1)
    frame["country"] = [f"c{i % 150}" for i in range(400)]
    with caplog.at_level(logging.WARNING, logger="vigil.client"):
        client.log("churn", frame)
    countries = [k for k in client.data.segments("churn") if k.startswith("country=")]
    assert len(countries) == MAX_SEGMENT_VALUES
    # The most frequent values are kept: c0..c99 appear 3 times, c100..c149 twice.
    assert set(countries) == {f"country=c{i}" for i in range(100)}
    assert "the 100 most frequent get segment windows" in caplog.text
    assert client.data.profile("churn").n_rows == 400


def _window_profile(n: int) -> bytes:
    window = window_of(int(T0.timestamp() * 1_000_000), dt.timedelta(hours=1))
    return profile(pd.DataFrame({"age": np.arange(float(n))}), window=window).to_bytes()


def test_the_server_refuses_a_segment_the_model_does_not_declare(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    with Client.local(url, str(tmp_path / "a")) as local:
        local.create_model("churn", features=["age"], segments=["country"])
    store = Store.open(url, str(tmp_path / "a"))
    blob = _window_profile(10)
    with store.session() as session:
        for key in ["city=Oslo", "country", "=FR"]:
            with pytest.raises(InvalidInputError, match=repr(key)):
                ingest_log(
                    session, store.predictions, "churn", LogBatch(profiles=[blob], segments=[key])
                )
        ingest_log(
            session,
            store.predictions,
            "churn",
            LogBatch(profiles=[blob, blob], segments=["", "country=FR"]),
        )
    with store.session() as session:
        from vigil.ingestion import service

        assert [w.n_rows for w in service.list_windows(session, "churn")] == [10]
        assert service.list_segments(session, "churn") == ["country=FR"]
    store.close()


def test_a_batch_needs_one_segment_key_per_profile() -> None:
    blob = _window_profile(3)
    body = LogBatch(profiles=[blob, blob], segments=["", "country=FR"]).encode()
    assert LogBatch.decode(body).segments == ["", "country=FR"]
    assert LogBatch.decode(LogBatch(profiles=[blob]).encode()).segment_of(0) == ""
    import msgpack

    broken = msgpack.unpackb(body, raw=False)
    broken["segments"] = ["country=FR"]
    with pytest.raises(InvalidInputError, match="one key per profile: 1 keys for 2 profiles"):
        LogBatch.decode(msgpack.packb(broken, use_bin_type=True))


def test_windows_stored_before_segments_become_whole_traffic_windows(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO monitored_models (name, description, features, predictions, scores,"
                " segments, window_seconds, created_at) VALUES ('m', '', '[]', '[]', '[]', '[]',"
                " 3600, '2026-11-20 10:00:00')"
            )
        )
        connection.execute(
            text(
                'INSERT INTO profile_windows (model_id, version, start, "end", n_rows, n_uploads,'
                " first_arrival, last_arrival, profile) VALUES (1, '', '2026-11-20 10:00:00',"
                " '2026-11-20 11:00:00', 5, 1, '2026-11-20 10:00:00', '2026-11-20 10:00:00', x'00')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT segment, n_rows FROM profile_windows")).all() == [
            ("", 5)
        ]
    unique = inspect(engine).get_unique_constraints("profile_windows")
    assert [c["column_names"] for c in unique] == [["model_id", "version", "segment", "start"]]
    engine.dispose()
