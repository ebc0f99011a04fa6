"""What the alert page shows of one alert, read through the services: its monitored value
around the alert against the allowed range (`alert_charts`), its details as words, and links to
the pages about what it concerns (the heatmap cell, the features, the segment, the version),
each only when that page exists for it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from vigil.errors import VigilError
from vigil.ingestion import service as ingestion
from vigil.monitor import alerts as alert_service
from vigil.monitor.alert_context import AlertContext, alert_context
from vigil.monitor.alerts import Alert
from vigil.monitor.definitions import Monitor
from vigil.monitor.reading import describe_baseline, drift_cells
from vigil.monitor.specs import LearnedThreshold, StaticThreshold, Target
from vigil.monitor.window_stats import GRANULARITY_SECONDS
from vigil.registry.service import Registry
from vigil.server.dashboard.alert_charts import OnsetMark, alert_chart, allowed, exact
from vigil.server.dashboard.heatmap import COARSER, zoom_link
from vigil.server.dashboard.loaders import compared_columns, read
from vigil.store.core import Store

MEASURES: Mapping[str, str] = {
    "data_drift": "columns drifted (share)",
    "prediction_drift": "predictions drifted (share)",
    "training_data_drift": "columns drifted (share)",
    "missing_values": "most missing (share)",
    "new_categories": "new categories (share)",
    "volume": "rows per window",
    "no_data": "rows per window",
    "frequency": "uploads per window",
    "validation": "failed checks (count)",
    "attribution_drift": "attribution distance",
    "feature_importance_change": "rank correlation",
    "training_quality": "largest metric regression",
}
"""The y axis of each kind's value, with its unit (a share is 0 to 1), short enough to stand
along the chart's height; the kinds measuring a chosen metric or KPI name it from the monitor's
options (`measure_label`)."""

MAX_FEATURE_LINKS = 8


def measure_label(kind: str, monitor: Monitor | None) -> str:
    """What the monitor's value is, with its unit, for the chart's y axis."""
    options = monitor.options if monitor is not None else {}
    if kind in ("realized_performance", "estimated_performance"):
        metric = str(options.get("metric") or "accuracy")
        return f"{kind.split('_')[0]} {metric}"
    if kind == "fairness":
        return str(options.get("metric") or "demographic_parity_difference")
    if kind == "kpi_change":
        kpi = str(options.get("kpi") or "KPI")
        if options.get("compare") == "previous":
            return f"{kpi} change (ratio)"
        return f"{kpi} ({options.get('aggregate') or 'mean'} per window)"
    return MEASURES.get(kind, f"{kind} value")


def describe_threshold(monitor: Monitor) -> str:
    """The monitor's threshold in words."""
    threshold = monitor.effective_threshold()
    if isinstance(threshold, StaticThreshold):
        return f"fixed: {allowed(threshold.lower, threshold.upper)}"
    assert isinstance(threshold, LearnedThreshold)
    sides = {"above": "above", "below": "below", "both": "above or below"}[threshold.direction]
    return (
        f"learned per window: the baseline's mean {sides} {threshold.k:g} standard deviations "
        f"breaches (from at least {threshold.min_windows} baseline windows)"
    )


def involved_columns(alert: Alert) -> list[str]:
    """The columns the alert is about, as its details name them: the drifted columns, those
    with new categories, the one with the most missing values."""
    details = alert.details
    found: list[str] = [str(c) for c in details.get("drifted_columns") or ()]
    new_values = details.get("new_values")
    if isinstance(new_values, dict):
        found += [str(c) for c, values in new_values.items() if values]
    missing = details.get("missing_share")
    if isinstance(missing, dict) and missing:
        shares = {str(c): v for c, v in missing.items() if isinstance(v, int | float)}
        if shares:
            found.append(max(shares, key=lambda c: shares[c]))
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    what: str


@dataclass(frozen=True)
class Fact:
    term: str
    value: str


@dataclass(frozen=True)
class ColumnRow:
    """One column of a drift alert's details."""

    name: str
    method: str
    statistic: str
    p_value: str
    effect: str
    drifted: bool


@dataclass
class AlertView:
    alert: Alert
    target: Target | None
    measure: str
    chart: Markup
    facts: list[Fact]
    columns: list[ColumnRow]
    links: list[Link]
    raw_details: str
    results: int
    monitor_missing: bool = False
    notes: list[str] = field(default_factory=list)


