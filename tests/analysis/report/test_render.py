"""Text and HTML rendering of drift reports."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import vigil
from vigil.analysis.drift import DriftReport, drift
from vigil.analysis.drift.html import render_html


@pytest.fixture(scope="module")
def report() -> DriftReport:
    rng = np.random.default_rng(0)
    n = 3_000
    ref = {
        "x": rng.normal(0, 1, n),
        "city": rng.choice(np.array(["oslo", "lyon", "<b>evil</b>"]), n),
        "flag": rng.random(n) < 0.5,
    }
    cur = {
        "x": rng.normal(0.8, 1, n),
        "city": rng.choice(np.array(["oslo", "lyon", "<b>evil</b>", "new"]), n),
        "flag": rng.random(n) < 0.5,
    }
    return drift(ref, cur, prediction_columns=["flag"])


def test_text_summary_lists_drifted_first(report: DriftReport) -> None:
    text = report.summary()
    lines = text.splitlines()
    assert lines[0].startswith("Drift: DATASET DRIFT: 2 of 3 columns drifted")
    body = [line for line in lines if line.startswith(("x ", "city ", "flag "))]
    assert [line.split()[0] for line in body][2] == "flag"  # the one column that did not drift
    assert "new (" in text  # the unseen category and its share
    assert str(report) == text


def test_html_is_self_contained_escaped_and_sorted(report: DriftReport, tmp_path: Path) -> None:
    path = report.to_html(tmp_path / "r.html")
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<b>evil</b>" not in page
    assert "&lt;b&gt;evil&lt;/b&gt;" in page
    assert not re.search(r"(src|href)=\"?https?://", page)  # nothing fetched from the network
    assert "<script src" not in page
    assert "<link" not in page
    assert page.count("<svg") == 3
    assert max(page.index("<h2>x"), page.index("<h2>city")) < page.index("<h2>flag")
    assert "prediction" in page
    assert "Prediction drift: flag" in page


def test_html_overview_lists_every_column_and_links_to_its_card(
    report: DriftReport, tmp_path: Path
) -> None:
    page = report.to_html(tmp_path / "r.html").read_text()
    overview = page[
        page.index('<table class="overview">') : page.index("</table>", page.index("overview"))
    ]
    links = re.findall(r'<a href="#(col-\d+)">([^<]+)</a>', overview)
    assert [name for _, name in links] == [c.name for c in report.sorted_columns()]
    for anchor, _ in links:
        assert f'id="{anchor}"' in page
    assert overview.count('<tr class="drift">') == len(report.drifted_columns)


def test_html_never_embeds_raw_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    secret = rng.normal(0, 1, 500)
    report = drift({"x": secret}, {"x": secret + 1})
    page = report.to_html(tmp_path / "r.html").read_text()
    leaked = [v for v in secret[:50] if f"{v:.6f}" in page]
    assert leaked == []


def test_a_200_column_report_stays_light(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    n = 2_000
    ref = {f"c{i}": rng.normal(0, 1, n) for i in range(150)}
    ref |= {f"k{i}": rng.choice(np.array(list("abcdefghij")), n) for i in range(50)}
    cur = {k: (v + 0.5 if k.startswith("c") and int(k[1:]) % 3 == 0 else v) for k, v in ref.items()}
    report = drift(vigil.profile(ref), vigil.profile(cur))
    assert len(report.columns) == 200
    page = report.to_html(tmp_path / "big.html").read_text()
    assert len(page.encode()) < 1_000_000  # two SVG paths per chart: well under 1 MB
    assert page.count("<svg") == 200
    first = page.index('<div class="card')
    assert page[first : first + 40].startswith('<div class="card drift')


def test_columns_drifting_below_the_dataset_rule_are_not_called_no_drift() -> None:
    rng = np.random.default_rng(8)
    n = 2_000
    ref = {f"c{i}": rng.normal(0, 1, n) for i in range(8)}
    cur = {f"c{i}": rng.normal(1.0 if i < 3 else 0.0, 1, n) for i in range(8)}
    report = drift(ref, cur)
    assert len(report.drifted_columns) == 3
    assert not report.dataset_drift
    headline = report.summary().splitlines()[0]
    assert headline.startswith("Drift: COLUMNS DRIFTED: 3 of 8 columns drifted")
    assert "below the dataset rule of 50%" in headline
    page = render_html(report)
    assert '<div class="verdict warn">COLUMNS DRIFTED' in page
    same = drift(ref, ref)
    assert same.summary().startswith("Drift: no dataset drift: 0 of 8")
    assert '<div class="verdict good">' in render_html(same)
