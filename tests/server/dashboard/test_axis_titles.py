"""The feature page's charts (over time, and the latest window's distribution against the
reference) and the retraining section's chart title both axes, with units, and show those titles
whole (a title too long for its chart would be cut to "…" + its end)."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.server.dashboard.conftest import Demo, sign_in
from vigil.api.specs import Scope
from vigil.server.dashboard.drift_charts import SHARE_TITLE
from vigil.server.dashboard.pages.features import MISSING_TITLE, SEVERITY_TITLE, VALUES_TITLE
from vigil.server.dashboard.sections import DRIFTED_TITLE


def _titles(page: str, axis: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(rf'class="axis-label {axis}"[^>]*>([^<]*)<', page)]


def _charts(page: str) -> int:
    return page.count('<svg class="chart"')


@pytest.mark.parametrize(
    ("feature", "over_time", "bins"),
    [
        ("monthly_charges", [VALUES_TITLE, MISSING_TITLE, SEVERITY_TITLE], "value range"),
        ("contract", [MISSING_TITLE, SEVERITY_TITLE], "category"),  # no values chart
    ],
)
def test_feature_charts_title_their_axes_with_units(
    web: TestClient, demo: Demo, feature: str, over_time: list[str], bins: str
) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    page = web.get(f"/ui/models/churn/features/{feature}")
    assert page.status_code == 200
    assert _charts(page.text) == len(over_time) + 1
    assert _titles(page.text, "y") == [*over_time, SHARE_TITLE]
    assert _titles(page.text, "x") == ["day (UTC)"] * len(over_time) + [f"{feature}: {bins}"]
    assert all("(" in title for title in [*over_time, SHARE_TITLE])  # a unit or a scale
    hourly = web.get(f"/ui/models/churn/features/{feature}?granularity=hour&days=3").text
    assert set(_titles(hourly, "x")) == {"hour (UTC)"}


def test_the_retraining_chart_titles_its_axes(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    section = web.get("/ui/models/churn/section/retraining?days=30").text
    assert _charts(section) == 1
    assert _titles(section, "y") == [DRIFTED_TITLE]
    assert _titles(section, "x") == ["window start (UTC)"]
    # 30 daily windows, 2 drifted (the demo's cadence): the bars' heights are 1 and 0.
    bars = re.findall(r'<rect class="bar"[^>]*><title>[^<]*: ([0-9.]+)</title>', section)
    assert len(bars) == 30
    assert sorted(float(b) for b in bars)[-3:] == [0.0, 1.0, 1.0]
