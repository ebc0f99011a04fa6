"""A window whose labels are incomplete is drawn as such, never as a drop (issue 18: the demo's
last day, 9 of 5,468 predictions labelled, was plotted as accuracy 0.56, F1 0, ROC AUC 0.5): it is
shaded with its coverage in the legend, its realized values are hollow markers off the line, and
its estimated figure is shown beside the realized one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.performance.conftest import binary_day, client_for, create_binary, log_day
from tests.server.dashboard.conftest import Demo, make_app, sign_in
from vigil.api.specs import Scope
from vigil.performance.service import realized
from vigil.server.dashboard import charts
from vigil.store.core import Store


def _charts(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, flags=re.S)


def _points(svg: str, name: str) -> list[list[str]]:
    """The points of each polyline of series `name` (its tooltip: the name, then its last value)."""
    return [
        p.split() for p in re.findall(rf'<polyline[^>]*points="([^"]*)"><title>{name}[:<]', svg)
    ]


def _chart_of(svgs: list[str], label: str) -> str:
    """The chart whose y axis is `label` (one metric per chart)."""
    (found,) = [svg for svg in svgs if f'aria-label="{label}"' in svg]
    return found


def test_the_demos_last_day_renders_as_incomplete(web: TestClient, demo: Demo) -> None:
    sign_in(web, demo.tokens[Scope.READ])
    store = Store.open(demo.store_url, demo.artifacts_url)
    try:
        last = realized(store, "churn", window="day").windows[-1]
    finally:
        store.close()
    assert not last.complete
    day = f"{last.start:%d %b}"
    html = web.get("/ui/models/churn/section/performance?days=90").text
    drawn = _charts(html)
    assert len(drawn) >= 2  # a chart per metric, and the label coverage
    for svg in drawn:
        assert re.search(rf'<rect class="incomplete"[^>]*><title>{day}: incomplete, ', svg)
        assert f"incomplete: {last.coverage:.1%} labelled" in svg
    assert f"<td>{day}</td>" in html  # the incomplete window's row: realized beside estimated
    assert "estimated roc_auc" in html
    estimated = web.get("/ui/models/churn/section/estimated?days=90").text
    assert re.search(rf'<rect class="incomplete"[^>]*><title>{day}: incomplete, ', estimated)
    assert "; estimated roc_auc " in estimated


@pytest.fixture
def partial(tmp_path: Path) -> Iterator[TestClient]:
    """Issue 18's case on a fresh store: nine labelled days (the first week calibrates the
    estimate), then a day of 5,468 predictions of which 9 are labelled, all wrongly predicted."""
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"))
    client = client_for(store, tmp_path)
    create_binary(client)
    rng = np.random.default_rng(18)
    for d in range(9):
        data = binary_day(rng, d, 400)
        log_day(client, data)
        client.log_labels("churn", data["id"], data["label"])
    last = binary_day(rng, 9, 5468)
    log_day(client, last)
    wrong = 1 - np.asarray(last["pred"])[:9]
    client.log_labels("churn", np.asarray(last["id"])[:9].tolist(), wrong)
    client.close()
    token = store.create_token(Scope.READ, name="partial", owner="reader")
    demo = Demo(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path / "artifacts"), {Scope.READ: token})
    try:
        with make_app(demo, store) as web:
            sign_in(web, token)
            yield web
    finally:
        store.close()


def test_nine_labels_of_5468_are_not_a_drop(partial: TestClient) -> None:
    html = partial.get("/ui/models/churn/section/performance").text
    drawn = _charts(html)
    # Each metric's line joins the nine complete days only; the tenth is not on it.
    for name in ("accuracy", "f1", "roc_auc"):
        (line,) = _points(_chart_of(drawn, f"{name} (0-1)"), name)
        assert len(line) == 9, name
    metrics = _chart_of(drawn, "accuracy (0-1)")
    assert "incomplete: 0.2% labelled" in metrics
    assert (
        "14 Jan: incomplete, 9 of 5,468 predictions labelled (0.2%), below the model&#39;s "
        "min_label_coverage 50%" in metrics
    )
    # Realized accuracy on those 9 rows is 0; the tick labels stay those of the complete days.
    ticks = [
        float(t)
        for t in re.findall(r'<text class="tick"[^>]*text-anchor="end">([^<]*)', metrics)
        if re.fullmatch(r"[-\d.e+]+", t)  # the y axis' (the x axis' last label is a date)
    ]
    assert min(ticks) > 0.3
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", html)
    assert rows[-1][:2] == ("14 Jan", "9 of 5,468 (0.2%)")
    assert float(rows[-1][3]) > 0.5  # the estimated figure beside the realized one
    estimated = partial.get("/ui/models/churn/section/estimated").text
    (chart,) = _charts(estimated)
    # Days 7 to 9 are estimated; the realized line joins days 7 and 8 only.
    (realized_line,) = _points(chart, "realized")
    assert len(realized_line) == 2
    assert len(_points(chart, "estimated")[0]) == 3
    assert "14 Jan: incomplete, 9 of 5,468 predictions labelled (0.2%)" in chart
    assert "incomplete: 0.2% labelled" in chart
    fair = partial.get("/ui/models/churn/section/fairness").text
    assert re.search(r'<rect class="incomplete"[^>]*><title>14 Jan: incomplete, ', fair)


def test_the_label_coverage_chart_marks_the_models_setting(partial: TestClient) -> None:
    page = partial.get("/ui/models/churn")
    assert page.status_code == 200
    assert "complete from 50%" in page.text


def test_hollow_points_are_drawn_off_the_line_and_out_of_the_range() -> None:
    day = 86_400.0
    series = charts.Series(
        "accuracy",
        [(0.0, 0.8), (day, 0.82), (2 * day, None), (3 * day, 0.81)],
        hollow=[(2 * day, 0.805), (4 * day, 0.0)],
    )
    svg = str(
        charts.line_chart(
            [series],
            x=charts.Axis(time=True),
            shades=[charts.Shade(2 * day, 3 * day, "why"), charts.Shade(4 * day, 5 * day, "why")],
            shade_legend="incomplete: 0.2% labelled",
        )
    )
    assert len(re.findall(r'<circle class="hollow"', svg)) == 1  # 0.805 in range, 0.0 is not
    assert re.search(r"accuracy 0.805 at 1970-01-03 00:00 UTC \(not judged\)", svg)
    assert len(re.findall(r'<rect class="incomplete"', svg)) == 3  # two shades, one legend key
    assert "incomplete: 0.2% labelled" in svg
    # Only judged values are joined: (0, 0.8)-(day, 0.82), and (3 day, 0.81) alone.
    assert [len(p) for p in _points(svg, "accuracy")] == [2]
