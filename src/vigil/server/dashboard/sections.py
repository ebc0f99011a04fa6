"""Sections whose data comes from other areas: realized and estimated performance, performance
per segment and fairness (vigil.performance), the KPI comparison of versions (vigil.kpi),
feature importances (vigil.explain) and the retraining cadence (vigil.lifecycle).

Each calls the service its /api/v1 route calls; no data, or an error of that area, gives a
Section with a sentence saying why, never an error page. The costly ones are loaded by the model
page after it is shown (`LAZY`), so the page itself is ready at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from vigil.api.specs import ModelOut
from vigil.errors import VigilError
from vigil.importances.store import load_importances, model_version_id
from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.kpi.compare import compare
from vigil.lifecycle.cadence import retraining_cadence
from vigil.performance.breakdown import fairness_report
from vigil.performance.service import estimated as estimate
from vigil.performance.service import realized
from vigil.server.dashboard import charts, coverage
from vigil.server.dashboard.loaders import read
from vigil.store.core import Store

logger = logging.getLogger("vigil.server.dashboard")

HEADLINE = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "mae", "rmse", "r2")
MAX_SEGMENTS = 20
REFERENCE_DAYS = 7
"""Estimated performance is calibrated on the model's first week of labelled predictions."""


@dataclass
class Section:
    title: str
    empty: str = ""
    charts: list[tuple[str, Markup]] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    note: str = ""


def _guard(title: str, build: Callable[[], Section]) -> Section:
    try:
        return build()
    except VigilError as exc:
        return Section(title, empty=exc.message)
    except Exception as exc:  # another area's code failing must not take the page down
        logger.exception("dashboard section %r failed", title)
        return Section(
            title, empty=f"This section failed to load ({type(exc).__name__}); see the server log."
        )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.4g}"
    return "-" if value is None else str(value)


def _headline(metrics: dict[str, Any] | None) -> dict[str, float]:
    """The scalar metrics of a metrics dict, best known first."""
    if not metrics:
        return {}
    scalars = {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k != "n"
    }
    return {k: scalars[k] for k in HEADLINE if k in scalars and math.isfinite(scalars[k])}


def _as_dict(report: Any) -> dict[str, Any]:
    """A performance report as its API body (the shape docs/performance.md describes)."""
    body: dict[str, Any] = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    return body


def _time(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value)).timestamp()


def _reference_week(
    store: Store, model: ModelOut, start: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime] | None:
    """The labelled week estimated performance is calibrated on: the model's first (or the
    page's start), None without data."""
    first = read(store, lambda s: queries.first_start(s, model.name))
    if first is None:
        return None
    if start is not None and start > first:
        first = start
    return first, first + dt.timedelta(days=REFERENCE_DAYS)


def _estimates_of(
    store: Store,
    model: ModelOut,
    start: dt.datetime | None,
    windows: list[dict[str, Any]],
    window: str = "day",
) -> dict[float, dict[str, float]]:
    """The estimated headline metrics of the incomplete windows, by start (none when the model
    cannot be estimated: no scores, no labelled reference week)."""
    incomplete = [w for w in windows if not w.get("complete", True)]
    reference = _reference_week(store, model, start)
    if not incomplete or reference is None:
        return {}
    first = min(_time(w["start"]) for w in incomplete)
    try:
        out = _as_dict(
            estimate(
                store,
                model.name,
                reference_start=reference[0],
                reference_end=reference[1],
                window=window,
                start=dt.datetime.fromtimestamp(first, dt.UTC),
            )
        )
    except VigilError:
        return {}
    return {_time(w["start"]): _headline(w.get("estimated")) for w in out["windows"]}


def _min_coverage(windows: list[dict[str, Any]]) -> str:
    """The model's min_label_coverage as the windows carry it ("50%")."""
    share = next((w.get("min_label_coverage") for w in windows), None)
    return coverage.percent(float(share)) if share is not None else "the model's minimum"


