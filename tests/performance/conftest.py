from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.store.conftest import store, store_url
from tests.store.pg import postgres_url
from vigil.client import Client
from vigil.store.core import Store

__all__ = ["postgres_url", "store", "store_url"]

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
DAY = dt.timedelta(days=1)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    try:
        yield opened
    finally:
        opened.close()


def client_for(store: Store, tmp_path: Path) -> Client:
    return Client.local(
        str(store.engine.url.render_as_string(hide_password=False)), str(tmp_path / "artifacts")
    )


def binary_day(
    rng: np.random.Generator, day: int, n: int, *, shift: float = 0.0, prefix: str = "r"
) -> dict[str, object]:
    """One day of a binary model's traffic (the covariate-shift scenario's model) with the true
    labels beside it; `country` is a segment column, FR scored worse than DE."""
    x1 = rng.normal(shift, 1.0, n)
    x2 = rng.normal(0.0, 1.0, n)
    country = rng.choice(["DE", "FR"], n)
    label = (rng.random(n) < 1 / (1 + np.exp(-(2 * x1 + x2)))).astype(np.int64)
    score = 1 / (1 + np.exp(-(2.6 * x1 + 0.2)))
    times = [T0 + day * DAY + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 86400, n)]
    return {
        "id": [f"{prefix}{day}-{i}" for i in range(n)],
        "ts": times,
        "x1": x1,
        "country": country,
        "pred": (score >= 0.5).astype(np.int64),
        "score": score,
        "label": label,
    }


def create_binary(client: Client, name: str = "churn") -> None:
    client.create_model(
        name,
        features=["x1"],
        predictions=["pred"],
        scores=["score"],
        segments=["country"],
        id_column="id",
        timestamp_column="ts",
        window=dt.timedelta(days=1),
    )


def log_day(client: Client, data: dict[str, object], name: str = "churn") -> None:
    client.log(name, {k: v for k, v in data.items() if k != "label"}, version="v1")
