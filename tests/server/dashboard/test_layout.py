"""Every page of the seeded dashboard in a real Chromium at 1400 px and at 390 px (a phone): the
page never scrolls sideways, no card's content is wider than the card (a table may scroll inside
its own wrapper), every label is readable (>= 11 px as rendered), no chart label is cut off or
drawn over another, and no page logs a console error. The checks run in the page (layout.js);
screenshots of every page at both widths go to test-artifacts/dashboard/layout/ (ignored by git).

The pages are every GET route under /ui: a new page fails `test_every_page_is_visited` until it
is added to `PAGES` here (or to `FRAGMENTS`, with the page that shows it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.e2e.live import LiveServer
from tests.server.dashboard.browser import (
    LAYOUT_CHECK,
    SCREENSHOTS,
    Watched,
    assert_outlined,
    chromium,
    live_server,
    shot_name,
    signed_in,
    tab_to,
)
from tests.server.dashboard.conftest import Demo, page_urls, sign_in
from tests.waits import patience
from vigil.api.specs import Scope

pytestmark = pytest.mark.slow

WIDTHS = (1400, 390)
FRAGMENTS = {
    "/ui/models/{name}/heatmap": "the model page (its heatmap, reloaded while it fills)",
    "/ui/models/{name}/cell": "the model page (a click on a heatmap cell)",
    "/ui/models/{name}/section/{key}": "the model page (its lazily loaded sections)",
    "/ui/runs/{run_id}/metrics": "the run page (its live metrics)",
}
"""Routes that answer with part of a page: checked inside the page that shows them."""
NOT_PAGES = {"/ui", "/ui/static/{name}"}
"""A redirect to the overview, and the stylesheet and script."""


def pages(client: TestClient) -> list[str]:
    """The URLs this test opens: every page of the seeded demo, and the sign-in page."""
    return [*page_urls(client), "/ui/login"]


@pytest.fixture(scope="module")
def server(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("dashboard-layout") / "server.log"
    with live_server(demo.store_url, demo.artifacts_url, log) as live:
        yield live


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def urls(demo: Demo) -> list[str]:
    from tests.server.dashboard.conftest import make_app
    from vigil.store.core import Store

    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        with make_app(demo, store) as client:
            sign_in(client, demo.tokens[Scope.READ])
            return pages(client)
    finally:
        store.close()


def _ui_routes(client: TestClient) -> list[APIRoute]:
    return [
        r
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute) and "GET" in (r.methods or ()) and r.path.startswith("/ui")
    ]


def test_every_page_is_visited(web: TestClient, urls: list[str]) -> None:
    """Each GET route under /ui is a page this test opens, or a fragment of one."""
    missing = []
    for route in _ui_routes(web):
        if route.path in FRAGMENTS or route.path in NOT_PAGES:
            continue
        if not any(route.path_regex.match(url.split("?")[0]) for url in urls):
            missing.append(route.path)
    assert missing == [], f"pages this test does not open (add them to pages()): {missing}"


def _settle(page: Any) -> None:
    """Wait until the page's lazily loaded sections are in."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        "() => !document.querySelector('[data-load-url]')", timeout=patience(30) * 1000
    )


def _open_a_drifted_cell(page: Any) -> None:
    """Open the first drifted cell of the heatmap (by a click event at its position, which is
    off screen in the scrolling heatmap of a phone) and wait for its panel."""
    page.evaluate(
        """() => {
          const svg = document.querySelector("svg.heatmap");
          const path = svg.querySelector("path.drifted");
          const [, x, y] = path.getAttribute("d").match(/M([\\d.]+) ([\\d.]+)/);
          const point = svg.createSVGPoint();
          point.x = parseFloat(x) + 2; point.y = parseFloat(y) + 2;
          const at = point.matrixTransform(svg.getScreenCTM());
          svg.dispatchEvent(new MouseEvent("click", {clientX: at.x, clientY: at.y, bubbles: true}));
        }"""
    )
    page.locator("#cell-panel .cell-detail").wait_for(timeout=patience(30) * 1000)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen(
    browser: Any, server: LiveServer, demo: Demo, urls: list[str], width: int
) -> None:
    watched: Watched = signed_in(browser, server, demo.tokens[Scope.ADMIN], width=width)
    page = watched.page
    problems: dict[str, list[str]] = {}
    folder = SCREENSHOTS / "layout"
    for stale in folder.glob(f"{width}-*"):  # run ids differ between runs
        stale.unlink()
    for url in urls:
        response = page.goto(server.url + url)
        assert response is not None
        assert response.status == 200, url
        _settle(page)
        if re.fullmatch(r"/ui/models/[^/?]+", url):
            _open_a_drifted_cell(page)
        found = page.evaluate(LAYOUT_CHECK)
        if found:
            problems[url] = found
        watched.shot(f"{width}-{shot_name(url)}", folder="layout")
    print(f"screenshots at {width} px: {folder}")
    page.context.close()
    if problems:
        pytest.fail(
            "\n".join(
                f"{url} at {width} px:\n  " + "\n  ".join(found) for url, found in problems.items()
            ),
            pytrace=False,
        )
    assert watched.errors == []


