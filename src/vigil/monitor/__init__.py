"""Monitors and alerts: definitions, kinds, evaluation per window, alerts and their channels."""

from __future__ import annotations

import sys

from vigil.events.channels.definitions import Channel
from vigil.events.delivery import deliver_pending, list_deliveries
from vigil.events.settings import MonitorSettings
from vigil.monitor.alerts import Alert, AlertEvent, acknowledge, get_alert, list_alerts, resolve
from vigil.monitor.api import (
    Change,
    Plan,
    apply,
    delete_channel,
    delete_monitor,
    get_monitor,
    list_channels,
    list_monitors,
    parse_file,
    save_baseline_profile,
    save_channel,
    save_monitor,
)
from vigil.monitor.definitions import Monitor, MonitorFile
from vigil.monitor.evaluate import backfill, evaluate_due
from vigil.monitor.results import WindowResult
from vigil.monitor.scheduler import Scheduler, tick

__all__ = [
    "Alert",
    "AlertEvent",
    "Change",
    "Channel",
    "Monitor",
    "MonitorFile",
    "MonitorSettings",
    "Plan",
    "Scheduler",
    "WindowResult",
    "acknowledge",
    "apply",
    "backfill",
    "delete_channel",
    "delete_monitor",
    "deliver_pending",
    "evaluate_due",
    "get_alert",
    "get_monitor",
    "list_alerts",
    "list_channels",
    "list_deliveries",
    "list_monitors",
    "parse_file",
    "resolve",
    "save_baseline_profile",
    "save_channel",
    "save_monitor",
    "tick",
]

# `vigil.monitors` is this package (vigil's lazy exports read it as `vigil.monitor.monitors`).
monitors = sys.modules[__name__]
