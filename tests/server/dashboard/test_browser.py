"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against a real
server process on loopback: a user opens a drift cell, acknowledges an alert, compares two runs
and moves an alias. (Every page at two widths: test_layout.py.) Screenshots go to
test-artifacts/dashboard/ (ignored by git)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.live import LiveServer
from tests.server.dashboard.browser import chromium, live_server, signed_in
from tests.server.dashboard.conftest import Demo, copy_demo
from vigil.api.specs import Scope
from vigil.monitor.alerts import get_alert
from vigil.registry.service import Registry
from vigil.store.core import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """This module acknowledges alerts and moves @production: it does so on its own copy."""
    return copy_demo(demo, tmp_path_factory.mktemp("dashboard-browser-demo"))


@pytest.fixture(scope="module")
def server(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("dashboard-server") / "server.log"
    with live_server(demo.store_url, demo.artifacts_url, log) as live:
        yield live


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def test_a_user_opens_a_drift_cell(browser: Any, server: LiveServer, demo: Demo) -> None:
    watched = signed_in(browser, server, demo.tokens[Scope.READ])
    page = watched.page
    page.goto(f"{server.url}/ui/models/churn")
    heatmap = page.locator("svg.heatmap")
    first = re.match(
        r"M([\d.]+) ([\d.]+)", heatmap.locator("path.drifted").first.get_attribute("d") or ""
    )
    assert first is not None
    x, y = float(first.group(1)) + 3, float(first.group(2)) + 3
    heatmap.click(position={"x": x, "y": y})
    detail = page.locator("#cell-panel .cell-detail")
    detail.wait_for()
    text = detail.inner_text()
    assert "Reference" in text
    # What the drift monitor measured, against its own baseline (the demo's training profile).
    assert "churn-data-drift" in text or "churn-prediction-drift" in text
    assert "the stored profile 'churn-training'" in text
    assert "drifted" in text
    assert detail.locator("svg.chart rect.ref").count() > 0  # the reference distribution
    assert detail.locator("svg.chart rect.cur").count() > 0  # the window's
    watched.shot("drift-cell")
    assert watched.errors == []
    page.context.close()


def test_a_user_acknowledges_an_alert(browser: Any, server: LiveServer, demo: Demo) -> None:
    watched = signed_in(browser, server, demo.tokens[Scope.WRITE])
    page = watched.page
    page.goto(f"{server.url}/ui/alerts?state=open")
    row = page.locator("#alerts tbody tr").first
    alert_id = int(row.get_attribute("data-alert") or 0)
    row.locator("button", has_text="Acknowledge").click()
    page.wait_for_load_state()
    assert f"Alert acknowledged #{alert_id}" in page.inner_text(".flash")
    watched.shot("alert-acknowledged")
    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        with store.session() as session:
            alert = get_alert(session, alert_id)
    finally:
        store.close()
    assert alert.state == "acknowledged"
    assert alert.history[-1].actor == "write-user"
    assert watched.errors == []
    page.context.close()


def test_a_user_compares_two_runs(browser: Any, server: LiveServer, demo: Demo) -> None:
    watched = signed_in(browser, server, demo.tokens[Scope.READ])
    page = watched.page
    page.goto(f"{server.url}/ui/experiments")
    button = page.locator("[data-selected-count]")
    assert button.is_disabled()
    boxes = page.locator("input.run-select")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert button.inner_text() == "Compare selected (2)"
    button.click()
    page.wait_for_url(re.compile(r"/ui/experiments/compare\?runs=.+&runs=.+"))
    assert page.locator("#param-diff tr.differs").count() >= 1  # e.g. the model's name
    curves = page.locator("section:has(h2:text('Metric curves')) svg.chart polyline")
    assert curves.count() >= 2  # one curve per run, overlaid
    assert page.locator("svg[aria-label='parallel coordinates'] polyline").count() == 2
    watched.shot("compare-runs")
    assert watched.errors == []
    page.context.close()


def test_run_links_printed_by_the_mlflow_client_open_the_run(
    browser: Any, server: LiveServer, demo: Demo
) -> None:
    from vigil.tracking.service import TrackingService

    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        run = TrackingService(store).search_runs(max_results=1).runs[0]
    finally:
        store.close()
    watched = signed_in(browser, server, demo.tokens[Scope.READ])
    page = watched.page
    experiment, run_id = run.info.experiment_id, run.info.id
    page.goto(f"{server.url}/#/experiments/{experiment}/runs/{run_id}")
    page.wait_for_url(re.compile(rf"/ui/runs/{run_id}$"))
    assert run_id[:8] in page.content()
    page.goto(f"{server.url}/#/experiments/{experiment}")
    page.wait_for_url(re.compile(rf"/ui/experiments\?experiment={experiment}$"))
    assert watched.errors == []
    page.context.close()


def test_a_user_moves_an_alias_through_its_gate(
    browser: Any, server: LiveServer, demo: Demo
) -> None:
    store = Store.open(demo.store_url, demo.artifacts_url)
    registry = Registry(store)
    try:
        production = registry.get_alias("churn", "production").version
        other = next(v.version for v in registry.list_versions("churn") if v.version != production)
        watched = signed_in(browser, server, demo.tokens[Scope.WRITE])
        page = watched.page
        page.goto(f"{server.url}/ui/registry/churn")
        form = page.locator("#move-alias")
        # The runner-up's ROC AUC is below @production's: the gate refuses it.
        form.locator("input[name=alias]").fill("production")
        form.locator("select[name=version]").select_option(str(other))
        form.locator("select[name=gate_metric]").select_option("roc_auc")
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert "Refused:" in page.inner_text(".flash.error")
        assert registry.get_alias("churn", "production").version == production
        # Without a gate it moves, and the event log shows who moved it.
        form = page.locator("#move-alias")
        form.locator("input[name=alias]").fill("production")
        form.locator("select[name=version]").select_option(str(other))
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert f"@production now points at v{other}" in page.inner_text(".flash")
        assert registry.get_alias("churn", "production").version == other
        first_event = page.locator("#events tbody tr").first.inner_text()
        assert "alias_moved" in first_event
        assert "write-user" in first_event
        watched.shot("alias-moved")
        assert watched.errors == []
        page.context.close()
    finally:
        store.close()


def test_a_running_runs_page_follows_its_new_metrics(
    browser: Any, server: LiveServer, demo: Demo
) -> None:
    from vigil.tracking.service import TrackingService, now_ms

    store = Store.open(demo.store_url, demo.artifacts_url)
    service = TrackingService(store)
    try:
        experiment = service.ensure_experiment("live")
        run = service.create_run(experiment.id, name="training-now", owner="write-user")
        service.log_batch(run.id, metrics=[("loss", 0.9, 0, now_ms()), ("loss", 0.7, 1, now_ms())])
        watched = signed_in(browser, server, demo.tokens[Scope.READ])
        page = watched.page
        page.goto(f"{server.url}/ui/runs/{run.id}")
        assert "refresh every 5 seconds" in page.inner_text("#run-metrics")
        assert "0.7" in page.inner_text("#run-metrics h3")
        service.log_batch(run.id, metrics=[("loss", 0.4321, 2, now_ms())])
        from playwright.sync_api import expect

        # The page's own script polls every 5 s (no reload: the CSP forbids eval, too).
        expect(page.locator("#run-metrics h3").first).to_contain_text("0.4321", timeout=20_000)
        watched.shot("live-run")
        assert watched.errors == []
        page.context.close()
    finally:
        store.close()
