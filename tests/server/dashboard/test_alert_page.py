"""The alert page explains itself: the monitored value per window against its threshold or
learned band (checked by reading the SVG back against the stored results), readable details,
links that resolve, and acknowledge/resolve forms that record who did what.

The alerts are those of `alert_fixtures`: the demo's and three more kinds (one feature, a
segment, no feature with a learned band)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.server.dashboard.alert_fixtures import Alerts, seed_alerts
from tests.server.dashboard.conftest import Demo, csrf_of, make_app, sign_in
from vigil.api.specs import Scope
from vigil.monitor.alert_context import ResultPoint
from vigil.monitor.kinds import KINDS
from vigil.server.dashboard.alert_charts import OnsetMark, alert_chart, time_ticks
from vigil.server.dashboard.alert_view import measure_label
from vigil.store.core import Store
from vigil.store.monitor_tables import AlertRow, MonitorResultRow, MonitorRow

SVG = "{http://www.w3.org/2000/svg}"
UTC = dt.UTC


@pytest.fixture(scope="module")
def alerts(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Alerts:
    return seed_alerts(demo, tmp_path_factory.mktemp("alert-page"))


@pytest.fixture
def site(alerts: Alerts) -> Iterator[TestClient]:
    """A client signed in with the write token (owner `write-user`) on the copy."""
    store = Store.open(alerts.demo.store_url, alerts.demo.artifacts_url)
    try:
        with make_app(alerts.demo, store) as client:
            sign_in(client, alerts.demo.tokens[Scope.WRITE])
            yield client
    finally:
        store.close()


def stored_results(alerts: Alerts, monitor: str) -> list[MonitorResultRow]:
    store = Store.open(alerts.demo.store_url, alerts.demo.artifacts_url)
    try:
        with store.session() as session:
            monitor_id = session.scalar(select(MonitorRow.id).where(MonitorRow.name == monitor))
            rows = session.scalars(
                select(MonitorResultRow)
                .where(MonitorResultRow.monitor_id == monitor_id)
                .order_by(MonitorResultRow.window_start)
            ).all()
            session.expunge_all()
            return list(rows)
    finally:
        store.close()


def alert_start(alerts: Alerts, alert_id: int) -> dt.datetime:
    store = Store.open(alerts.demo.store_url, alerts.demo.artifacts_url)
    try:
        with store.session() as session:
            row = session.get(AlertRow, alert_id)
            assert row is not None
            return row.first_window_start
    finally:
        store.close()


def chart_of(html: str) -> ET.Element:
    found = re.search(
        r'<div class="chart-box"><svg class="chart alert-chart".*?</svg></div>', html, re.S
    )
    assert found is not None, "no alert chart on the page"
    return ET.fromstring(
        found.group(0)[len('<div class="chart-box">') : -len("</div>")].replace(
            "<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1
        )
    )


def plot_edges(svg: ET.Element) -> tuple[float, float]:
    """The x of the plot's left and right edges: the ends of the x axis."""
    axis = next(e for e in svg.iter(f"{SVG}line") if e.get("class") == "axis")
    return float(axis.get("x1") or "nan"), float(axis.get("x2") or "nan")


