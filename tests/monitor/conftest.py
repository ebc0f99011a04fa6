from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.store.conftest import store, store_url
from tests.store.migrated import sqlite_copy
from tests.store.pg import postgres_url
from vigil.client import Client
from vigil.monitor import MonitorSettings
from vigil.store.core import Store

__all__ = ["postgres_url", "store", "store_url"]

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def sqlite_store(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Store]:
    opened = Store.open(
        sqlite_copy(migrated_sqlite, tmp_path / "vigil.db"), str(tmp_path / "artifacts")
    )
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def settings() -> MonitorSettings:
    """Loopback receivers are allowed explicitly; retries wait no time."""
    return MonitorSettings(webhook_allow_loopback=True, delivery_backoff_seconds=0)


def client_for(store: Store, tmp_path: Path) -> Client:
    return Client.local(
        str(store.engine.url.render_as_string(hide_password=False)), str(tmp_path / "artifacts")
    )


def log_hours(
    client: Client,
    hours: range,
    *,
    rows: int = 50,
    shift: float = 0.0,
    missing: float = 0.0,
    seed: int = 0,
) -> None:
    """Log `rows` rows in each hour after T0 of `hours` (features x, y; prediction score)."""
    rng = np.random.default_rng(seed)
    for h in hours:
        x = rng.normal(shift, 1.0, rows)
        if missing:
            x[rng.random(rows) < missing] = np.nan
        data = {
            "x": x,
            "y": rng.normal(0.0, 1.0, rows),
            "city": rng.choice(["a", "b", "c"], rows),
            "score": rng.random(rows),
        }
        client.log("m", data, timestamp=T0 + h * HOUR + dt.timedelta(minutes=30))


def create_model(client: Client) -> None:
    client.create_model("m", features=["x", "y", "city"], scores=["score"])
