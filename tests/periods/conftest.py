"""Periods (issue 16 point 1): a store with a year of labelled traffic whose rows sit on the
calendar's edges, and the rows each report window must be computed from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from vigil.client import Client
from vigil.store.core import Store

EDGES = [
    dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
    dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 2, 29, 12, tzinfo=dt.UTC),
    dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2024, 4, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
]
"""Times on the calendar's edges (Dec 31 -> Jan 1, Jan 31 -> Feb 1, leap day, quarter ends)."""


@dataclass(frozen=True)
class Traffic:
    ts: list[dt.datetime]
    ids: list[str]
    label: np.ndarray
    pred: np.ndarray
    score: np.ndarray
    target: np.ndarray
    yhat: np.ndarray
    age: np.ndarray

    def rows(self, start: dt.datetime, end: dt.datetime) -> np.ndarray:
        """Indices of the rows in [start, end), read from the times themselves."""
        return np.array([i for i, t in enumerate(self.ts) if start <= t < end], dtype=np.int64)


def traffic(n: int = 3000, seed: int = 7) -> Traffic:
    """Rows from mid-December 2023 to January 2025 (some on the edges), a binary model's
    prediction and score and a regression model's, with their labels."""
    rng = np.random.default_rng(seed)
    t0 = dt.datetime(2023, 12, 10, tzinfo=dt.UTC)
    # On 90 of the span's days (each day is a stored window: fewer make a faster fixture).
    days = rng.choice((dt.datetime(2025, 1, 20, tzinfo=dt.UTC) - t0).days, 90, replace=False)
    ts = [
        t0 + dt.timedelta(days=int(rng.choice(days)), seconds=int(s))
        for s in rng.integers(0, 86_400, n - 3 * len(EDGES))
    ]
    ts += EDGES * 3
    m = len(ts)
    x = rng.normal(0, 1, m)
    label = (rng.random(m) < 1 / (1 + np.exp(-2 * x))).astype(np.int64)
    score = 1 / (1 + np.exp(-(1.5 * x + rng.normal(0, 0.7, m))))
    target = rng.normal(50, 10, m)
    return Traffic(
        ts=ts,
        ids=[f"r{i}" for i in range(m)],
        label=label,
        pred=(score >= 0.5).astype(np.int64),
        score=score,
        target=target,
        yhat=target + rng.normal(0, 4, m),
        age=rng.choice(["young", "middle", "old"], m),
    )


def local_client(tmp_path: Path) -> Client:
    return Client.local(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))


def log_traffic(client: Client, data: Traffic, *, window: str = "day") -> None:
    """A binary model `churn` (age is a feature and a segment) and a regression model `price`,
    on `window`, every row labelled."""
    client.create_model(
        "churn",
        features=["age"],
        predictions=["pred"],
        scores=["score"],
        segments=["age"],
        id_column="id",
        timestamp_column="ts",
        window=window,
    )
    client.log(
        "churn",
        {"id": data.ids, "ts": data.ts, "age": data.age, "pred": data.pred, "score": data.score},
    )
    client.log_labels("churn", data.ids, data.label)
    client.create_model(
        "price", predictions=["yhat"], id_column="id", timestamp_column="ts", window=window
    )
    client.log("price", {"id": data.ids, "ts": data.ts, "yhat": data.yhat})
    client.log_labels("price", data.ids, data.target)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Traffic]:
    """One store for the module: the traffic logged on a UTC day grid."""
    folder = tmp_path_factory.mktemp("periods")
    data = traffic()
    client = local_client(folder)
    log_traffic(client, data)
    client.close()
    return folder, data


@pytest.fixture
def store(logged: tuple[Path, Traffic]) -> Iterator[Store]:
    folder, _ = logged
    opened = Store.open(f"sqlite:///{folder / 'vigil.db'}", str(folder / "artifacts"))
    try:
        yield opened
    finally:
        opened.close()