def section(html: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', html, re.S)
    assert found is not None, f"no section {name!r}"
    return found.group(1)


@pytest.mark.parametrize(
    ("monitor", "measure", "facts"),
    [
        (
            "charges-drift",
            "columns drifted (share)",
            ["Drifted columns", "monthly_charges"],
        ),
        ("north-accuracy", "realized accuracy", ["Label coverage", "Predictions"]),
        ("hourly-volume", "rows per window", ["Threshold", "learned per window"]),
        ("churn-missing-values", "most missing (share)", ["Missing share", "income 19.1%"]),
    ],
)
def test_the_page_explains_alerts_of_every_kind(
    site: TestClient, alerts: Alerts, monitor: str, measure: str, facts: list[str]
) -> None:
    page = site.get(f"/ui/alerts/{alerts.ids[monitor]}")
    assert page.status_code == 200
    assert "Traceback" not in page.text
    assert measure in page.text
    details = section(page.text, "details")
    for fact in facts:
        assert fact in details, fact
    assert re.search(r"<dt>Statistic</dt><dd>[^<]+</dd>", details)
    # the raw JSON only in a collapsed block, after the readable list
    raw = re.search(
        r"<details><summary>Raw details \(JSON\)</summary><pre>(.*?)</pre>", details, re.S
    )
    assert raw is not None
    assert "<details open" not in details
    assert details.count("<pre>") == 1


def test_the_chart_draws_each_stored_value_against_its_learned_band(
    site: TestClient, alerts: Alerts
) -> None:
    alert_id = alerts.ids["hourly-volume"]
    svg = chart_of(site.get(f"/ui/alerts/{alert_id}").text)
    stored = [r for r in stored_results(alerts, "hourly-volume") if r.value is not None]
    markers = [e for e in svg.iter() if "point" in (e.get("class") or "").split()]
    drawn = [(m.findtext(f"{SVG}title") or "")[:20] for m in markers]
    starts = [r.window_start.strftime("%Y-%m-%d %H:%M UTC") for r in stored]
    # the markers are a run of consecutive stored windows, around the alert's own
    first = starts.index(drawn[0])
    results = stored[first : first + len(markers)]
    assert drawn == starts[first : first + len(markers)]
    alert_windows = [r for r in results if r.window_start >= alert_start(alerts, alert_id)]
    assert alert_windows
    assert alert_windows[0].breached
    assert any(r.breached for r in results)
    assert any(not r.breached for r in results)
    assert [float(m.get("data-value") or "nan") for m in markers] == pytest.approx(
        [r.value for r in results], rel=1e-5
    )
    bounds: dict[tuple[str, str], float] = {}
    for line in svg.iter(f"{SVG}line"):
        kinds = (line.get("class") or "").split()
        if "bound" in kinds:
            title = line.findtext(f"{SVG}title") or ""
            when = title.rsplit("window from ", 1)[1]
            bounds[(kinds[1], when)] = float(line.get("y1") or "nan")
    assert svg.find(f"{SVG}polygon[@class='band']") is not None
    for marker, result in zip(markers, results, strict=True):
        title = marker.findtext(f"{SVG}title") or ""
        when = result.window_start.strftime("%Y-%m-%d %H:%M UTC")
        assert title.startswith(when)
        assert f"{result.value:.6g}" in title
        assert f"{result.lower:.6g} to {result.upper:.6g}" in title
        y = float(marker.get("cy") or float(marker.get("y") or "nan") + 4)
        upper_y, lower_y = bounds[("upper", when)], bounds[("lower", when)]
        # SVG y grows downwards: a breached value lies above the upper or below the lower line
        assert (y < upper_y or y > lower_y) == result.breached, title
        assert ("breached" in title) == result.breached
        assert (marker.tag == f"{SVG}rect") == result.breached  # square: not told by colour


def test_the_chart_spans_the_results_and_highlights_the_alert(
    site: TestClient, alerts: Alerts
) -> None:
    alert_id = alerts.ids["charges-drift"]
    svg = chart_of(site.get(f"/ui/alerts/{alert_id}").text)
    results = stored_results(alerts, "charges-drift")
    left, right = plot_edges(svg)
    markers = [e for e in svg.iter() if "point" in (e.get("class") or "").split()]
    xs = [float(m.get("cx") or float(m.get("x") or "0") + 4) for m in markers]
    step = (right - left) / len(results)  # one window's width in pixels
    assert xs[0] == pytest.approx(left + step / 2, abs=1)
    assert xs[-1] == pytest.approx(right - step / 2, abs=1)
    uppers = {
        float(e.findtext(f"{SVG}title", "").split()[2])
        for e in svg.iter(f"{SVG}line")
        if "upper" in (e.get("class") or "")
    }
    assert uppers == {0.5}
    assert not [e for e in svg.iter(f"{SVG}line") if "lower" in (e.get("class") or "")]
    highlight = svg.find(f"{SVG}rect[@class='alert-window']")
    assert highlight is not None
    first = next(r for r in results if r.breached)
    assert first.window_start.strftime("%Y-%m-%d %H:%M UTC") in (
        highlight.findtext(f"{SVG}title") or ""
    )
    labels = {t.text for t in svg.iter(f"{SVG}text") if "axis-label" in (t.get("class") or "")}
    assert labels == {"window (UTC)", "columns drifted (share)"}


def test_an_onset_is_marked_with_its_interval() -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=UTC)
    points = [
        ResultPoint(
            start + dt.timedelta(hours=i),
            start + dt.timedelta(hours=i + 1),
            float(10 if i < 6 else 30),
            None,
            20.0,
            i >= 6,
            "",
        )
        for i in range(12)
    ]
    onset = OnsetMark(
        start + dt.timedelta(hours=6), start + dt.timedelta(hours=5), start + dt.timedelta(hours=7)
    )
    svg = ET.fromstring(
        str(alert_chart(points, y_label="rows", onset=onset))
        .removeprefix('<div class="chart-box">')
        .removesuffix("</div>")
        .replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1)
    )
    line = svg.find(f"{SVG}line[@class='onset']")
    assert line is not None
    assert "2026-11-01 06:00 UTC" in (line.findtext(f"{SVG}title") or "")
    interval = svg.find(f"{SVG}rect[@class='onset-interval']")
    assert interval is not None
    # the interval spans two of the twelve windows
    left, right = plot_edges(svg)
    assert float(interval.get("width") or "0") == pytest.approx((right - left) * 2 / 12, abs=0.2)
    legends = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "legend"]
    assert "onset" in legends
    empty = alert_chart([], y_label="rows")
    assert "stored no value" in str(empty)


