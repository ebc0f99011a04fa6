"""The alert page's chart, as SVG drawn on the server: a monitor's stored value per window
against the range it was judged by (a static threshold or the band learned for each window),
with the alert's windows highlighted and the estimated onset of the change marked.

Built on `chart_parts` (coordinates, ticks, labels that never overlap, the legend's flow, axis
titles, the scrolling box) and `charts`' severity colours. Every element a reader may
point at carries a `<title>` with its exact figures; breached windows are square markers, the
others round, so the two are told apart without colour.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from vigil.monitor.alert_context import ResultPoint
from vigil.server.dashboard.chart_parts import (
    FONT_PX,
    axis_titles,
    boxed,
    coord,
    fmt,
    left_margin,
    nice_ticks,
    text_width,
    time_label,
    x_tick_texts,
)
from vigil.server.dashboard.charts import SEVERITY_COLOURS

VALUE_COLOUR = "#2563eb"
BREACH_COLOUR = "#b91c1c"
BOUND_COLOUR = "#1d4ed8"
ONSET_COLOUR = "#7c3aed"

_Scale = Callable[[float], float]
"""A coordinate function: a value (or a timestamp) to pixels."""


@dataclass(frozen=True)
class OnsetMark:
    """When the change most likely began, and the interval it lies in (None: not estimated)."""

    start: dt.datetime
    low: dt.datetime | None
    high: dt.datetime | None


def exact(value: float | None) -> str:
    """A value as a tooltip gives it: six significant digits, never rounded to a tick."""
    return "no value" if value is None else f"{value:.6g}"


def allowed(lower: float | None, upper: float | None) -> str:
    """The range a value was allowed, in words."""
    if lower is not None and upper is not None:
        return f"allowed {exact(lower)} to {exact(upper)}"
    if upper is not None:
        return f"allowed up to {exact(upper)}"
    if lower is not None:
        return f"allowed from {exact(lower)}"
    return "no bound (too few baseline windows)"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


TIME_STEPS = (3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 2 * 86_400, 7 * 86_400)


def time_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Whole hours or days (UTC) inside [lo, hi], at most `most` of them (weeks beyond, then
    every n-th week), so each tick names a window boundary."""
    span = hi - lo
    step = next((s for s in TIME_STEPS if span / s <= most), 0)
    if step == 0:
        step = 7 * 86_400 * math.ceil(span / (7 * 86_400 * most))
    first = math.ceil(lo / step) * step
    return [float(t) for t in range(int(first), int(hi) + 1, step)]


