"""The methods `vigil.Client` had before its sub-clients, kept for one release: each warns
(DeprecationWarning) and calls its new home, e.g. `client.get_monitor(name)` is
`client.monitors.get(name)`. `client.alerts(...)`, `client.kpis(...)` and
`client.performance(...)` work the same way (see `areas.common.FormerMethod`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil.client.areas.common import deprecated

FORMER_METHODS: dict[str, tuple[str, str]] = {
    "windows": ("data", "windows"),
    "segments": ("data", "segments"),
    "profile": ("data", "profile"),
    "predictions": ("data", "predictions"),
    "estimated_performance": ("performance", "estimated"),
    "fairness": ("performance", "fairness"),
    "segment_performance": ("performance", "segments"),
    "kpi_series": ("kpis", "series"),
    "compare_kpi": ("kpis", "compare"),
    "save_monitor": ("monitors", "save"),
    "create_monitor": ("monitors", "create"),
    "update_monitor": ("monitors", "update"),
    "get_monitor": ("monitors", "get"),
    "list_monitors": ("monitors", "list"),
    "delete_monitor": ("monitors", "delete"),
    "apply_monitors": ("monitors", "apply"),
    "run_monitors": ("monitors", "run"),
    "list_channels": ("channels", "list"),
    "save_channel": ("channels", "save"),
    "delete_channel": ("channels", "delete"),
    "get_alert": ("alerts", "get"),
    "ack_alert": ("alerts", "ack"),
    "resolve_alert": ("alerts", "resolve"),
    "version_comparison": ("registry", "compare_versions"),
    "watch_run": ("runs", "watch"),
}
"""Former `Client` method -> (sub-client, its method)."""

CALLABLE_AREAS: dict[str, str] = {"alerts": "list", "kpis": "list", "performance": "realized"}
"""Sub-clients named like a former method; calling one runs this method of it."""


def _alias(old: str, area: str, method: str) -> Callable[..., Any]:
    def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
        deprecated(old, f"{area}.{method}")
        return getattr(getattr(self, area), method)(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: use `client.{area}.{method}(...)`."
    return alias


class FormerMethods:
    """Mixed into `vigil.Client`: the former top-level methods, as warning aliases."""

    windows = _alias("windows", "data", "windows")
    segments = _alias("segments", "data", "segments")
    profile = _alias("profile", "data", "profile")
    predictions = _alias("predictions", "data", "predictions")
    estimated_performance = _alias("estimated_performance", "performance", "estimated")
    fairness = _alias("fairness", "performance", "fairness")
    segment_performance = _alias("segment_performance", "performance", "segments")
    kpi_series = _alias("kpi_series", "kpis", "series")
    compare_kpi = _alias("compare_kpi", "kpis", "compare")
    save_monitor = _alias("save_monitor", "monitors", "save")
    create_monitor = _alias("create_monitor", "monitors", "create")
    update_monitor = _alias("update_monitor", "monitors", "update")
    get_monitor = _alias("get_monitor", "monitors", "get")
    list_monitors = _alias("list_monitors", "monitors", "list")
    delete_monitor = _alias("delete_monitor", "monitors", "delete")
    apply_monitors = _alias("apply_monitors", "monitors", "apply")
    run_monitors = _alias("run_monitors", "monitors", "run")
    list_channels = _alias("list_channels", "channels", "list")
    save_channel = _alias("save_channel", "channels", "save")
    delete_channel = _alias("delete_channel", "channels", "delete")
    get_alert = _alias("get_alert", "alerts", "get")
    ack_alert = _alias("ack_alert", "alerts", "ack")
    resolve_alert = _alias("resolve_alert", "alerts", "resolve")
    version_comparison = _alias("version_comparison", "registry", "compare_versions")
    watch_run = _alias("watch_run", "runs", "watch")