def test_time_ticks_fall_on_whole_hours_and_days() -> None:
    day = dt.datetime(2026, 11, 2, tzinfo=UTC).timestamp()
    assert time_ticks(day + 1800, day + 6 * 3600) == [day + h * 3600 for h in range(1, 7)]
    week = time_ticks(day - 3600, day + 7 * 86_400)
    assert 3 <= len(week) <= 6
    assert all(t % 86_400 == 0 and day - 3600 <= t <= day + 7 * 86_400 for t in week)
    assert {b - a for a, b in itertools.pairwise(week)} == {2 * 86_400}
    assert all(t % 86_400 == 0 for t in time_ticks(day, day + 90 * 86_400))


@pytest.mark.parametrize(
    ("monitor", "expected"),
    [
        ("charges-drift", {"model", "heatmap", "feature", "heatmap cell", "version"}),
        ("north-accuracy", {"model", "segment", "version"}),
        ("hourly-volume", {"model", "version"}),
    ],
)
def test_links_resolve(site: TestClient, alerts: Alerts, monitor: str, expected: set[str]) -> None:
    page = site.get(f"/ui/alerts/{alerts.ids[monitor]}").text
    links = re.findall(r'<a href="([^"]+)" data-link="([^"]+)">([^<]+)</a>', section(page, "links"))
    assert {what for _, what, _ in links} == expected
    for href, what, label in links:
        response = site.get(href.replace("&amp;", "&"))
        assert response.status_code == 200, (what, href)
        if what == "feature":
            assert label == "monthly_charges"
            assert "monthly_charges" in response.text
        if what == "heatmap":
            assert "at=2026-11-08" in href
            assert 'id="heatmap"' in response.text
        if what == "heatmap cell":
            assert "cell=monthly_charges&amp;start=2026-11-08T00%3A00%3A00Z" in href
            assert 'id="heatmap"' in response.text
        if what == "segment":
            assert label == "region=north"
            assert 'id="segments"' in response.text
            assert "region=north" in response.text
        if what == "version":
            assert href.startswith("/ui/registry/churn?compare=")
            assert "Compare a version" in response.text


def test_acknowledge_then_resolve_by_the_form(site: TestClient, alerts: Alerts) -> None:
    alert_id = alerts.ids["north-accuracy"]
    page = site.get(f"/ui/alerts/{alert_id}").text
    actions = section(page, "actions")
    # keyboard: labelled fields and real submit buttons, nothing that needs a pointer
    for field in ("ack-note", "resolve-note"):
        assert f'<label for="{field}">' in actions
        assert f'id="{field}"' in actions
    assert actions.count('<button type="submit"') == 2
    listed = site.get("/ui/alerts", params={"monitor": "north-accuracy"}).text
    assert f'aria-label="Acknowledge alert #{alert_id}"' in listed  # each button says which
    acked = site.post(
        f"/ui/alerts/{alert_id}/ack",
        data={"csrf": csrf_of(page), "note": "looking at north"},
        follow_redirects=False,
    )
    assert acked.status_code == 303
    assert acked.headers["location"] == f"/ui/alerts/{alert_id}?done=acknowledged+%23{alert_id}"
    page = site.get(acked.headers["location"]).text
    assert "Alert acknowledged #" in page
    assert 'id="ack-form"' not in page  # acknowledged: only resolving is left
    site.post(
        f"/ui/alerts/{alert_id}/resolve",
        data={"csrf": csrf_of(page), "note": "labels fixed"},
        follow_redirects=False,
    )
    page = site.get(f"/ui/alerts/{alert_id}").text
    rows = re.findall(
        r'<tr data-event="([a-z]+)"><td>[^<]+</td><td>[a-z]+</td><td>([a-z]+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>',
        section(page, "history"),
    )
    assert rows[-2:] == [
        ("acknowledged", "acknowledged", "write-user", "looking at north"),
        ("resolved", "resolved", "write-user", "labels fixed"),
    ]
    assert 'id="resolve-form"' not in page
    again = site.post(f"/ui/alerts/{alert_id}/resolve", data={"csrf": csrf_of(page)})
    assert again.status_code == 409
    assert "already resolved" in again.text


def test_bad_input_gives_an_html_page_not_a_server_error(site: TestClient, alerts: Alerts) -> None:
    page = site.get(f"/ui/alerts/{alerts.ids['hourly-volume']}").text
    csrf = csrf_of(page)
    missing = site.get("/ui/alerts/987654")
    assert missing.status_code == 404
    assert "no alert with id 987654" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    word = site.get("/ui/alerts/abc")
    assert word.status_code == 404
    assert "no alert with id &#39;abc&#39;" in word.text
    action = site.post(f"/ui/alerts/{alerts.ids['hourly-volume']}/explode", data={"csrf": csrf})
    assert action.status_code == 404
    assert "no action &#39;explode&#39; on an alert" in action.text
    unknown = site.post("/ui/alerts/987654/ack", data={"csrf": csrf})
    assert unknown.status_code == 404
    forged = site.post(f"/ui/alerts/{alerts.ids['hourly-volume']}/ack", data={"csrf": "x"})
    assert forged.status_code == 403


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_a_y_axis_label(kind: str) -> None:
    """A new monitor kind gets its value's label and unit here, not the generic fallback."""
    assert measure_label(kind, None) != f"{kind} value"