def performance(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "day"
) -> Section:
    title = "Realized performance"

    def build() -> Section:
        out = _as_dict(realized(store, model.name, window=window, start=start))
        windows = out["windows"]
        if not windows:
            return Section(title, empty="No prediction rows are stored for this model.")
        keys: list[str] = []
        for w in windows:
            keys += [k for k in _headline(w.get("metrics")) if k not in keys]
        keys = [k for k in HEADLINE if k in keys][:5]
        estimates = _estimates_of(store, model, start, windows, window)
        shades, legend = coverage.shades(
            windows,
            lambda w: _time(w["start"]),
            lambda w: _time(w["end"]),
            {
                t: ", ".join(f"{k} {_fmt(v)}" for k, v in e.items() if k in keys)
                for t, e in estimates.items()
            },
        )
        section = Section(
            title,
            note=(
                f"Per {out['window']}, from labelled predictions ({out.get('task') or ''}). A window with "
                f"less than {_min_coverage(windows)} of its predictions labelled is incomplete: "
                "shaded, its values hollow and not judged."
            ),
        )
        if keys:
            section.charts.append(
                (
                    "metrics",
                    charts.line_chart(
                        [
                            coverage.series(
                                k,
                                windows,
                                lambda w: _time(w["start"]),
                                lambda w, k=k: _headline(w.get("metrics")).get(k),  # type: ignore[misc]
                                k,
                            )
                            for k in keys
                        ],
                        x=charts.Axis(time=True),
                        height=200,
                        shades=shades,
                        shade_legend=legend,
                    ),
                )
            )
        else:
            section.empty = "No window has labels yet, so no metric is realized."
        section.charts.append(
            (
                "label coverage",
                charts.line_chart(
                    [
                        charts.Series(
                            "coverage", [(_time(w["start"]), w.get("coverage")) for w in windows]
                        )
                    ],
                    x=charts.Axis(time=True),
                    y_min=0,
                    y_max=1,
                    height=140,
                    shades=shades,
                    shade_legend=legend,
                ),
            )
        )
        incomplete = [w for w in windows if not w.get("complete", True)]
        if incomplete and keys:
            key = keys[0]
            section.header = [
                "incomplete window",
                "labelled",
                f"realized {key} (not judged)",
                f"estimated {key}",
            ]
            section.rows = [
                [
                    coverage.describe(w).split(":", 1)[0],
                    f"{w['n_labelled']:,} of {w['n_predictions']:,} "
                    f"({coverage.percent(float(w['coverage']))})",
                    _fmt(_headline(w.get("metrics")).get(key)),
                    _fmt(estimates.get(_time(w["start"]), {}).get(key)),
                ]
                for w in incomplete
            ]
        return section

    return _guard(title, build)


def estimated(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "day"
) -> Section:
    title = "Estimated performance"

    def build() -> Section:
        reference = _reference_week(store, model, start)
        if reference is None:
            return Section(title, empty="No data yet.")
        first, reference_end = reference
        out = _as_dict(
            estimate(
                store,
                model.name,
                reference_start=first,
                reference_end=reference_end,
                window=window,
                start=reference_end,
            )
        )
        windows = out["windows"]
        if not windows:
            return Section(title, empty="No predictions after the reference week to estimate.")
        keys = (
            list(_headline(windows[-1].get("estimated")))[:1]
            or list(_headline(windows[0].get("estimated")))[:1]
        )
        if not keys:
            return Section(title, empty="The estimator gave no metric for these windows.")
        key = keys[0]
        est = [(_time(w["start"]), _headline(w.get("estimated")).get(key)) for w in windows]
        shades, legend = coverage.shades(
            windows,
            lambda w: _time(w["start"]),
            lambda w: _time(w["end"]),
            {t: f"{key} {_fmt(v)}" for t, v in est if v is not None},
        )
        real = coverage.series(
            "realized",
            windows,
            lambda w: _time(w["start"]),
            lambda w: _headline(w.get("realized")).get(key),
            key,
        )
        return Section(
            title,
            note=(
                f"{key} estimated without labels (CBPE calibrated on the labelled week from "
                f"{first:%d %b}), beside the realized value where labels arrived; a window "
                "with incomplete labels is shaded and its realized value hollow, not judged."
            ),
            charts=[
                (
                    key,
                    charts.line_chart(
                        [charts.Series("estimated", est), real],
                        x=charts.Axis(time=True),
                        height=200,
                        shades=shades,
                        shade_legend=legend,
                    ),
                )
            ],
        )

    return _guard(title, build)


