"""Results in a notebook: a one-line repr, inline HTML that needs no network and cannot restyle the
notebook, and a tidy `to_pandas()` with one row per record."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import vigil
from tests.conftest import mixed_table
from vigil.analysis.explain.results import Explanation, Importance
from vigil.analysis.performance.columns import Layout
from vigil.analysis.performance.fairness import Fairness, GroupRates
from vigil.analysis.performance.metrics import ClassificationMetrics
from vigil.analysis.performance.realized import WindowPerformance
from vigil.analysis.performance.reports import FairnessReport, FairnessWindow, RealizedReport
from vigil.api.tracking import RunComparison
from vigil.kpi.compare import KpiComparison, KpiSample
from vigil.kpi.series import KpiPoint, KpiSeries
from vigil.report.notebook import MAX_TABLE_ROWS, NotebookResult, line_chart_svg, table_html

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _drift() -> vigil.DriftReport:
    rng = np.random.default_rng(1)
    ref = {"a": rng.normal(0, 1, 800), "b": rng.normal(0, 1, 800), "<script>x": rng.random(800)}
    cur = {"a": rng.normal(1, 1, 800), "b": rng.normal(0, 1, 800), "<script>x": rng.random(800)}
    return vigil.drift(ref, cur)


def _metrics(accuracy: float) -> ClassificationMetrics:
    return ClassificationMetrics(
        n=100,
        classes=["0", "1"],
        positive_class="1",
        accuracy=accuracy,
        precision=0.5,
        recall=0.5,
        f1=0.5,
        roc_auc=0.75,
        average_precision=0.6,
        log_loss=0.4,
        confusion_matrix=[[40, 10], [10, 40]],
    )


def _realized() -> RealizedReport:
    layout = Layout(
        task="binary", prediction="pred", scores=("score",), classes=("0", "1"), positive_class="1"
    )
    windows = (
        WindowPerformance(T0, T0 + DAY, 100, 100, _metrics(0.8)),
        WindowPerformance(T0 + DAY, T0 + 2 * DAY, 120, 0, None),
        WindowPerformance(T0 + 2 * DAY, T0 + 3 * DAY, 90, 45, _metrics(0.7)),
    )
    return RealizedReport("churn", "day", "all", layout, windows)


def _fairness() -> FairnessReport:
    groups = {
        "DE": GroupRates(60, 30, 0.5, 20, 0.8),
        "FR": GroupRates(40, 12, 0.3, 10, 0.6),
    }
    result = Fairness("1", groups, 0.2, 0.6, 0.2)
    return FairnessReport(
        "churn", "country", "day", "1", (FairnessWindow(T0, T0 + DAY, 100, result),)
    )


def _kpis() -> tuple[KpiSeries, KpiComparison]:
    points = tuple(
        KpiPoint(v, T0 + i * DAY, T0 + (i + 1) * DAY, 10, 10.0 * m, m, 0.1, m - 1, m + 1)
        for v, base in (("1", 1.0), ("2", 2.0))
        for i, m in enumerate((base, base + 0.5))
    )
    series = KpiSeries("revenue", "churn", "day", points)
    comparison = KpiComparison(
        "revenue",
        "churn",
        None,
        None,
        KpiSample("1", 20, 1.25, 0.3, 25.0),
        KpiSample("2", 20, 2.25, 0.3, 45.0),
        1.0,
        0.8,
        10.5,
        38.0,
        1e-12,
    )
    return series, comparison


def _comparison() -> RunComparison:
    return RunComparison(
        run_ids=["r1", "r2"],
        metrics={"auc": {"r1": 0.9, "r2": 0.8}},
        params={"lr": {"r1": "0.1", "r2": "0.2"}, "depth": {"r1": "3", "r2": "3"}},
        param_differences=["lr"],
    )


def _results() -> dict[str, NotebookResult]:
    reference = mixed_table(2_000)
    suite = vigil.suggest_checks(reference)
    series, comparison = _kpis()
    return {
        "drift": _drift(),
        "profile": vigil.profile(reference),
        "validation": suite.validate(mixed_table(2_000, seed=3)),
        "realized": _realized(),
        "fairness": _fairness(),
        "kpi series": series,
        "kpi comparison": comparison,
        "run comparison": _comparison(),
        "importance": Importance("permutation", {"a": 0.1, "b": 0.3}, std={"a": 0.01, "b": 0.02}),
        "explanation": Explanation(
            features=("a", "b"),
            contributions=np.array([[0.1, -0.2], [0.3, 0.0]]),
            base_value=0.5,
            output=np.array([0.4, 0.8]),
            output_space="raw",
            algorithm="tree",
            data=np.array([[1.0, 2.0], [3.0, 4.0]]),
        ),
    }


@pytest.fixture(scope="module")
def results() -> dict[str, NotebookResult]:
    return _results()


@pytest.mark.parametrize(
    "name",
    [
        "drift",
        "profile",
        "validation",
        "realized",
        "fairness",
        "kpi series",
        "kpi comparison",
        "run comparison",
        "importance",
        "explanation",
    ],
)
def test_every_result_has_a_short_repr_offline_html_and_a_frame(
    results: dict[str, NotebookResult], name: str
) -> None:
    result = results[name]
    text = repr(result)
    assert "\n" not in text
    assert len(text) < 200
    page = result._repr_html_()
    # No network: nothing loads from elsewhere (an SVG namespace is an identifier, not a fetch).
    fetched = re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html.unescape(page))
    assert fetched == []
    assert "@import" not in page
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) > 0
    assert len(frame.columns) == len(set(frame.columns))


def test_inline_styles_are_scoped_or_isolated(results: dict[str, NotebookResult]) -> None:
    for name, result in results.items():
        page = result._repr_html_()
        if page.startswith("<iframe"):
            assert 'sandbox="' in page  # the report's own page styles stay inside the frame
            continue
        styles = re.findall(r"<style>(.*?)</style>", page, re.S)
        selectors = re.findall(r"([^{}]+)\{", "".join(styles))
        assert selectors, name
        assert all(s.strip().startswith(".vigil-nb") for s in selectors), name


def test_drift_frame_has_a_row_per_compared_column_and_escapes_names(
    results: dict[str, NotebookResult],
) -> None:
    report = results["drift"]
    assert isinstance(report, vigil.DriftReport)
    frame = report.to_pandas()
    assert set(frame["column"]) == set(report.columns)
    by_column = frame.set_index("column")
    for name, column in report.columns.items():
        assert bool(by_column.loc[name, "drifted"]) is column.drifted
        assert by_column.loc[name, "statistic"] == pytest.approx(column.statistic)
    assert bool(by_column.loc["a", "drifted"]) is True
    assert repr(report).startswith("<DriftReport: 1 of 3 columns drifted")
    inner = html.unescape(re.search(r'srcdoc="(.*?)"', report._repr_html_(), re.S).group(1))
    assert "<script>x" not in inner  # the column name is text, not markup


def test_profile_frame_matches_the_profile(results: dict[str, NotebookResult]) -> None:
    profile = results["profile"]
    assert isinstance(profile, vigil.DatasetProfile)
    frame = profile.to_pandas().set_index("column")
    assert list(frame.index) == list(profile.columns)
    x = profile.columns["x"]
    assert frame.loc["x", "mean"] == pytest.approx(x.mean)
    assert frame.loc["x", "missing"] == x.null_count + x.nan_count
    assert frame.loc["cat", "distinct"] == profile.columns["cat"].distinct


def test_validation_lists_failed_checks_first_and_marks_them_in_words(
    results: dict[str, NotebookResult],
) -> None:
    result = results["validation"]
    assert isinstance(result, vigil.ValidationResult)
    frame = result.to_pandas()
    assert len(frame) == len(result.results)
    n_failed = len(result.failed)
    assert list(frame["failed"]) == [True] * n_failed + [False] * (len(frame) - n_failed)
    page = result._repr_html_()
    assert page.count('class="flag"') == n_failed


def test_performance_frame_has_a_row_per_window_with_coverage(
    results: dict[str, NotebookResult],
) -> None:
    frame = results["realized"].to_pandas()
    assert list(frame["coverage"]) == [1.0, 0.0, 0.5]
    assert frame["accuracy"].tolist()[0] == 0.8
    assert pd.isna(frame["accuracy"].tolist()[1])  # no labels: no figure, not a zero
    assert "<svg" in results["realized"]._repr_html_()


def test_fairness_kpi_and_run_frames(results: dict[str, NotebookResult]) -> None:
    fairness = results["fairness"].to_pandas()
    assert sorted(fairness["group"]) == ["DE", "FR"]
    assert set(fairness["demographic_parity_difference"]) == {0.2}
    series = results["kpi series"].to_pandas()
    assert len(series) == 4
    assert set(series["version"]) == {"1", "2"}
    comparison = results["kpi comparison"].to_pandas()
    assert list(comparison["version"]) == ["1", "2"]
    runs = results["run comparison"]
    assert list(runs.to_pandas().columns) == ["r1", "r2"]  # runs side by side, as before
    assert runs._repr_html_().count('class="flag"') == 1  # the one param that differs


def test_long_tables_are_cut_inline_but_whole_in_pandas() -> None:
    rows = [{"i": i} for i in range(MAX_TABLE_ROWS + 5)]
    page = table_html(rows, ["i"])
    assert page.count("<tr>") == MAX_TABLE_ROWS + 1  # the header row and the first rows
    assert "5 more rows" in page


def test_chart_has_axis_labels_a_legend_and_exact_tooltips() -> None:
    starts = [T0, T0 + DAY, T0 + 2 * DAY]
    svg = line_chart_svg(starts, {"accuracy": [0.8, None, 0.7]}, y_label="realized")
    assert "time (UTC)" in svg
    assert ">realized</text>" in svg
    assert ">accuracy</text>" in svg
    assert svg.count("<circle") == 2  # no point for the window without a value
    assert "<title>accuracy 2026-03-03 00:00: 0.7</title>" in svg
    assert "<polyline" not in svg  # a gap splits the line: two single points, no segment


def test_to_pandas_without_pandas_names_the_missing_package(
    monkeypatch: pytest.MonkeyPatch, results: dict[str, Any]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(vigil.errors.InvalidInputError, match=r"pip install 'vigil\[pandas\]'"):
        results["realized"].to_pandas()


def test_explanation_frames(results: dict[str, NotebookResult]) -> None:
    importance = results["importance"].to_pandas()
    assert list(importance["feature"]) == ["b", "a"]  # most important first
    assert list(importance["rank"]) == [1, 2]
    explanation = results["explanation"].to_pandas()
    assert len(explanation) == 4  # rows x features
    first = explanation[(explanation["row"] == 0) & (explanation["feature"] == "b")]
    assert first["contribution"].item() == pytest.approx(-0.2)
    assert first["value"].item() == 2.0
