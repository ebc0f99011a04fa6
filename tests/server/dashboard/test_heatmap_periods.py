"""The drift heatmap over calendar periods: a month cell is drift on the merged month (the
analysis functions on the same stored windows), periods follow the model's time zone, partial
periods are marked, zoom links go from months to days to hours, and bad input is named."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import vigil
from vigil import monitor as monitors
from vigil.api.specs import Scope
from vigil.client import Client
from vigil.ingestion import service
from vigil.monitor import Monitor
from vigil.monitor.period_drift import KEY_PREFIX, period_drift
from vigil.server import Settings, create_app
from vigil.server.dashboard.drift_cache import DriftCache, Warmer
from vigil.server.dashboard.heatmap import PAGE_MAX_PARTS, build_heatmap, period_label
from vigil.server.dashboard.loaders import model_of
from vigil.store.core import Store
from vigil.store.dashboard_tables import DriftCell
from vigil.windows import Grid

START = dt.datetime(2026, 2, 16, tzinfo=dt.UTC)  # a Monday
DAYS = 45  # to 2 April: February begins mid-month, March is whole, April is open
UTC = dt.UTC


def _day(day: int, n: int, seed: int, shifted: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, 86_400, n))
    times = np.datetime64(START.replace(tzinfo=None) + dt.timedelta(days=day), "us") + (
        seconds * 1e6
    ).astype("timedelta64[us]")
    x = rng.normal(0.6 if shifted else 0.0, 1.0, n)
    x[rng.random(n) < 0.05] = np.nan
    return pa.table(
        {
            "id": [f"{seed}-{i}" for i in range(n)],
            "at": pa.array(times, pa.timestamp("us", tz="UTC")),
            "x": x,
            "city": rng.choice(["a", "d"] if shifted else ["a", "b", "c"], n),
        }
    )


def _seed(tmp: Path, window: str = "hour") -> tuple[str, str]:
    url, artifacts = f"sqlite:///{tmp / 'v.db'}", str(tmp / "a")
    client = Client.local(url, artifacts)
    try:
        client.create_model(
            "m", features=["x", "city"], id_column="id", timestamp_column="at", window=window
        )
        for day in range(DAYS):
            # the drift starts on 23 March
            client.log("m", _day(day, 240, seed=day, shifted=day >= 35))
        client.flush()
    finally:
        client.close()
    return url, artifacts


def _monitor(
    store: Store,
    name: str = "m-drift",
    window: str = "day",
    baseline: tuple[dt.datetime, dt.datetime] = (START, START + dt.timedelta(days=7)),
) -> None:
    period = {"type": "period", "start": baseline[0].isoformat(), "end": baseline[1].isoformat()}
    monitors.save_monitor(
        store,
        Monitor.model_validate(
            {
                "name": name,
                "kind": "data_drift",
                "target": {"model": "m"},
                "window": window,
                "baseline": period,
            }
        ),
    )


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Store]:
    url, artifacts = _seed(tmp_path)
    store = Store.open(url, artifacts)
    try:
        _monitor(store)
        yield store
    finally:
        store.close()


def _merged(store: Store, start: dt.datetime, end: dt.datetime) -> vigil.DatasetProfile:
    with store.session() as session:
        return service.merged_profile(session, "m", start=start, end=end)


def test_a_month_cell_is_drift_on_the_merged_month(seeded: Store) -> None:
    store = seeded
    grid = Grid("month")
    found = period_drift(store, "m", grid, START, START + dt.timedelta(days=DAYS))
    assert found.derived
    march = dt.datetime(2026, 3, 1, tzinfo=UTC)
    assert sorted(found.periods) == [dt.datetime(2026, 2, 1, tzinfo=UTC), march, grid.next(march)]
    cell = found.cells[march]
    reference = _merged(store, START, START + dt.timedelta(days=7))
    expected = vigil.drift(
        reference, _merged(store, march, grid.next(march)), columns=["x", "city"]
    )
    # Category counts merge exactly: the same statistic and p-value to the last digit.
    assert cell.columns["city"].statistic == expected.columns["city"].statistic
    assert cell.columns["city"].p_value == expected.columns["city"].p_value
    assert cell.columns["city"].drifted == expected.columns["city"].drifted
    # Counts merge exactly (missing shares); quantile sketches (KLL) compact at random, so a
    # numeric statistic differs between two merges of the same windows within the sketch's error.
    x, exact = cell.columns["x"], expected.columns["x"]
    assert x.current_missing_share == exact.current_missing_share
    assert x.reference_missing_share == exact.reference_missing_share
    assert x.severity == pytest.approx(exact.severity, rel=0.25)
    assert x.drifted == exact.drifted
    assert cell.columns["city"].drifted  # 9 of March's 31 days have the new city "d"
    assert cell.monitors["city"] == "m-drift"
    # February (the baseline's own days and two more) has no new category: no drift.
    assert not found.cells[dt.datetime(2026, 2, 1, tzinfo=UTC)].columns["city"].drifted
    period = found.periods[march]
    assert period.n_rows == 31 * 240
    assert period.covered == 1.0


def test_derived_cells_are_kept_and_measured_again_after_late_data(seeded: Store) -> None:
    store = seeded
    grid, march = Grid("month"), dt.datetime(2026, 3, 1, tzinfo=UTC)
    first = period_drift(store, "m", grid, march, grid.next(march))
    with store.session() as session:
        rows = session.scalars(
            select(DriftCell).where(DriftCell.reference.startswith(KEY_PREFIX))
        ).all()
        assert [(r.granularity, r.start, r.n_rows) for r in rows] == [("month", march, 7440)]
        # A kept cell is read, not measured again: change it and see the change come back.
        rows[0].scores = {"city": {**rows[0].scores["city"], "statistic": -1.0}}
        session.commit()
    again = period_drift(store, "m", grid, march, grid.next(march))
    assert again.cells[march].columns["city"].statistic == -1.0
    client = Client.local(str(store.engine.url), store.artifacts.url)
    try:
        client.log("m", _day(20, 100, seed=99, shifted=True))  # late rows on 8 March
        client.flush()
    finally:
        client.close()
    after = period_drift(store, "m", grid, march, grid.next(march))
    assert after.periods[march].n_rows == 7540
    assert after.cells[march].columns["city"].statistic != -1.0
    assert (
        after.cells[march].columns["city"].statistic != first.cells[march].columns["city"].statistic
    )


def test_a_monitor_of_the_grid_is_read_not_measured(seeded: Store) -> None:
    store = seeded
    march = dt.datetime(2026, 3, 1, tzinfo=UTC)
    # A monthly monitor's period baseline is made of whole months: February's.
    _monitor(store, "m-monthly", "month", (dt.datetime(2026, 2, 1, tzinfo=UTC), march))
    monitors.backfill(store, march, Grid("month").next(march), now=dt.datetime(2026, 5, 1))
    found = period_drift(store, "m", Grid("month"), march, Grid("month").next(march))
    assert not found.derived
    assert [m.name for m in found.monitors] == ["m-monthly"]
    assert found.cells[march].monitors["city"] == "m-monthly"
    with store.session() as session:
        kept = session.scalars(
            select(DriftCell).where(DriftCell.reference.startswith(KEY_PREFIX))
        ).all()
    assert kept == []


def test_periods_follow_the_models_time_zone(tmp_path: Path) -> None:
    url, artifacts = _seed(tmp_path, window="day@Europe/Berlin")
    store = Store.open(url, artifacts)
    try:
        _monitor(store, window="day@Europe/Berlin")
        found = period_drift(
            store, "m", Grid.parse("month@Europe/Berlin"), START, START + dt.timedelta(days=DAYS)
        )
        march = dt.datetime(2026, 2, 28, 23, tzinfo=UTC)  # Berlin's midnight, in UTC
        assert march in found.periods
        # Berlin's March ends at 22:00 UTC on 31 March (summer time began on the 29th).
        assert found.periods[march].end == dt.datetime(2026, 3, 31, 22, tzinfo=UTC)
        assert found.cells[march].columns["city"].drifted
    finally:
        store.close()


@pytest.mark.parametrize(
    ("unit", "start", "label"),
    [
        ("hour", dt.datetime(2026, 3, 2, 14, tzinfo=UTC), "14:00 2 Mar"),
        ("day", dt.datetime(2026, 3, 2, tzinfo=UTC), "Mon 2 Mar"),
        ("week", dt.datetime(2026, 3, 2, tzinfo=UTC), "week of 2 Mar"),
        ("month", dt.datetime(2026, 3, 1, tzinfo=UTC), "Mar 2026"),
        ("quarter", dt.datetime(2026, 1, 1, tzinfo=UTC), "2026-Q1"),
        ("year", dt.datetime(2026, 1, 1, tzinfo=UTC), "2026"),
    ],
)
def test_labels_read_as_periods(unit: str, start: dt.datetime, label: str) -> None:
    assert period_label(Grid.parse(unit), start, "UTC") == label


def test_a_berlin_label_is_berlins_date() -> None:
    start = dt.datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert period_label(Grid.parse("month@Europe/Berlin"), start, "Europe/Berlin") == "Mar 2026"


@pytest.fixture
def web(seeded: Store) -> Iterator[TestClient]:
    settings = Settings(
        store_url=str(seeded.engine.url),
        artifacts_url=seeded.artifacts.url,
        dashboard_warm_seconds=0,
        dashboard_page_budget=60,
        monitor_scheduler=False,
    )
    token = seeded.create_token(Scope.READ, name="t", owner="reader")
    # What the server's background warmer does: weeks to years measured before a page asks.
    Warmer(DriftCache(seeded), interval=0).warm_once()
    with TestClient(create_app(settings, store=seeded)) as client:
        form = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        client.post("/ui/login", data={"csrf": csrf.group(1), "token": token, "next": "/ui/"})
        yield client


def _columns(html: str) -> list[str]:
    """The heatmap's column labels (the SVG's tick texts, without their tooltips)."""
    svg = html[html.index('<svg class="heatmap"') :]
    svg = svg[: svg.index("</svg>")]
    return re.findall(r'<text class="tick"[^>]*>([^<]*)', svg)


def test_the_page_zooms_from_months_to_days_to_hours(web: TestClient) -> None:
    months = web.get("/ui/models/m", params={"granularity": "month"})
    assert months.status_code == 200, months.text
    assert _columns(months.text) == ["Feb 2026*", "Mar 2026", "Apr 2026*"]
    # Each month's label is a link to its days (plain links: no JavaScript needed).
    link = "/ui/models/m?granularity=day&amp;at=2026-03-01T00%3A00%3A00Z&amp;of=month#heatmap"
    assert f'<a class="zoom" href="{link}">' in months.text
    assert "partial: still open, data until 2026-04-02 00:00 (UTC)" in months.text
    assert "partial: the model&#39;s data begins 2026-02-16 00:00 (UTC)" in months.text
    days = web.get(link.replace("&amp;", "&").split("#")[0])
    assert days.status_code == 200, days.text
    labels = _columns(days.text)
    assert labels[0] == "Sun 1 Mar"
    # Every day opens its hours: from its label when it fits, and from the list under the grid.
    opens = set(re.findall(r"granularity=hour&amp;at=(2026-03-\d\dT[^&]+)&amp;of=day", days.text))
    assert len(opens) == 31
    assert "days of Mar 2026" in days.text
    assert 'rel="prev">&larr; Feb 2026' in days.text
    assert 'rel="next">Apr 2026 &rarr;' in days.text
    hours = web.get(
        "/ui/models/m", params={"granularity": "hour", "at": "2026-03-23T00:00:00Z", "of": "day"}
    )
    assert hours.status_code == 200, hours.text
    assert "hours of Mon 23 Mar" in hours.text
    assert 'class="cells drifted"' in hours.text
    assert 'class="drifted-mark"' in hours.text  # drifted cells carry a mark, not colour alone


def test_a_month_cell_opens_with_its_period_and_zoom(web: TestClient) -> None:
    cell = web.get(
        "/ui/models/m/cell",
        params={"feature": "city", "start": "2026-04-01T00:00:00Z", "granularity": "month"},
    )
    assert cell.status_code == 200, cell.text
    assert "Apr 2026" in cell.text
    assert "Partial period" in cell.text
    assert "granularity=day&amp;at=2026-04-01T00%3A00%3A00Z&amp;of=month" in cell.text


def test_bad_periods_are_named(web: TestClient) -> None:
    wrong = web.get(
        "/ui/models/m", params={"granularity": "month", "at": "2026-03-01", "of": "day"}
    )
    assert wrong.status_code == 422
    assert "of=&#39;day&#39; must be a longer period than the month cells" in wrong.text
    bad = web.get("/ui/models/m", params={"granularity": "day", "at": "soon"})
    assert bad.status_code == 422
    assert "at must be an ISO 8601 time" in bad.text
    unit = web.get("/ui/models/m", params={"granularity": "fortnight"})
    assert unit.status_code == 422


def test_the_warmer_measures_weekly_and_monthly_cells(seeded: Store) -> None:
    Warmer(DriftCache(seeded), interval=0).warm_once()
    with seeded.session() as session:
        kept = session.execute(
            select(DriftCell.granularity, DriftCell.start).where(
                DriftCell.reference.startswith(KEY_PREFIX)
            )
        ).all()
    weeks = Grid("week").starts(START, START + dt.timedelta(days=DAYS))
    assert sorted(s for g, s in kept if g == "week") == weeks  # 16 Feb (a Monday) to 30 Mar
    assert sorted(s for g, s in kept if g == "month") == [
        dt.datetime(2026, m, 1, tzinfo=UTC) for m in (2, 3, 4)
    ]
    # A page now reads them: nothing is pending even with no time to measure.
    found = period_drift(
        seeded, "m", Grid("month"), START, START + dt.timedelta(days=DAYS), budget_seconds=0
    )
    assert found.pending == ()
    assert len(found.cells) == 3


def test_a_page_leaves_large_periods_to_the_warmer(seeded: Store) -> None:
    """February's 13 days (312 hourly windows) and March (744) are more than a page merges: not
    measured in the request, and the section says who measures them; April's one day (24
    windows) is measured at once."""
    model = model_of(seeded, "m")
    months = build_heatmap(seeded, model, "month", 0, budget_seconds=60, warming=False)
    assert months is not None
    assert months.missing == 0  # nothing to wait for: the warmer is off
    assert f"2 month(s) hold more than {PAGE_MAX_PARTS} stored windows" in months.note
    assert "cells drifted" in str(months.svg)  # April, measured in the request
    assert "VIGIL_DASHBOARD_WARM_SECONDS=0" in months.note
    warming = build_heatmap(seeded, model, "month", 0, budget_seconds=60, warming=True)
    assert warming is not None
    assert warming.missing == 2  # the section refreshes until the warmer measured them
    days = build_heatmap(
        seeded,
        model,
        "day",
        0,
        at=dt.datetime(2026, 3, 10, tzinfo=UTC),
        of="week",
        budget_seconds=60,
        warming=False,
    )
    assert days is not None
    assert days.title == "days of week of 9 Mar"
    assert [c.label for c in days.columns][:2] == ["Mon 9 Mar", "Tue 10 Mar"]
    assert days.missing == 0
    assert "stored windows" not in days.note