def segment_performance(store: Store, model: ModelOut, start: dt.datetime | None) -> Section:
    title = "Performance per segment"
    if not model.segments:
        return Section(title, empty="The model declares no segment columns.")

    def build() -> Section:
        keys = sorted(read(store, lambda s: ingestion.list_segments(s, model.name)))[:MAX_SEGMENTS]
        if not keys:
            return Section(title, empty="No per-segment data is stored yet.")
        rows = []
        names: list[str] = []
        for key in keys:
            out = _as_dict(realized(store, model.name, window="week", start=start, segment=key))
            complete = [w for w in out["windows"] if w.get("metrics") and w.get("complete")]
            n = sum(w["n_predictions"] for w in out["windows"])
            latest = complete[-1] if complete else None
            values = _headline(latest["metrics"]) if latest else {}
            names = names or list(values)[:4]
            shown = [
                _fmt(values.get(k)) if latest and coverage.judged(latest, k) else "-" for k in names
            ]
            week = (
                f"{dt.datetime.fromtimestamp(_time(latest['start']), dt.UTC):%d %b}"
                if latest
                else "none complete"
            )
            rows.append([key, f"{n:,}", week, *shown])
        return Section(
            title,
            header=["segment", "predictions", "week", *names],
            rows=rows,
            note=(
                "Metrics of each segment's latest complete week (enough of its predictions "
                "labelled); '-' where a metric has fewer rows than its minimum."
            ),
        )

    return _guard(title, build)


def fairness(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "day"
) -> Section:
    title = "Fairness"
    if not model.segments:
        return Section(
            title, empty="Fairness is measured across segment columns; the model declares none."
        )

    def build() -> Section:
        section = Section(
            title,
            header=["attribute", "group", "predictions", "selection rate", "true positive rate"],
        )
        for attribute in model.segments[:3]:
            out = _as_dict(
                fairness_report(store, model.name, attribute=attribute, window=window, start=start)
            )
            windows = out["windows"]
            if not windows:
                continue
            shades, legend = coverage.shades(
                windows, lambda w: _time(w["start"]), lambda w: _time(w["end"])
            )
            section.charts.append(
                (
                    f"across {attribute} (positive class {out.get('positive_class')})",
                    charts.line_chart(
                        [
                            charts.Series(
                                "demographic parity difference",
                                [
                                    (_time(w["start"]), w.get("demographic_parity_difference"))
                                    for w in windows
                                ],
                            ),
                            coverage.series(
                                "equal opportunity difference",
                                windows,
                                lambda w: _time(w["start"]),
                                lambda w: w.get("equal_opportunity_difference"),
                                "equal_opportunity_difference",
                            ),
                        ],
                        x=charts.Axis(time=True),
                        height=180,
                        shades=shades,
                        shade_legend=legend,
                    ),
                )
            )
            for group, rates in sorted((windows[-1].get("groups") or {}).items()):
                section.rows.append(
                    [
                        attribute,
                        group,
                        f"{rates.get('n', 0):,}",
                        _fmt(rates.get("selection_rate")),
                        _fmt(rates.get("true_positive_rate")),
                    ]
                )
        if not section.charts:
            section.empty = "No prediction rows are stored for this model."
        else:
            section.note = (
                "The table is the latest day. Equal opportunity reads labels: a day with "
                "incomplete labels is shaded and its value hollow, not judged."
            )
        return section

    return _guard(title, build)


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
                            _fmt(result.a.mean),
                            _fmt(result.b.mean),
                            _fmt(result.relative_change),
                            _fmt(result.p_value),
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

    return _guard(title, build)


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

    return _guard(title, build)


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
                _fmt(v.days_to_drift),
                _fmt(v.days_watched),
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

    return _guard(title, build)


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