def _target(alert: Alert, monitor: Monitor | None) -> Target | None:
    if monitor is not None and monitor.target.key == alert.target:
        return monitor.target
    return None


def _percent(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else str(value)


def detail_facts(alert: Alert, monitor: Monitor | None, measure: str) -> list[Fact]:
    """The alert's details as terms and values, for the kinds' known keys."""
    details = alert.details
    facts = [Fact("Statistic", f"{measure}: {exact(alert.value)} in the last window")]
    if "lower" in details or "upper" in details:
        facts.append(
            Fact("Allowed in the last window", allowed(details.get("lower"), details.get("upper")))
        )
    if monitor is not None:
        facts.append(Fact("Threshold", describe_threshold(monitor)))
        facts.append(Fact("Baseline", describe_baseline(monitor)))
        facts.append(Fact("Window", monitor.window))
    drifted = details.get("drifted_columns")
    if isinstance(drifted, list):
        facts.append(Fact("Drifted columns", ", ".join(map(str, drifted)) or "none"))
    missing = details.get("missing_share")
    if isinstance(missing, dict):
        shown = sorted(
            ((str(c), v) for c, v in missing.items() if isinstance(v, int | float) and v > 0),
            key=lambda item: -item[1],
        )
        text = ", ".join(f"{c} {_percent(v)}" for c, v in shown) or "none missing"
        facts.append(Fact("Missing share", text))
    new_values = details.get("new_values")
    new_share = details.get("new_share") or {}
    if isinstance(new_values, dict):
        text = "; ".join(
            f"{c}: {', '.join(map(str, v))} ({_percent(new_share.get(c, 0))} of rows)"
            for c, v in new_values.items()
            if v
        )
        facts.append(Fact("New categories", text or "none"))
    for key, term in (
        ("n_predictions", "Predictions"),
        ("n_labelled", "Labelled"),
        ("n_rows", "Rows"),
        ("kpi", "KPI"),
        ("current", "This window"),
        ("previous", "Window before"),
        ("attribute", "Attribute"),
        ("method", "Method"),
        ("reference", "Reference"),
        ("status", "Status"),
        ("incomplete_reason", "Why incomplete"),
    ):
        value = details.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            facts.append(Fact(term, exact(value) if isinstance(value, float) else str(value)))
    if isinstance(details.get("coverage"), int | float):
        facts.append(Fact("Label coverage", _percent(details["coverage"])))
    metrics = details.get("metrics")
    if isinstance(metrics, dict) and metrics:
        facts.append(Fact("Metrics", ", ".join(f"{k} {exact(v)}" for k, v in metrics.items())))
    failures = details.get("failures")
    if isinstance(failures, list):
        facts.append(Fact("Failed checks", "; ".join(map(str, failures[:20])) or "none"))
    return facts


def column_rows(alert: Alert) -> list[ColumnRow]:
    columns = alert.details.get("columns")
    if not isinstance(columns, dict):
        return []
    rows = []
    for name, figures in columns.items():
        if not isinstance(figures, dict):
            continue
        effect = ""
        if figures.get("effect_method"):
            effect = (
                f"{figures['effect_method']} {exact(figures.get('effect_size'))} "
                f"(bar {exact(figures.get('effect_threshold'))})"
            )
        rows.append(
            ColumnRow(
                str(name),
                str(figures.get("method", "")),
                exact(figures.get("statistic")),
                exact(figures.get("p_value")),
                effect,
                bool(figures.get("drifted")),
            )
        )
    return sorted(rows, key=lambda r: (not r.drifted, r.name))


def _version_numbers(
    store: Store, alert: Alert, target: Target | None, end: dt.datetime
) -> set[str]:
    """The version strings of the windows the alert read."""
    model = alert.target.split("@")[0].split("[")[0]
    if target is not None and target.version is not None:
        return {target.version}
    windows = read(
        store,
        lambda s: ingestion.list_windows(
            s, model, start=alert.first_window_start, end=end, limit=5000
        ),
    )
    return {w.version for w in windows if w.version}


def _registry_links(
    store: Store, model_name: str, registry_model: str | None, versions: set[str], alias: str | None
) -> list[Link]:
    if not registry_model:
        return []
    registry = Registry(store)
    try:
        registered = registry.get_model(registry_model)
        known = {v.version for v in registry.list_versions(registry_model)}
    except VigilError:
        return []
    numbers: set[int] = set()
    for version in versions:
        digits = version.removeprefix("v")
        if digits.isdigit() and int(digits) in known:
            numbers.add(int(digits))
    if alias is not None and alias in registered.aliases:
        numbers.add(registered.aliases[alias])
    base = f"/ui/registry/{quote(registry_model, safe='')}"
    return [
        Link(f"{registry_model} v{n}", f"{base}?{urlencode({'compare': n})}#compare", "version")
        for n in sorted(numbers)
    ]


def _window_end(monitor: Monitor | None, alert: Alert) -> dt.datetime:
    if monitor is not None:
        return monitor.grid.next(alert.last_window_start)
    return alert.last_window_start + dt.timedelta(days=1)


def _links(
    store: Store, alert: Alert, monitor: Monitor | None, target: Target | None, end: dt.datetime
) -> list[Link]:
    model_name = alert.target.split("@")[0].split("[")[0]
    try:
        model = read(store, lambda s: ingestion.get_model(s, model_name))
    except VigilError:
        return []
    base = f"/ui/models/{quote(model_name, safe='')}"
    links = [Link(model_name, base, "model")]
    columns = set(compared_columns(model))
    features = [c for c in involved_columns(alert) if c in columns][:MAX_FEATURE_LINKS]
    granularity = next(
        (
            g
            for g, seconds in GRANULARITY_SECONDS.items()
            if monitor is not None and monitor.window_seconds == seconds
        ),
        None,
    )
    if features and granularity is not None:
        seconds = GRANULARITY_SECONDS[granularity]
        start = alert.last_window_start
        found = read(
            store,
            lambda s: drift_cells(
                s, model_name, seconds, start, start + dt.timedelta(seconds=seconds)
            ),
        )
        cell = found.cells.get(start)
        if cell is not None:
            zoomed = zoom_link(model_name, granularity, start, COARSER[granularity])
            links.append(
                Link(
                    f"{granularity}s of the {COARSER[granularity]} of {start:%Y-%m-%d}",
                    zoomed,
                    "heatmap",
                )
            )
            # The same page with the cell opened (vigil.js reads ?cell= and &start=).
            page, anchor = zoomed.split("#", 1)
            for feature in features:
                if feature in cell.columns:
                    opened = urlencode({"cell": feature, "start": f"{start:%Y-%m-%dT%H:%M:%SZ}"})
                    links.append(
                        Link(
                            f"{feature}, {start:%Y-%m-%d %H:%M}",
                            f"{page}&{opened}#{anchor}",
                            "heatmap cell",
                        )
                    )
    for feature in features:
        links.append(Link(feature, f"{base}/features/{quote(feature, safe='')}", "feature"))
    if target is not None and target.segment_key:
        segments = read(store, lambda s: ingestion.list_segments(s, model_name))
        if target.segment_key in segments:
            links.append(Link(target.segment_key, f"{base}#segments", "segment"))
    versions = _version_numbers(store, alert, target, end)
    alias = target.alias if target is not None else None
    links += _registry_links(store, model_name, model.registry_model, versions, alias)
    return links


def _onset_mark(alert: Alert) -> OnsetMark | None:
    onset = alert.onset
    if onset is None or onset.start is None:
        return None
    return OnsetMark(onset.start, onset.low, onset.high)


def load_alert_view(store: Store, alert_id: int) -> AlertView:
    """The alert, with its history, and what its page shows beside it."""

    def load(session: Any) -> tuple[Alert, AlertContext]:
        return alert_service.get_alert(session, alert_id), alert_context(session, alert_id)

    alert, context = read(store, load)
    monitor = context.monitor
    target = _target(alert, monitor)
    measure = measure_label(alert.kind, monitor)
    end = _window_end(monitor, alert)
    chart = alert_chart(
        context.results,
        y_label=measure,
        alert_span=(alert.first_window_start, end),
        alert_label=f"alert #{alert.id}, {alert.n_windows} window(s)",
        severity=alert.severity,
        onset=_onset_mark(alert),
    )
    return AlertView(
        alert=alert,
        target=target,
        measure=measure,
        chart=chart,
        facts=detail_facts(alert, monitor, measure),
        columns=column_rows(alert),
        links=_links(store, alert, monitor, target, end),
        raw_details=json.dumps(
            {**alert.details, **({"onset": alert.onset.to_dict()} if alert.onset else {})},
            indent=2,
            sort_keys=True,
            default=str,
        ),
        results=len(context.results),
        monitor_missing=monitor is None,
    )
