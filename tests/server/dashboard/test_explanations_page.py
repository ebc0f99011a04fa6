"""The explanations page of a model shows the feature importances of each registered version as
the API serves them (the same values to the last digit, in the same ranking), says which versions
have none, is linked from the model page, and is opened from that link by keyboard."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import auth
from tests.server.dashboard.browser import assert_outlined, chromium, live_server, signed_in, tab_to
from tests.server.dashboard.conftest import Demo, sign_in
from vigil.api.specs import Scope

IMPORTANCES = "/api/v1/registry/models/churn/versions/{}/importances"


def _cells(page: str) -> dict[tuple[int, str], tuple[float, str, int]]:
    """(version, feature) -> (the exact value in the tooltip, the value shown, the rank)."""
    found = re.findall(
        r'<td class="num" data-version="(\d+)" data-feature="([^"]+)" title="([^"]+)">([^<]+)</td>'
        r'<td class="num">(\d+)</td>',
        page,
    )
    return {
        (int(v), html.unescape(f)): (float(exact), shown, int(rank))
        for v, f, exact, shown, rank in found
    }


def test_the_page_shows_each_versions_importances_as_the_api_serves_them(
    web: TestClient, demo: Demo
) -> None:
    read = auth(demo.tokens[Scope.READ])
    served = {v: web.get(IMPORTANCES.format(v), headers=read).json() for v in (1, 2)}
    assert served[1]["latest"] is None  # the demo logs importances for v2 only
    latest = served[2]["latest"]
    assert latest is not None
    assert len(latest) >= 5

    sign_in(web, demo.tokens[Scope.READ])
    page = web.get("/ui/models/churn/explanations")
    assert page.status_code == 200
    cells = _cells(page.text)
    assert {f for _, f in cells} == set(latest)
    assert {v for v, _ in cells} == {2}
    by_size = sorted(latest, key=lambda f: (-abs(latest[f]), f))
    for feature, value in latest.items():
        exact, shown, rank = cells[(2, feature)]
        assert exact == value  # the API's figure, not rounded
        assert shown == f"{value:.4g}"
        assert rank == by_size.index(feature) + 1
    rows = re.findall(r'data-version="2" data-feature="([^"]+)"', page.text)
    assert rows == by_size  # most important first
    method = served[2]["history"][0]["method"]
    assert f"<th>v2 ({method})</th>" in page.text
    assert "No importances logged for v1." in page.text


def test_the_model_page_links_to_it(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    model = web.get("/ui/models/churn").text
    assert '<a href="/ui/models/churn/explanations">explanations</a>' in model
    missing = web.get("/ui/models/nope/explanations")
    assert "nope" in missing.text
    assert 'data-feature="' not in missing.text


@pytest.mark.slow
def test_the_link_is_reached_and_opened_by_keyboard(demo: Demo, tmp_path: Path) -> None:
    with (
        live_server(demo.store_url, demo.artifacts_url, tmp_path / "server.log") as server,
        chromium() as browser,
    ):
        watched = signed_in(browser, server, demo.tokens[Scope.READ])
        page = watched.page
        page.goto(f"{server.url}/ui/models/churn")
        assert_outlined(tab_to(page, 'a[href$="/explanations"]'), "the explanations link")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/ui/models/churn/explanations$"))
        assert page.locator("table#importances tbody tr").count() >= 5
        assert watched.errors == []
        page.context.close()
