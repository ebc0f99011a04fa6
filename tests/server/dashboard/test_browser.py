"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against a real
server process on loopback: every page loads without console errors, and a user opens a drift
cell, acknowledges an alert, compares two runs and moves an alias. Screenshots go to
test-artifacts/dashboard/ (ignored by git)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import LiveServer
from tests.server.dashboard.conftest import Demo, copy_demo, page_urls, sign_in
from vigil.api.specs import Scope
from vigil.monitor.alerts import get_alert
from vigil.registry.service import Registry
from vigil.store.core import Store

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "dashboard"


def _chromium() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI needs it (apt-get install chromium)")
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, or make system-deps)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    return path


@pytest.fixture(scope="module")
def demo(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """This module acknowledges alerts and moves @production: it does so on its own copy."""
    return copy_demo(demo, tmp_path_factory.mktemp("dashboard-browser-demo"))


@pytest.fixture(scope="module")
def server(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("dashboard-server") / "server.log"
    live = LiveServer(
        demo.store_url,
        demo.artifacts_url,
        log,
        env={"VIGIL_MONITOR_SCHEDULER": "false", "VIGIL_DASHBOARD_PAGE_BUDGET": "30"},
    )
    live.start(timeout=180)  # a busy machine (a parallel run of the whole suite) starts it slowly
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _signed_in(browser: Any, server: LiveServer, token: str) -> Watched:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{server.url}/ui/alerts")
    assert "/ui/login" in page.url  # nothing readable before signing in
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/alerts$"))
    return watched


def test_every_page_loads_without_console_errors(
    browser: Any, server: LiveServer, demo: Demo, web: Any
) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    urls = page_urls(web)
    watched = _signed_in(browser, server, demo.tokens[Scope.ADMIN])
    for url in urls:
        response = watched.page.goto(server.url + url)
        assert response is not None
        assert response.status == 200, url
        watched.page.wait_for_load_state("networkidle")
        assert watched.page.locator("header.top").count() == 1, url
        name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-")[:60] or "overview"
        watched.shot(name)
    assert watched.errors == []
    watched.page.context.close()


def test_a_user_opens_a_drift_cell(browser: Any, server: LiveServer, demo: Demo) -> None:
    watched = _signed_in(browser, server, demo.tokens[Scope.READ])
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
    watched = _signed_in(browser, server, demo.tokens[Scope.WRITE])
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
    watched = _signed_in(browser, server, demo.tokens[Scope.READ])
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
    watched = _signed_in(browser, server, demo.tokens[Scope.READ])
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
        watched = _signed_in(browser, server, demo.tokens[Scope.WRITE])
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
        watched = _signed_in(browser, server, demo.tokens[Scope.READ])
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
