"""The model page's performance sections: realized and estimated performance, performance per
segment and fairness (vigil.performance), each through the service its /api/v1 route calls.
Incomplete windows are drawn as such (`coverage`), with the estimate beside them."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from vigil.api.specs import ModelOut
from vigil.errors import VigilError
from vigil.ingestion import queries
from vigil.ingestion import service as ingestion
from vigil.performance.breakdown import fairness_report
from vigil.performance.service import estimated as estimate
from vigil.performance.service import realized
from vigil.server.dashboard import charts, coverage
from vigil.server.dashboard.loaders import read
from vigil.server.dashboard.section_base import Section, as_dict, fmt, guard, time_of
from vigil.store.core import Store

HEADLINE = ("roc_auc", "accuracy", "f1", "precision", "recall", "log_loss", "mae", "rmse", "r2")
UNIT_SCALE = frozenset({"roc_auc", "accuracy", "f1", "precision", "recall", "r2"})
"""Metrics on a 0-1 scale (the axis says so); the others are in the target's units."""
MAX_SEGMENTS = 20
REFERENCE_DAYS = 7
"""Estimated performance is calibrated on the model's first week of labelled predictions."""


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
    first = min(time_of(w["start"]) for w in incomplete)
    try:
        out = as_dict(
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
    return {time_of(w["start"]): _headline(w.get("estimated")) for w in out["windows"]}


def _min_coverage(windows: list[dict[str, Any]]) -> str:
    """The model's min_label_coverage as the windows carry it ("50%")."""
    share = next((w.get("min_label_coverage") for w in windows), None)
    return coverage.percent(float(share)) if share is not None else "the model's minimum"


def performance(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "day"
) -> Section:
    title = "Realized performance"

    def build() -> Section:
        out = as_dict(realized(store, model.name, window=window, start=start))
        windows = out["windows"]
        if not windows:
            return Section(title, empty="No prediction rows are stored for this model.")
        keys: list[str] = []
        for w in windows:
            keys += [k for k in _headline(w.get("metrics")) if k not in keys]
        keys = [k for k in HEADLINE if k in keys]
        estimates = _estimates_of(store, model, start, windows, window)
        shades, legend = coverage.shades(
            windows,
            lambda w: time_of(w["start"]),
            lambda w: time_of(w["end"]),
            {
                t: ", ".join(f"{k} {fmt(v)}" for k, v in e.items() if k in keys)
                for t, e in estimates.items()
            },
        )
        section = Section(
            title,
            choose="metric",
            note=(
                f"Per {out['window']}, from labelled predictions ({out.get('task') or ''}). A window with "
                f"less than {_min_coverage(windows)} of its predictions labelled is incomplete: "
                "shaded, its values hollow and not judged."
            ),
        )
        for k in keys:
            section.charts.append(
                (
                    k,
                    charts.line_chart(
                        [
                            coverage.series(
                                k,
                                windows,
                                lambda w: time_of(w["start"]),
                                lambda w, k=k: _headline(w.get("metrics")).get(k),  # type: ignore[misc]
                                k,
                            )
                        ],
                        x=charts.Axis(time=True, label=f"{out['window']} (UTC)"),
                        y_label=f"{k} (0-1)" if k in UNIT_SCALE else k,
                        height=200,
                        shades=shades,
                        shade_legend=legend,
                    ),
                )
            )
        if not keys:
            section.empty = "No window has labels yet, so no metric is realized."
        section.charts.append(
            (
                "label coverage",
                charts.line_chart(
                    [
                        charts.Series(
                            "coverage", [(time_of(w["start"]), w.get("coverage")) for w in windows]
                        )
                    ],
                    x=charts.Axis(time=True, label=f"{out['window']} (UTC)"),
                    y_label="share labelled (0-1)",
                    y_min=0,
                    y_max=1,
                    height=160,
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
                    fmt(_headline(w.get("metrics")).get(key)),
                    fmt(estimates.get(time_of(w["start"]), {}).get(key)),
                ]
                for w in incomplete
            ]
        return section

    return guard(title, build)


def estimated(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "day"
) -> Section:
    title = "Estimated performance"

    def build() -> Section:
        reference = _reference_week(store, model, start)
        if reference is None:
            return Section(title, empty="No data yet.")
        first, reference_end = reference
        out = as_dict(
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
        est = [(time_of(w["start"]), _headline(w.get("estimated")).get(key)) for w in windows]
        shades, legend = coverage.shades(
            windows,
            lambda w: time_of(w["start"]),
            lambda w: time_of(w["end"]),
            {t: f"{key} {fmt(v)}" for t, v in est if v is not None},
        )
        real = coverage.series(
            "realized",
            windows,
            lambda w: time_of(w["start"]),
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
                        x=charts.Axis(time=True, label=f"{out.get('window') or window} (UTC)"),
                        y_label=f"{key} (0-1)" if key in UNIT_SCALE else key,
                        height=200,
                        shades=shades,
                        shade_legend=legend,
                    ),
                )
            ],
        )

    return guard(title, build)


def segment_performance(
    store: Store, model: ModelOut, start: dt.datetime | None, window: str = "week"
) -> Section:
    """Each segment's metrics in its latest complete `window` (the page's period)."""
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
            out = as_dict(realized(store, model.name, window=window, start=start, segment=key))
            complete = [w for w in out["windows"] if w.get("metrics") and w.get("complete")]
            n = sum(w["n_predictions"] for w in out["windows"])
            latest = complete[-1] if complete else None
            values = _headline(latest["metrics"]) if latest else {}
            names = names or list(values)[:4]
            shown = [
                fmt(values.get(k)) if latest and coverage.judged(latest, k) else "-" for k in names
            ]
            since = (
                f"{dt.datetime.fromtimestamp(time_of(latest['start']), dt.UTC):%Y-%m-%d}"
                if latest
                else "none complete"
            )
            rows.append([key, f"{n:,}", since, *shown])
        return Section(
            title,
            header=["segment", "predictions", f"{window} from", *names],
            rows=rows,
            note=(
                f"Metrics of each segment's latest complete {window} (enough of its predictions "
                "labelled); '-' where a metric has fewer rows than its minimum."
            ),
        )

    return guard(title, build)


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
            out = as_dict(
                fairness_report(store, model.name, attribute=attribute, window=window, start=start)
            )
            windows = out["windows"]
            if not windows:
                continue
            shades, legend = coverage.shades(
                windows, lambda w: time_of(w["start"]), lambda w: time_of(w["end"])
            )
            section.charts.append(
                (
                    f"across {attribute} (positive class {out.get('positive_class')})",
                    charts.line_chart(
                        [
                            charts.Series(
                                "demographic parity difference",
                                [
                                    (time_of(w["start"]), w.get("demographic_parity_difference"))
                                    for w in windows
                                ],
                            ),
                            coverage.series(
                                "equal opportunity difference",
                                windows,
                                lambda w: time_of(w["start"]),
                                lambda w: w.get("equal_opportunity_difference"),
                                "equal_opportunity_difference",
                            ),
                        ],
                        x=charts.Axis(time=True, label=f"{window} (UTC)"),
                        y_label="difference between groups",
                        height=200,
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
                        fmt(rates.get("selection_rate")),
                        fmt(rates.get("true_positive_rate")),
                    ]
                )
        if not section.charts:
            section.empty = "No prediction rows are stored for this model."
        else:
            section.note = (
                f"The table is the latest {window}. Equal opportunity reads labels: a {window} with "
                "incomplete labels is shaded and its value hollow, not judged."
            )
        return section

    return guard(title, build)
