"""The model page's KPI section per period: each version's mean and count per month (in the
model's time zone), the newest version against the one before it within each month (Welch's
test, as SciPy computes it on the same values), the open month marked partial."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from vigil.client import Client
from vigil.server.dashboard import sections
from vigil.server.dashboard.loaders import model_of
from vigil.store.core import Store

BERLIN_MARCH = dt.datetime(2026, 2, 28, 23, tzinfo=dt.UTC)  # 1 March 00:00 in Berlin


def test_kpis_per_month_with_each_versions_figures(tmp_path: Path) -> None:
    url, artifacts = f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "a")
    rng = np.random.default_rng(3)
    values: dict[tuple[str, str], list[float]] = {}
    client = Client.local(url, artifacts)
    try:
        client.create_model("m", features=["x"], window="day@Europe/Berlin")
        # February: v1 only; March: v1 then v2 (v2 earns more); April: v2, still open.
        for day in range(75):
            at = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC) + dt.timedelta(days=day)
            version = "v1" if at < dt.datetime(2026, 3, 15, tzinfo=dt.UTC) else "v2"
            for value in rng.normal(10.0 if version == "v1" else 11.0, 2.0, 8):
                client.log_kpi("revenue", float(value), timestamp=at, model="m", version=version)
                month = (
                    "Apr"
                    if at >= dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC)
                    else ("Mar" if at >= BERLIN_MARCH else "Feb")
                )
                values.setdefault((month, version), []).append(float(value))
        # One value at 23:30 UTC on 28 February is Berlin's 1 March.
        client.log_kpi(
            "revenue",
            100.0,
            timestamp=BERLIN_MARCH + dt.timedelta(minutes=30),
            model="m",
            version="v1",
        )
        values[("Mar", "v1")].append(100.0)
        client.flush()
    finally:
        client.close()
    store = Store.open(url, artifacts)
    try:
        section = sections.kpi_comparison(store, model_of(store, "m"), None, "month")
    finally:
        store.close()
    assert section.empty == ""
    assert section.header[1] == "month"
    by_period = {row[1]: row for row in section.rows}
    assert list(by_period) == ["Apr 2026 (partial: still open)", "Mar 2026", "Feb 2026"]
    march = by_period["Mar 2026"]
    v1, v2 = values[("Mar", "v1")], values[("Mar", "v2")]
    assert march[2] == (f"v1: {np.mean(v1):.4g} ({len(v1):,}), v2: {np.mean(v2):.4g} ({len(v2):,})")
    relative = (np.mean(v2) - np.mean(v1)) / abs(np.mean(v1))
    assert march[3] == f"v2 vs v1: {relative:.4g}"
    welch = stats.ttest_ind(v2, v1, equal_var=False)
    assert float(march[4]) == pytest.approx(welch.pvalue, rel=1e-3)
    feb = by_period["Feb 2026"]
    assert feb[2] == f"v1: {np.mean(values[('Feb', 'v1')]):.4g} ({len(values[('Feb', 'v1')]):,})"
    assert feb[3] == "-"  # one version: nothing to compare
    assert [title for title, _ in section.charts] == ["revenue: mean per month"]


def test_the_kpi_section_takes_the_pages_period(tmp_path: Path) -> None:
    assert sections.PERIODIC["kpi_compare"] is sections.kpi_comparison
    assert "segments_performance" in sections.PERIODIC
