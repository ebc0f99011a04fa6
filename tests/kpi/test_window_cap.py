"""A KPI series is bounded as the performance reports are: more than `MAX_WINDOWS` windows holding
values are refused, naming the count and the cap, from Python, the API (422) and the CLI (exit 2,
one line); windows that hold no value do not count, and a longer window is measured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import auth, make_tokens
from vigil import kpi
from vigil.api.specs import KpiIn, Scope
from vigil.caps import MAX_WINDOWS
from vigil.cli import main
from vigil.client import Client
from vigil.config import Settings
from vigil.errors import InvalidInputError
from vigil.ingestion.service import log_kpi
from vigil.store.core import Store

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
N = MAX_WINDOWS + 50
MINUTE = dt.timedelta(minutes=1)


def _log(store: Store, times: list[dt.datetime], values: list[float]) -> None:
    with store.session() as session:
        for at, value in zip(times, values, strict=True):
            log_kpi(
                session,
                KpiIn(name="orders", value=value, timestamp=at, model="churn", version="v1"),
                actor="test",
            )
        session.commit()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A model `churn` with KPI `orders` logged once in each of N minutes (2,050)."""
    opened = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    client = Client.local(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    try:
        client.create_model("churn", features=["x"])
    finally:
        client.close()
    _log(opened, [T0 + i * MINUTE for i in range(N)], [float(i % 7) for i in range(N)])
    try:
        yield opened
    finally:
        opened.close()


def test_too_many_windows_are_refused_naming_the_count_and_the_cap(store: Store) -> None:
    with store.session() as session, pytest.raises(InvalidInputError) as refused:
        kpi.series(session, "orders", "churn", window="1m")
    assert refused.value.message.startswith(f"{N:,} 1m windows hold values of KPI 'orders'")
    assert f"at most {MAX_WINDOWS:,}" in refused.value.message
    # A shorter period, or a longer window, is measured: every value counted once.
    with store.session() as session:
        short = kpi.series(
            session, "orders", "churn", window="1m", start=T0, end=T0 + MAX_WINDOWS * MINUTE
        )
        hourly = kpi.series(session, "orders", "churn", window="hour")
    assert len(short.points) == MAX_WINDOWS
    values = np.array([float(i % 7) for i in range(N)])
    assert [p.count for p in hourly.points] == [60] * (N // 60) + [N % 60]
    assert [p.sum for p in hourly.points] == pytest.approx(
        [values[i : i + 60].sum() for i in range(0, N, 60)]
    )


def test_calendar_windows_are_counted_in_their_time_zone(store: Store) -> None:
    """Zoned days over more than MAX_WINDOWS local dates are refused with their exact count."""
    days = [T0 + dt.timedelta(days=i, hours=12) for i in range(N)]
    _log(store, days, [1.0] * N)
    with store.session() as session, pytest.raises(InvalidInputError) as refused:
        kpi.series(session, "orders", "churn", window="day@Europe/Oslo")
    # The minutes of T0's day fall on 2 Oslo dates (T0 + 2,050 minutes ends on Jan 6, 10:10
    # UTC), both among the N noon values' dates.
    assert refused.value.message.startswith(f"{N:,} day@Europe/Oslo windows hold values")


def test_empty_windows_do_not_count(tmp_path: Path) -> None:
    """Two values years apart span far more than MAX_WINDOWS minutes, but two hold values."""
    opened = Store.open(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    client = Client.local(f"sqlite:///{tmp_path / 'vigil.db'}", str(tmp_path / "artifacts"))
    client.create_model("churn", features=["x"])
    client.close()
    _log(opened, [T0, T0 + dt.timedelta(days=800)], [3.0, 5.0])
    with opened.session() as session:
        minutes = kpi.series(session, "orders", "churn", window="1m")
        months = kpi.series(session, "orders", "churn", window="month@Europe/Oslo")
    opened.close()
    assert [(p.start, p.count, p.sum) for p in minutes.points] == [
        (T0, 1, 3.0),
        (T0 + dt.timedelta(days=800), 1, 5.0),
    ]
    assert [p.sum for p in months.points] == [3.0, 5.0]


def test_the_api_answers_422_naming_the_count_and_the_cap(store: Store) -> None:
    from vigil.server import create_app

    read = auth(make_tokens(store)[Scope.READ])
    settings = Settings(
        store_url="sqlite://",
        artifacts_url="unused",
        monitor_scheduler=False,
        dashboard_warm_seconds=0,
    )
    with TestClient(create_app(settings, store=store)) as client:
        refused = client.get(
            "/api/v1/kpis/series",
            params={"name": "orders", "model": "churn", "window": "1m"},
            headers=read,
        )
        daily = client.get(
            "/api/v1/kpis/series",
            params={"name": "orders", "model": "churn", "window": "day"},
            headers=read,
        )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["message"].startswith(f"{N:,} 1m windows hold values of KPI 'orders'")
    assert f"at most {MAX_WINDOWS:,}" in body["message"]
    assert daily.status_code == 200
    assert [p["count"] for p in daily.json()["points"]] == [1440, N - 1440]


def test_the_cli_says_it_in_one_line(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = [
        "--store",
        f"sqlite:///{tmp_path / 'vigil.db'}",
        "--artifacts",
        str(tmp_path / "artifacts"),
    ]
    code = main(["performance", "kpi", "orders", "churn", "--window", "1m", *backend])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert f"{N:,} 1m windows hold values of KPI 'orders'" in err
    assert f"at most {MAX_WINDOWS:,}" in err
    code = main(
        ["performance", "kpi", "orders", "churn", "--window", "day", "--format", "json", *backend]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert '"count": 1440' in out
