"""A model on any time grid, through the client: its traffic is profiled and stored in the
calendar windows of `vigil.windows`, checked against pandas' own calendar grouping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vigil.client import Client
from vigil.errors import InvalidInputError, VigilError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    local = Client.local(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    yield local
    local.close()


def frame(start: str, end: str, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lo, hi = pd.Timestamp(start, tz="UTC").value, pd.Timestamp(end, tz="UTC").value
    ts = pd.to_datetime(np.sort(rng.integers(lo, hi, n)), utc=True)
    return pd.DataFrame(
        {"id": [f"r{seed}-{i}" for i in range(n)], "ts": ts, "x": rng.normal(size=n)}
    )


def test_a_monthly_model_stores_calendar_months(client: Client) -> None:
    client.create_model("m", features=["x"], id_column="id", timestamp_column="ts", window="month")
    assert client.get_model("m").window == "month"
    data = frame("2026-01-20", "2026-04-10", 900)
    result = client.log("m", data)
    assert result is not None
    windows = client.data.windows("m")
    # pandas' calendar months: "MS" floors to the first of the month
    months = data["ts"].dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.tz_localize("UTC")
    expected = data.groupby(months).size()
    assert [w.start for w in windows] == [t.to_pydatetime() for t in expected.index]
    assert [w.n_rows for w in windows] == expected.tolist()
    assert [w.end.date() for w in windows] == [
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
        dt.date(2026, 4, 1),
        dt.date(2026, 5, 1),
    ]


def test_zoned_days_start_at_local_midnight(client: Client) -> None:
    client.create_model(
        "oslo", features=["x"], id_column="id", timestamp_column="ts", window="day@Europe/Oslo"
    )
    # 2026-03-29 is the spring change in Oslo: that day has 23 hours
    data = frame("2026-03-28T12:00", "2026-03-30T12:00", 500, seed=1)
    client.log("oslo", data)
    windows = client.data.windows("oslo")
    local = data["ts"].dt.tz_convert("Europe/Oslo").dt.floor("D", ambiguous=False)
    expected = data.groupby(local).size()
    assert [w.start for w in windows] == [
        t.tz_convert("UTC").to_pydatetime() for t in expected.index
    ]
    assert [w.n_rows for w in windows] == expected.tolist()
    lengths = {w.start.date(): w.end - w.start for w in windows}
    assert lengths[dt.date(2026, 3, 28)] == dt.timedelta(hours=23)  # starts 23:00 UTC on the 28th


def test_hourly_models_are_stored_as_before(client: Client) -> None:
    client.create_model("h", features=["x"], window=dt.timedelta(hours=1))
    model = client.get_model("h")
    assert model.window_seconds == 3600
    assert model.window is None  # older clients read window_seconds alone


def test_a_grid_that_is_not_one_is_refused_with_its_value(client: Client) -> None:
    with pytest.raises(InvalidInputError, match="fortnight"):
        client.create_model("bad", features=["x"], window="fortnight")
    with pytest.raises(VigilError):
        client.get_model("bad")
