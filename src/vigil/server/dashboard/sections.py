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
from collections.abc import Callable

from vigil.api.specs import ModelOut
from vigil.importances.store import load_importances, model_version_id
from vigil.ingestion import queries
from vigil.kpi.compare import compare
from vigil.lifecycle.cadence import retraining_cadence
from vigil.server.dashboard import charts
from vigil.server.dashboard.performance_sections import (
    estimated,
    fairness,
    performance,
    segment_performance,
)
from vigil.server.dashboard.section_base import Section, fmt, guard
from vigil.store.core import Store

__all__ = ["LAZY", "PERIODIC", "PERIODS", "Section", "importances", "kpi_comparison", "retraining"]


def kpi_comparison(store: Store, model: ModelOut, start: dt.datetime | None) -> Section:
    title = "KPIs by model version"

    def build() -> Section:
        with store.session() as session:
            try:
                latest = queries.kpi_versions(session, model.name)
                rows = []
                for name, versions in sorted(latest.items()):
                    ordered = sorted(versions, key=lambda v: versions[v])
                    if len(ordered) < 2:
                        continue
                    result = compare(
                        session, name, model.name, ordered[-2], ordered[-1], start=start
                    )
                    rows.append(
                        [
                            name,
                            f"{result.a.version} -> {result.b.version}",
                            fmt(result.a.mean),
                            fmt(result.b.mean),
                            fmt(result.relative_change),
                            fmt(result.p_value),
                        ]
                    )
            finally:
                session.rollback()
        if not rows:
            return Section(
                title,
                empty="Every KPI of this model was logged for one version only; a comparison "
                "needs two (log_kpi(..., version=...)).",
            )
        return Section(
            title,
            header=[
                "KPI",
                "versions",
                "mean before",
                "mean after",
                "relative change",
                "p-value (Welch)",
            ],
            rows=rows,
        )

    return guard(title, build)


def importances(store: Store, registry_model: str | None, version: int | None) -> Section:
    title = "Feature importance"
    if not registry_model or version is None:
        return Section(
            title, empty="The model has no registered @production version to read importances of."
        )

    def build() -> Section:
        with store.session() as session:
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
                    charts.bar_chart(history, bar_width_seconds=width, height=90),
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
}
"""The lazy sections drawn per period (in the model's time zone): key -> builder(..., window)."""