def alert_chart(
    points: Sequence[ResultPoint],
    *,
    y_label: str,
    alert_span: tuple[dt.datetime, dt.datetime] | None = None,
    alert_label: str = "alert windows",
    severity: str = "warning",
    onset: OnsetMark | None = None,
    width: int = 720,
    height: int = 280,
) -> Markup:
    """The value of each window (at its middle) against its allowed range, over the windows'
    own span; `alert_span` (first window start, last window end) is shaded as the alert."""
    values = [p.value for p in points if _finite(p.value)]
    bounds = [b for p in points for b in (p.lower, p.upper) if _finite(b)]
    if not values and not bounds:
        return Markup('<p class="empty">The monitor stored no value around this alert.</p>')
    ys = [v for v in (*values, *bounds) if v is not None]
    y_lo, y_hi = min(ys), max(ys)
    if y_hi <= y_lo:
        pad = abs(y_lo) * 0.1 or 1.0
        y_lo, y_hi = y_lo - pad, y_hi + pad
    pad = (y_hi - y_lo) * 0.08
    y_lo, y_hi = y_lo - pad, y_hi + pad
    y_ticks = nice_ticks(y_lo, y_hi, 5)
    left, right = left_margin([fmt(t) for t in y_ticks]), 14
    legend_parts, top = _legend(left, width - right, severity, onset is not None)
    top += 6
    bottom = 2 * FONT_PX + 22
    height = max(height, top + bottom + 120)
    x_lo = min(p.start for p in points).timestamp()
    x_hi = max(p.end for p in points).timestamp()
    if x_hi <= x_lo:
        x_hi = x_lo + 3600
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(t: float) -> float:
        return left + plot_w * (t - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        v = min(max(v, y_lo), y_hi)
        return top + plot_h * (y_hi - v) / (y_hi - y_lo)

    parts = [
        f'<svg class="chart alert-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(y_label)} per window">',
        *legend_parts,
    ]
    for tick in y_ticks:
        yy = coord(py(tick))
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{yy}" y2="{yy}"/>'
            f'<text class="tick" x="{left - 5}" y="{coord(py(tick) + 4)}" text-anchor="end">'
            f"{fmt(tick)}</text>"
        )
    span = x_hi - x_lo
    axis_y = height - bottom
    x_ticks = [(px(t), time_label(t, span)) for t in time_ticks(x_lo, x_hi)]
    for x, _ in x_ticks:
        parts.append(
            f'<line class="grid" x1="{coord(x)}" x2="{coord(x)}" y1="{top}" y2="{axis_y + 4}"/>'
        )
    parts += x_tick_texts(x_ticks, left, width - right, axis_y + FONT_PX + 4)
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}"/>'
        f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{axis_y}"/>'
    )
    parts += axis_titles(
        "window (UTC)",
        y_label,
        left=left,
        right=width - right,
        top=top,
        bottom_y=axis_y,
        height=height,
    )
    if alert_span is not None:
        x0 = max(px(alert_span[0].timestamp()), float(left))
        x1 = min(px(alert_span[1].timestamp()), float(width - right))
        if x1 > x0:
            parts.append(
                f'<rect class="alert-window" x="{coord(x0)}" y="{top}" '
                f'width="{coord(x1 - x0)}" height="{plot_h}" '
                f'fill="{SEVERITY_COLOURS.get(severity, "#4b5563")}" fill-opacity="0.12">'
                f"<title>{escape(alert_label)}: {_stamp(alert_span[0])} to "
                f"{_stamp(alert_span[1])}</title></rect>"
            )
    parts.extend(_band(points, px, py))
    if onset is not None:
        parts.append(_onset(onset, px, top, axis_y, x_lo, x_hi))
    parts.extend(_values(points, px, py, axis_y))
    parts.append("</svg>")
    return boxed("".join(parts))


def _band(points: Sequence[ResultPoint], px: _Scale, py: _Scale) -> list[str]:
    """The allowed range of each window as one step-shaped polygon per run of bounded windows,
    and its edges as lines, each with its window's exact bounds."""
    parts: list[str] = []
    runs: list[list[ResultPoint]] = [[]]
    for p in points:
        if _finite(p.lower) or _finite(p.upper):
            runs[-1].append(p)
        elif runs[-1]:
            runs.append([])
    for run in (r for r in runs if r):
        top_edge, bottom_edge = [], []
        for p in run:
            x0, x1 = px(p.start.timestamp()), px(p.end.timestamp())
            hi = py(p.upper) if p.upper is not None and _finite(p.upper) else py(math.inf)
            lo = py(p.lower) if p.lower is not None and _finite(p.lower) else py(-math.inf)
            top_edge += [(x0, hi), (x1, hi)]
            bottom_edge += [(x0, lo), (x1, lo)]
        outline = " ".join(f"{coord(a)},{coord(b)}" for a, b in [*top_edge, *reversed(bottom_edge)])
        parts.append(
            f'<polygon class="band" points="{outline}"><title>allowed range, '
            f"{_stamp(run[0].start)} to {_stamp(run[-1].end)}</title></polygon>"
        )
    for p in points:
        a, b = coord(px(p.start.timestamp())), coord(px(p.end.timestamp()))
        for side, bound in (("upper", p.upper), ("lower", p.lower)):
            if bound is None or not _finite(bound):
                continue
            yy = coord(py(bound))
            parts.append(
                f'<line class="bound {side}" x1="{a}" x2="{b}" y1="{yy}" y2="{yy}" '
                f'stroke="{BOUND_COLOUR}" stroke-width="1.5" stroke-dasharray="4 2">'
                f"<title>{side} bound {exact(bound)} for the window from {_stamp(p.start)}"
                "</title></line>"
            )
    return parts


