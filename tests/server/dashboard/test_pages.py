"""Every page answers on the demo's data, bad input gives an HTML page naming it (never a stack
trace), and the slower model sections load on their own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.server.dashboard.conftest import Demo, make_app, page_urls, sign_in
from vigil.api.specs import Scope
from vigil.monitor.alerts import get_alert
from vigil.server.dashboard.sections import LAZY
from vigil.store.core import Store
from vigil.tracking.service import TrackingService


def test_every_page_answers_with_its_data(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    expected = {
        "/ui/": "churn",
        "/ui/models/churn": "(@production), top 10 of 10",
        "/ui/experiments": "gradient_boosting",
        "/ui/registry/churn": "@production",
        "/ui/datasets/churn-training": "Profile of v1",
        "/ui/monitors": "churn-data-drift",
        "/ui/settings": "API tokens",
        "/ui/events": "<td>model.version_created</td>",
    }
    for url in page_urls(web):
        response = web.get(url)
        assert response.status_code == 200, url
        assert "Traceback" not in response.text
        if url in expected:
            assert expected[url] in response.text, url


@pytest.mark.parametrize("key", sorted(LAZY))
def test_model_sections_load_after_the_page(web: TestClient, demo: Demo, key: str) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    page = web.get("/ui/models/churn").text
    assert f"/ui/models/churn/section/{key}?days=" in page
    section = web.get(f"/ui/models/churn/section/{key}?days=90")
    assert section.status_code == 200
    assert section.text.lstrip().startswith('<section class="card">')
    assert "failed to load" not in section.text
    if key in ("performance", "fairness", "segments_performance", "estimated"):
        assert "<svg" in section.text or "<table" in section.text, key


def test_bad_input_is_named_on_an_html_page(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    missing = web.get("/ui/models/nope")
    assert missing.status_code == 404
    assert "no monitored model named &#39;nope&#39;" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    days = web.get("/ui/models/churn?granularity=hour&days=99")
    assert days.status_code == 422
    assert "days must be 1 to 14" in days.text
    search = web.get("/ui/experiments", params={"filter": "metrics.auc >> 1"})
    assert search.status_code == 200
    assert 'class="flash error"' in search.text
    compare = web.get("/ui/experiments/compare?runs=abc")
    assert compare.status_code == 422
    assert "at least two runs" in compare.text
    cell = web.get("/ui/models/churn/cell", params={"feature": "age", "start": "yesterday"})
    assert cell.status_code == 422
    assert "ISO 8601" in cell.text


def test_a_drift_cell_shows_both_distributions(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    cell = web.get(
        "/ui/models/churn/cell",
        params={"feature": "payment_method", "start": "2026-11-08T00:00:00Z"},
    )
    assert cell.status_code == 200
    assert "crypto" in cell.text  # the new category, in the window's bars and the list
    assert 'class="ref"' in cell.text
    assert 'class="cur"' in cell.text


def test_acknowledging_then_resolving_records_who_did_it(web: TestClient, demo: Demo) -> None:
    csrf = sign_in(web, demo.tokens[Scope.WRITE])
    page = web.get("/ui/alerts?state=open").text
    alert_id = int(re.findall(r'data-alert="(\d+)"', page)[-1])
    done = web.post(
        f"/ui/alerts/{alert_id}/ack",
        data={"csrf": csrf, "note": "looking", "back": "/ui/alerts?state=open"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/ui/alerts?state=open&done=acknowledged+%23{alert_id}"
    again = web.post(f"/ui/alerts/{alert_id}/ack", data={"csrf": csrf})
    assert again.status_code == 409  # already acknowledged: said so, not hidden
    web.post(f"/ui/alerts/{alert_id}/resolve", data={"csrf": csrf}, follow_redirects=False)
    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        with store.session() as session:
            alert = get_alert(session, alert_id)
    finally:
        store.close()
    assert alert.state == "resolved"
    assert [(e.event, e.actor, e.note) for e in alert.history[-2:]] == [
        ("acknowledged", "write-user", "looking"),
        ("resolved", "write-user", ""),
    ]


def test_pages_filter_by_who_did_it(web: TestClient, demo: Demo) -> None:
    """Two teammates' tokens: what one did is listed under their name, not under the other's."""
    import getpass

    me = getpass.getuser()  # the demo ran locally: its runs, versions and events are this user's
    csrf = sign_in(web, demo.tokens[Scope.WRITE])
    runs = web.get("/ui/experiments", params={"actor": me}).text
    assert len(re.findall(r'class="run-select"', runs)) >= 3
    assert "No run matches" in web.get("/ui/experiments", params={"actor": "read-user"}).text
    assert "alias_set" in web.get("/ui/registry/churn", params={"actor": me}).text
    assert (
        "No event by read-user" in web.get("/ui/registry/churn", params={"actor": "read-user"}).text
    )
    assert "churn-training" in web.get("/ui/datasets", params={"actor": me}).text
    assert "churn-training" not in web.get("/ui/datasets", params={"actor": "read-user"}).text
    page = web.get("/ui/alerts?state=").text
    alert_id = re.findall(r'data-alert="(\d+)"', page)[0]
    web.post(f"/ui/alerts/{alert_id}/resolve", data={"csrf": csrf}, follow_redirects=False)
    mine = web.get("/ui/alerts", params={"state": "", "actor": "write-user"}).text
    assert f'data-alert="{alert_id}"' in mine
    theirs = web.get("/ui/alerts", params={"state": "", "actor": "read-user"}).text
    assert "data-alert=" not in theirs


def test_a_version_is_compared_with_the_previous_one(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    page = web.get("/ui/registry/churn", params={"compare": "2"}).text
    assert "against v1 (previous)" in page
    assert "<td>roc_auc</td><td>higher</td>" in page
    assert "of the columns drifted" in page
    first = web.get("/ui/registry/churn", params={"compare": "1"}).text
    assert "no earlier version" in first


def test_a_metric_logged_once_is_a_value_not_a_lone_dot(tmp_path: Path) -> None:
    mine = Demo(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"), {})
    store = Store.open(mine.store_url, mine.artifacts_url)
    try:
        tracking = TrackingService(store)
        experiment = tracking.create_experiment("single-points")
        run = tracking.create_run(int(experiment.id), name="once")
        tracking.log_batch(
            run.id,
            metrics=[
                ("auc", 0.8125, 0, 1_780_000_000_000),
                *[("loss", 1.0 / (step + 1), step, 1_780_000_000_000 + step) for step in range(5)],
            ],
        )
        token = store.create_token(Scope.READ, name="reader", owner="reader")
        with make_app(mine, store) as web:
            sign_in(web, token)
            response = web.get(f"/ui/runs/{run.id}/metrics")
            assert response.status_code == 200, response.text
            page = response.text
    finally:
        store.close()
    auc = page[page.index("<h3>auc") : page.index("<h3>loss")]
    assert "0.8125" in auc
    assert "logged once, at step 0 (2026-05-28 20:26:40 UTC)" in auc
    assert "<svg" not in auc  # no chart for one point
    assert "<svg" in page[page.index("<h3>loss") :]
