"""Builders of models and log batches shared by the store, server and e2e tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

import vigil
from vigil.api.specs import ModelSpec
from vigil.api.wire import LogBatch, table_to_ipc
from vigil.schema import ID_COLUMN, LABEL_COLUMN, TIMESTAMP_COLUMN

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)

SPEC = ModelSpec(
    name="churn",
    features=["age", "city"],
    predictions=["label"],
    scores=["proba"],
    id_column="request_id",
    timestamp_column="ts",
)


def frame(n: int, seed: int = 0, start: dt.datetime = T0, prefix: str = "r") -> pa.Table:
    """`n` rows of the SPEC model's input and output, spread over the hour after `start`."""
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.integers(0, 3600 * 10**6, n))
    ts = pa.array(
        np.datetime64(start.replace(tzinfo=None), "us") + offsets.astype("timedelta64[us]"),
        pa.timestamp("us", tz="UTC"),
    )
    proba = rng.random(n)
    return pa.table(
        {
            "request_id": [f"{prefix}{seed}-{i}" for i in range(n)],
            "ts": ts,
            "age": rng.normal(40, 10, n),
            "city": rng.choice(["Oslo", "Lyon", "Porto"], n),
            "label": (proba > 0.5).astype(np.int64),
            "proba": proba,
        }
    )


def log_batch(
    n: int, seed: int = 0, start: dt.datetime = T0, version: str = "v1", window_s: int = 3600
) -> LogBatch:
    """A batch as the client sends it: one profile for the window at `start`, plus the rows."""
    table = frame(n, seed, start)
    profile = vigil.profile(table.select(["age", "city", "label", "proba"]))
    profile = profile.with_window(start, start + dt.timedelta(seconds=window_s))
    rows = pa.table(
        {
            ID_COLUMN: table["request_id"],
            TIMESTAMP_COLUMN: table["ts"],
            "label": table["label"],
            "proba": table["proba"],
        }
    )
    return LogBatch(version=version, profiles=[profile.to_bytes()], rows=table_to_ipc(rows))


def labels_table(ids: list[str], labels: list[int], at: dt.datetime) -> pa.Table:
    return pa.table(
        {
            ID_COLUMN: ids,
            LABEL_COLUMN: pa.array(labels, pa.int64()),
            TIMESTAMP_COLUMN: pa.array([at] * len(ids), pa.timestamp("us", tz="UTC")),
        }
    )
