"""The alert page in a real Chromium: it fits a 1400 px and a 390 px screen for alerts of every
kind (the layout checks of `test_layout`), and an alert is acknowledged then resolved with the
keyboard alone, each control showing its focus, the history naming the signed-in user."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.live import LiveServer
from tests.server.dashboard.alert_fixtures import Alerts, seed_alerts
from tests.server.dashboard.browser import (
    LAYOUT_CHECK,
    Watched,
    assert_outlined,
    chromium,
    live_server,
    signed_in,
    tab_to,
)
from tests.server.dashboard.conftest import Demo
from tests.waits import patience
from vigil.api.specs import Scope

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def alerts(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Alerts:
    return seed_alerts(demo, tmp_path_factory.mktemp("alert-page-browser"))


@pytest.fixture(scope="module")
def server(alerts: Alerts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("alert-page-server") / "server.log"
    with live_server(alerts.demo.store_url, alerts.demo.artifacts_url, log) as live:
        yield live


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("width", [1400, 390])
def test_alert_pages_fit_the_screen(
    browser: Any, server: LiveServer, alerts: Alerts, width: int
) -> None:
    watched: Watched = signed_in(browser, server, alerts.demo.tokens[Scope.READ], width=width)
    page = watched.page
    problems = {}
    for monitor in ("charges-drift", "north-accuracy", "hourly-volume", "churn-missing-values"):
        response = page.goto(f"{server.url}/ui/alerts/{alerts.ids[monitor]}")
        assert response is not None
        assert response.status == 200
        page.wait_for_load_state("load")
        found = page.evaluate(LAYOUT_CHECK)
        if found:
            problems[monitor] = found
        watched.shot(f"{width}-alert-{monitor}", folder="alerts")
    page.context.close()
    assert problems == {}
    assert watched.errors == []


def test_the_heatmap_cell_link_opens_the_cell(
    browser: Any, server: LiveServer, alerts: Alerts
) -> None:
    watched = signed_in(browser, server, alerts.demo.tokens[Scope.READ])
    page = watched.page
    page.goto(f"{server.url}/ui/alerts/{alerts.ids['charges-drift']}")
    page.click("#links a[data-link='heatmap cell']")
    detail = page.locator("#cell-panel .cell-detail")
    detail.wait_for(timeout=patience(30) * 1000)
    assert "monthly_charges" in detail.inner_text()
    assert watched.errors == []
    page.context.close()


def test_an_alert_is_acknowledged_and_resolved_by_keyboard(
    browser: Any, server: LiveServer, alerts: Alerts
) -> None:
    alert_id = alerts.ids["charges-drift"]
    watched = signed_in(browser, server, alerts.demo.tokens[Scope.WRITE])
    page = watched.page
    page.goto(f"{server.url}/ui/alerts/{alert_id}")
    assert_outlined(tab_to(page, "#ack-note"), "the acknowledge note")
    page.keyboard.type("on it")
    assert_outlined(tab_to(page, "#ack-form button[type=submit]", 2), "Acknowledge")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/ui/alerts/{alert_id}\?done=acknowledged"))
    assert page.locator("#ack-form").count() == 0
    tab_to(page, "#resolve-note")
    page.keyboard.type("fixed upstream")
    assert_outlined(tab_to(page, "#resolve-form button[type=submit]", 2), "Resolve")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/ui/alerts/{alert_id}\?done=resolved"))
    rows = page.locator("#history tbody tr").all_inner_texts()
    acted = [re.split(r"\t", row)[1:] for row in rows[-2:]]
    assert acted == [
        ["acknowledged", "acknowledged", "write-user", "on it"],
        ["resolved", "resolved", "write-user", "fixed upstream"],
    ]
    assert watched.errors == []
    page.context.close()
