"""Monitors for `vigil demo`: defined on the demo's model, evaluated over its week, alerts shown.

The demo calls `run_demo_monitors` after logging its week; it returns the text to print.
"""

from __future__ import annotations

import datetime as dt

from vigil.monitor.alerts import Alert, list_alerts
from vigil.monitor.api import apply, save_baseline_profile
from vigil.monitor.evaluate import backfill
from vigil.profile import DatasetProfile
from vigil.store.core import Store

DEMO_FILE = """
monitors:
  - name: {model}-data-drift
    kind: data_drift
    target: {{model: {model}}}
    window: day
    baseline: {{type: profile, artifact: "{artifact}"}}
    threshold: {{type: static, upper: 0.25}}
    severity: critical
  - name: {model}-prediction-drift
    kind: prediction_drift
    target: {{model: {model}}}
    window: day
    baseline: {{type: profile, artifact: "{artifact}"}}
  - name: {model}-new-categories
    kind: new_categories
    target: {{model: {model}}}
    window: day
    baseline: {{type: profile, artifact: "{artifact}"}}
    threshold: {{type: static, upper: 0.01}}
  - name: {model}-missing-values
    kind: missing_values
    target: {{model: {model}}}
    window: day
    threshold: {{type: static, upper: 0.15}}
  - name: {model}-no-data
    kind: no_data
    target: {{model: {model}}}
    severity: critical
"""


def demo_file(model: str, artifact: str) -> str:
    return DEMO_FILE.format(model=model, artifact=artifact)


def run_demo_monitors(
    store: Store,
    model: str,
    reference: DatasetProfile,
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[list[Alert], str]:
    """Define the demo's monitors (training data as the reference), evaluate [start, end),
    and return the alerts with a text report of them."""
    artifact = save_baseline_profile(store, f"{model}-training", reference)
    text = demo_file(model, artifact)
    apply(store, text)
    results = backfill(store, start, end, now=end, progress=None)
    with store.session() as session:
        alerts = list_alerts(session)
    lines = [
        f"== Monitors: {len(text.split('- name:')) - 1} defined, "
        f"{len(results)} windows evaluated, {len(alerts)} alerts"
    ]
    for alert in sorted(alerts, key=lambda a: (a.first_window_start, a.monitor)):
        lines.append(
            f"  [{alert.severity}] {alert.monitor}: since {alert.first_window_start:%a %d %b %H:%M}"
            f" ({alert.n_windows} windows, {alert.state}): {alert.message}"
        )
    return alerts, "\n".join(lines)
