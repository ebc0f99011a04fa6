"""Sections whose data comes from other areas: realized and estimated performance, performance
per segment and fairness (vigil.performance), the KPI comparison of versions (vigil.kpi),
feature importances (vigil.explain) and the retraining cadence (vigil.lifecycle).

Each calls the service its /api/v1 route calls; no data, or an error of that area, gives a
Section with a sentence saying why, never an error page. The costly ones are loaded by the model
page after it is shown (`LAZY`), so the page itself is ready at once. The performance sections
are in `performance_sections`, what every section is in `section_base`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial

from markupsafe import Markup

from vigil.analysis.kpi import KpiComparison, KpiPoint
from vigil.api.specs import ModelOut
from vigil.importances.store import load_importances, model_version_id
from vigil.ingestion import queries
from vigil.kpi.compare import compare
from vigil.kpi.series import series as kpi_series
from vigil.lifecycle.cadence import retraining_cadence
from vigil.performance.service import window_size
from vigil.server.dashboard import charts
from vigil.server.dashboard.heatmap import period_label
from vigil.server.dashboard.performance_sections import (
    estimated,
    fairness,
    performance,
    segment_performance,
)
from vigil.server.dashboard.section_base import Section, fmt, guard
from vigil.store.core import Store
from vigil.windows import Grid

__all__ = ["LAZY", "PERIODIC", "PERIODS", "Section", "importances", "kpi_comparison", "retraining"]


DRIFTED_TITLE = "drifted (1 = yes)"
"""The y axis' title of the retraining section's chart: a bar of 1 per drifted window."""
KPI_PERIODS = 12
"""The latest periods the KPI table lists (the chart shows every period of the page's range)."""


def kpi_comparison(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "day"
) -> Section:
    """Each KPI per period of `window` (in the model's time zone) and version: the mean per
    period as a chart, and for the latest periods the mean and count of each version, with the
    newest version against the one before it (relative change, Welch's p-value) in that period.
    A period still open at the KPI's latest value is marked partial."""
    title = "KPIs by model version"

    def build() -> Section:
        grid = window_size(window, model)
        zone = model.grid.tz
        rows: list[list[str]] = []
        charted: list[tuple[str, Markup]] = []
        with store.read_session() as session:
            try:
                latest = queries.kpi_versions(session, model.name)
                for name, versions in sorted(latest.items()):
                    found = kpi_series(session, name, model.name, window=grid, start=start)
                    rows += _kpi_rows(
                        partial(compare, session, name, model.name),
                        name,
                        found.points,
                        versions,
                        grid,
                    )
                    by_version: dict[str, list[tuple[float, float | None]]] = {}
                    for point in found.points:
                        by_version.setdefault(point.version, []).append(
                            (point.start.timestamp(), point.mean)
                        )
                    if by_version:
                        charted.append(
                            (
                                f"{name}: mean per {grid.unit}",
                                charts.line_chart(
                                    [
                                        charts.Series(v, pts)
                                        for v, pts in sorted(by_version.items())
                                    ],
                                    x=charts.Axis(time=True),
                                    y_label=name,
                                    height=180,
                                ),
                            )
                        )
            finally:
                session.rollback()
        if not rows:
            return Section(
                title,
                empty="No KPI was logged for this model in this range "
                "(vigil.Client().log_kpi(name, value, model=..., version=...)).",
            )
        section = Section(
            title,
            note=f"Per {grid.unit} ({zone}), the latest {KPI_PERIODS} periods; the change "
            "compares the newest version with the one before it on the values each logged in "
            "that period.",
            header=["KPI", grid.unit, "versions: mean (values)", "relative change", "p (Welch)"],
            rows=rows,
        )
        section.charts = charted
        return section

    return guard(title, build)


def _kpi_rows(
    compare_in: Callable[..., KpiComparison],
    name: str,
    points: Sequence[KpiPoint],
    versions: dict[str, dt.datetime],
    grid: Grid,
) -> list[list[str]]:
    """The table's rows of one KPI: its latest `KPI_PERIODS` periods, newest first."""
    order = sorted(versions, key=lambda v: versions[v])
    by_start: dict[dt.datetime, dict[str, KpiPoint]] = {}
    for point in points:
        by_start.setdefault(point.start, {})[point.version] = point
    last = max(versions.values())
    last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
    rows = []
    for begin in sorted(by_start, reverse=True)[:KPI_PERIODS]:
        here = by_start[begin]
        present = [v for v in order if v in here]
        change = p_value = "-"
        if len(present) >= 2:
            result = compare_in(present[-2], present[-1], start=begin, end=grid.next(begin))
            change = f"{present[-1]} vs {present[-2]}: {fmt(result.relative_change)}"
            p_value = fmt(result.p_value)
        label = period_label(grid, begin, grid.tz)
        if begin <= last < grid.next(begin) - dt.timedelta(seconds=1):
            label += " (partial: still open)"
        rows.append(
            [
                name,
                label,
                ", ".join(f"{v}: {fmt(here[v].mean)} ({here[v].count:,})" for v in present),
                change,
                p_value,
            ]
        )
    return rows


def importances(store: Store, registry_model: str | None, version: int | None) -> Section:
    title = "Feature importance"
    if not registry_model or version is None:
        return Section(
            title, empty="The model has no registered @production version to read importances of."
        )

    def build() -> Section:
        with store.read_session() as session:
            try:
                values = load_importances(
                    session, model_version_id=model_version_id(session, registry_model, version)
                )
            finally:
                session.rollback()
        if not values:
            return Section(
                title,
                empty=f"No importances were logged for {registry_model} v{version} "
                "(vigil.explain(...) on the model, or log them with the run).",
            )
        ranked = sorted(values.items(), key=lambda kv: -abs(kv[1]))[:25]
        return Section(
            title,
            header=["feature", "importance"],
            rows=[[name, f"{value:.4g}"] for name, value in ranked],
            note=f"{registry_model} v{version} (@production), top {len(ranked)} of {len(values)}",
        )

    return guard(title, build)


def retraining(store: Store, model: ModelOut, start: dt.datetime | None) -> Section:
    """The advice and each version's drift; without advice, the missing piece of this model's
    data (`RetrainingCadence.missing`) as the section's message."""
    title = "Retraining cadence"

    def build() -> Section:
        cadence = retraining_cadence(store, model.name, start=start)
        rows = [
            [
                f"v{v.version}",
                v.trained_at.strftime("%Y-%m-%d"),
                f"{v.drifted_windows} of {v.windows}",
                v.drift_began.strftime("%Y-%m-%d") if v.drift_began else "-",
                fmt(v.days_to_drift),
                fmt(v.days_watched),
            ]
            for v in cadence.versions
        ]
        notes = "; ".join(cadence.skipped)
        section = Section(
            title,
            empty=cadence.missing.message if cadence.missing else "",
            note=notes if cadence.missing else cadence.advice + (f" ({notes})" if notes else ""),
            header=[
                "version",
                "trained",
                "drifted windows",
                "drift began",
                "days to drift",
                "days watched",
            ],
            rows=rows,
        )
        history = [(w.start.timestamp(), 1.0 if w.drifted else 0.0) for w in cadence.history]
        if history:
            width = cadence.window_seconds or 86_400
            section.charts.append(
                (
                    f"{cadence.window} windows that drifted from the serving version's training data",
                    charts.bar_chart(
                        history,
                        bar_width_seconds=width,
                        y_label=DRIFTED_TITLE,
                        height=180,
                    ),
                )
            )
        return section

    return guard(title, build)


LAZY: dict[str, tuple[str, Callable[[Store, ModelOut, dt.datetime | None], Section]]] = {
    "performance": ("Realized performance", performance),
    "estimated": ("Estimated performance", estimated),
    "segments_performance": ("Performance per segment", segment_performance),
    "fairness": ("Fairness", fairness),
    "kpi_compare": ("KPIs by model version", kpi_comparison),
    "retraining": ("Retraining cadence", retraining),
}
"""Sections the model page loads after it is shown (they read prediction rows or every window):
key -> (title, builder)."""
PERIODS = ("day", "week", "month", "quarter", "year")
"""The model page's period selector: the windows of the sections in `PERIODIC`."""
PERIODIC: dict[str, Callable[[Store, ModelOut, dt.datetime | None, str], Section]] = {
    "performance": performance,
    "estimated": estimated,
    "fairness": fairness,
    "segments_performance": segment_performance,
    "kpi_compare": kpi_comparison,
}
"""The lazy sections drawn per period (in the model's time zone): key -> builder(..., window)."""