def test_runs_are_compared_by_keyboard(browser: Any, server: LiveServer, demo: Demo) -> None:
    """Tab reaches the run checkboxes, Space ticks them, Tab reaches the compare button with a
    visible outline and Enter opens the comparison."""
    watched = signed_in(browser, server, demo.tokens[Scope.READ])
    page = watched.page
    page.goto(f"{server.url}/ui/experiments")
    assert_outlined(tab_to(page, "input.run-select"), "a run's checkbox")
    page.keyboard.press("Space")
    tab_to(page, "input.run-select:not(:checked)")
    page.keyboard.press("Space")
    button = tab_to(page, "[data-selected-count]")
    assert_outlined(button, "the compare button")
    assert page.inner_text("[data-selected-count]") == "Compare selected (2)"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/ui/experiments/compare\?runs=.+&runs=.+"))
    # A sortable header is a button too: Enter sorts by it.
    header = tab_to(page, "table.sortable th")
    assert_outlined(header, "a sortable column's header")
    page.keyboard.press("Enter")
    assert page.locator("table.sortable th.sorted-asc").count() == 1
    assert page.locator("th[aria-sort=ascending]").count() == 1
    assert watched.errors == []
    page.context.close()


def test_a_drift_cell_opens_by_keyboard(browser: Any, server: LiveServer, demo: Demo) -> None:
    """The model page's filters and the heatmap are reached by Tab; arrows move between cells
    and Enter opens the one selected."""
    watched = signed_in(browser, server, demo.tokens[Scope.READ])
    page = watched.page
    page.goto(f"{server.url}/ui/models/churn")
    _settle(page)
    assert_outlined(tab_to(page, "form.filters button[type=submit]"), "the drift filters' Show")
    assert_outlined(tab_to(page, "svg.heatmap"), "the heatmap")
    # The arrows walk from the first cell to the first drifted one.
    row, column, feature = page.evaluate(
        """() => {
          const svg = document.querySelector("svg.heatmap"), d = svg.dataset;
          const [, x, y] = svg.querySelector("path.drifted").getAttribute("d")
            .match(/M([\\d.]+) ([\\d.]+)/);
          const i = Math.round((parseFloat(y) - parseFloat(d.top)) / parseFloat(d.cellH));
          const j = Math.round((parseFloat(x) - parseFloat(d.left)) / parseFloat(d.cellW));
          return [i, j, JSON.parse(d.features)[i]];
        }"""
    )
    for key, times in (("ArrowDown", row), ("ArrowRight", column)):
        for _ in range(times):
            page.keyboard.press(key)
    assert page.inner_text(".heatmap-status").startswith(f"{feature} \u00b7 ")
    page.keyboard.press("Enter")
    detail = page.locator("#cell-panel .cell-detail")
    detail.wait_for(timeout=patience(30) * 1000)
    assert feature in detail.inner_text()
    assert "drifted" in detail.inner_text()
    # The same cell opens from a link (an alert page's), without a click.
    start = page.evaluate(
        f"JSON.parse(document.querySelector('svg.heatmap').dataset.starts)[{column}]"
    )
    page.goto(f"{server.url}/ui/models/churn?cell={feature}&start={start}")
    page.locator("#cell-panel .cell-detail").wait_for(timeout=patience(30) * 1000)
    assert feature in page.inner_text("#cell-panel .cell-detail")
    assert watched.errors == []
    page.context.close()
