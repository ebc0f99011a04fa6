"""The model page's period selector: realized performance, its estimate and fairness per day,
week, month, quarter or year (in the model's time zone), each period's first window whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.periods.conftest import Traffic
from tests.server.conftest import make_tokens
from tests.server.dashboard.conftest import sign_in
from vigil.api.specs import Scope
from vigil.config import Settings
from vigil.server import create_app
from vigil.store.core import Store


@pytest.fixture
def web(store: Store, logged: tuple[Path, Traffic]) -> Iterator[TestClient]:
    folder, _ = logged
    settings = Settings(
        store_url=f"sqlite:///{folder / 'vigil.db'}",
        artifacts_url=str(folder / "artifacts"),
        dashboard_warm_seconds=0,
        monitor_scheduler=False,
    )
    token = make_tokens(store)[Scope.READ]
    with TestClient(create_app(settings, store=store)) as client:
        sign_in(client, token)
        yield client


def test_the_page_carries_the_period_to_its_sections(web: TestClient) -> None:
    page = web.get("/ui/models/churn?period=quarter").text
    assert '<option value="quarter" selected>quarter</option>' in page
    urls = re.findall(r'data-load-url="([^"]+)"', page)
    periodic = [u for u in urls if re.search(r"/section/(performance|estimated|fairness)\?", u)]
    assert len(periodic) == 3
    assert all(u.endswith("&amp;period=quarter") for u in periodic)
    assert web.get("/ui/models/churn?period=fortnight").status_code == 422


@pytest.mark.parametrize(("period", "points"), [("month", 14), ("quarter", 6), ("year", 3)])
def test_realized_performance_per_period(web: TestClient, period: str, points: int) -> None:
    """400 days back from the last window (2025-01-19) reach into December 2023: with the
    first period whole, 14 months, 6 quarters (2023-Q4 to 2025-Q1) or 3 years."""
    html = web.get(f"/ui/models/churn/section/performance?days=400&period={period}").text
    assert f"Per {period}, from labelled predictions" in html
    coverage = re.findall(r'<polyline[^>]*points="([^"]*)"><title>coverage[:<]', html)
    assert [len(p.split()) for p in coverage] == [points]
    fairness = web.get(f"/ui/models/churn/section/fairness?days=400&period={period}").text
    assert "across age" in fairness
