"""Realized metrics drawn honestly: a window whose labels are incomplete (its `complete` flag in
the report's JSON, docs/performance.md) is shaded with its coverage and its values drawn as
hollow markers, never joined to the line as a drop; its estimated figure goes beside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vigil.server.dashboard import charts

Window = Mapping[str, Any]


def judged(window: Window, metric: str) -> bool:
    """Whether the window's realized `metric` may be judged: the window is complete and the
    metric is not below its minimum."""
    return bool(window.get("complete", True)) and metric not in (window.get("below_minimum") or {})


def percent(share: float) -> str:
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def series(
    name: str,
    windows: Sequence[Window],
    x: Callable[[Window], float],
    value: Callable[[Window], float | None],
    metric: str,
) -> charts.Series:
    """`value` per window as a line over the judged windows and hollow markers elsewhere."""
    points = [(x(w), value(w) if judged(w, metric) else None) for w in windows]
    hollow = [(x(w), value(w)) for w in windows if not judged(w, metric)]
    return charts.Series(name, points, hollow=hollow)


def _day(window: Window) -> str:
    start = window["start"]
    moment = start if isinstance(start, dt.datetime) else dt.datetime.fromisoformat(str(start))
    return f"{moment:%d %b %H:%M}" if moment.hour or moment.minute else f"{moment:%d %b}"


def describe(window: Window) -> str:
    """ "06 Jan: 9 of 5,468 predictions labelled (0.2%), below ..." (the window's reason)."""
    reason = window.get("incomplete_reason") or "incomplete"
    return f"{_day(window)}: incomplete, {reason}; its realized metrics are not judged"


def shades(
    windows: Sequence[Window],
    x: Callable[[Window], float],
    end: Callable[[Window], float],
    estimated: Mapping[float, str] | None = None,
) -> tuple[list[charts.Shade], str]:
    """A shade per incomplete window (its tooltip says why, and the estimate when known), and
    the legend entry: "incomplete: 0.2% labelled" (the coverages' range when several)."""
    out = []
    shares = []
    for w in windows:
        if w.get("complete", True):
            continue
        label = describe(w)
        if estimated and x(w) in estimated:
            label += f"; estimated {estimated[x(w)]}"
        out.append(charts.Shade(x(w), end(w), label))
        shares.append(float(w.get("coverage") or 0.0))
    if not shares:
        return [], ""
    low, high = min(shares), max(shares)
    span = percent(low) if percent(low) == percent(high) else f"{percent(low)}-{percent(high)}"
    return out, f"incomplete: {span} labelled"