def _onset(onset: OnsetMark, px: _Scale, top: int, axis_y: int, x_lo: float, x_hi: float) -> str:
    at = onset.start.timestamp()
    words = f"the change most likely began {_stamp(onset.start)}"
    if onset.low is not None and onset.high is not None:
        words += f", between {_stamp(onset.low)} and {_stamp(onset.high)}"
    out = ""
    if onset.low is not None and onset.high is not None:
        a = px(max(onset.low.timestamp(), x_lo))
        b = px(min(onset.high.timestamp(), x_hi))
        if b > a:
            out += (
                f'<rect class="onset-interval" x="{coord(a)}" y="{top}" width="{coord(b - a)}" '
                f'height="{axis_y - top}" fill="{ONSET_COLOUR}" fill-opacity="0.08">'
                f"<title>{escape(words)}</title></rect>"
            )
    if x_lo <= at <= x_hi:
        x = coord(px(at))
        out += (
            f'<line class="onset" x1="{x}" x2="{x}" y1="{top}" y2="{axis_y}" '
            f'stroke="{ONSET_COLOUR}" stroke-width="2" stroke-dasharray="6 3">'
            f"<title>{escape(words)}</title></line>"
        )
    return out


def _values(points: Sequence[ResultPoint], px: _Scale, py: _Scale, axis_y: int) -> list[str]:
    """The value line (broken where a window has none) and one marker per window."""
    parts: list[str] = []
    segments: list[list[str]] = [[]]
    for p in points:
        if p.value is None or not _finite(p.value):
            segments.append([])
            continue
        middle = (p.start.timestamp() + p.end.timestamp()) / 2
        segments[-1].append(f"{coord(px(middle))},{coord(py(p.value))}")
    for seg in segments:
        if len(seg) > 1:
            parts.append(
                f'<polyline class="value-line" fill="none" stroke="{VALUE_COLOUR}" '
                f'stroke-width="1.8" points="{" ".join(seg)}"/>'
            )
    for p in points:
        middle = px((p.start.timestamp() + p.end.timestamp()) / 2)
        window = f"{_stamp(p.start)} to {_stamp(p.end)}"
        if p.value is None or not _finite(p.value):
            tip = f"{window}: no value ({p.message})" if p.message else f"{window}: no value"
            parts.append(
                f'<circle class="no-value" cx="{coord(middle)}" cy="{axis_y - 3}" r="2.5" '
                f'fill="#fff" stroke="#6b7280"><title>{escape(tip)}</title></circle>'
            )
            continue
        verdict = "breached" if p.breached else "within range"
        tip = f"{window}: {exact(p.value)} ({allowed(p.lower, p.upper)}; {verdict})"
        cy = py(p.value)
        if p.breached:
            parts.append(
                f'<rect class="point breached" x="{coord(middle - 4)}" y="{coord(cy - 4)}" '
                f'width="8" height="8" fill="{BREACH_COLOUR}" data-value="{p.value!r}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        else:
            parts.append(
                f'<circle class="point" cx="{coord(middle)}" cy="{coord(cy)}" r="3.5" '
                f'fill="{VALUE_COLOUR}" data-value="{p.value!r}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    return parts


def _legend(left: int, right: int, severity: str, onset: bool) -> tuple[list[str], int]:
    """The legend's entries flowed in rows above the plot (each mark shaped as on the chart):
    their parts and the y below the last row."""
    entries = [
        ("value", f'<circle cx="5" cy="5" r="3.5" fill="{VALUE_COLOUR}"/>'),
        ("breached", f'<rect x="1" y="1" width="8" height="8" fill="{BREACH_COLOUR}"/>'),
        ("allowed range", '<rect class="band" x="0" y="0" width="10" height="10"/>'),
        (
            "alert windows",
            f'<rect x="0" y="0" width="10" height="10" '
            f'fill="{SEVERITY_COLOURS.get(severity, "#4b5563")}" fill-opacity="0.25"/>',
        ),
    ]
    if onset:
        entries.append(
            (
                "onset",
                f'<line x1="5" x2="5" y1="-1" y2="11" stroke="{ONSET_COLOUR}" stroke-width="2"/>',
            )
        )
    parts: list[str] = []
    x: float = left
    y, row = 4, FONT_PX + 6
    for name, mark in entries:
        w = 14 + text_width(name) + 14
        if x > left and x + w > right:
            x, y = left, y + row
        parts.append(
            f'<g class="legend-entry" transform="translate({coord(x)},{y + 2})">{mark}'
            f'<text class="legend" x="14" y="{FONT_PX - 2}">{name}</text></g>'
        )
        x += w
    return parts, y + row
