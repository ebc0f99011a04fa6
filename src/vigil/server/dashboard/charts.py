"""Charts as SVG, drawn on the server: sparklines, line charts with bands, bar charts, parallel
coordinates and an alert timeline (the drift pictures are in `drift_charts`).

Every function returns `Markup` (safe to put in a template); text from users is escaped. Colours
are SVG attributes and CSS classes, never inline styles, so the pages keep a strict CSP.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from vigil.server.dashboard.chart_parts import (
    FONT_PX,
    axis_titles,
    boxed,
    coord,
    exact,
    fit,
    fmt,
    left_margin,
    legend,
    nice_ticks,
    text_width,
    time_label,
    time_range,
    time_ticks,
    when,
    x_tick_texts,
)

__all__ = [
    "PALETTE",
    "Axis",
    "Band",
    "Series",
    "Shade",
    "Span",
    "bar_chart",
    "coord",
    "line_chart",
    "nice_ticks",
    "parallel_coordinates",
    "sparkline",
    "timeline",
    "timestamp",
]
_fmt = fmt
_time_label = time_label
"""Older names of `chart_parts.fmt` and `chart_parts.time_label` (alert_charts imports them)."""
MAX_MARKERS = 400
"""Up to this many points a line chart draws each point as a marker whose tooltip states its
exact value; beyond, the line's own tooltip gives its last value (a page stays small)."""
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04")
SEVERITY_COLOURS = {"critical": "#b91c1c", "warning": "#d97706", "info": "#2563eb"}


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float | None]]
    colour: str = ""
    hollow: Sequence[tuple[float, float | None]] = ()
    """Values not to be judged (e.g. of a partly labelled window): unconnected hollow markers,
    left out of the y range (and so of the chart when they fall outside it)."""


@dataclass(frozen=True)
class Shade:
    """A shaded span of x (e.g. a window whose labels are incomplete) with its tooltip."""

    start: float
    end: float
    label: str


@dataclass(frozen=True)
class Band:
    """A shaded range (e.g. the 5%-95% quantiles) under a line chart."""

    points: Sequence[tuple[float, float | None, float | None]]
    name: str = ""


@dataclass(frozen=True)
class Axis:
    time: bool = False
    label: str = ""
    ticks: Sequence[tuple[float, str]] = field(default_factory=tuple)


def timestamp(value: dt.datetime) -> float:
    return value.timestamp()


def _range(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    return lo, hi


def sparkline(values: Sequence[float], *, width: int = 120, height: int = 28) -> Markup:
    """A small line of `values` (e.g. rows per day), no axes."""
    if not values:
        return Markup('<span class="muted">no data</span>')
    lo, hi = _range([float(v) for v in values])
    lo = min(lo, 0.0)
    n = len(values)
    points = " ".join(
        f"{coord(2 + (width - 4) * (i / max(n - 1, 1)))},"
        f"{coord(height - 2 - (height - 4) * ((v - lo) / (hi - lo)))}"
        for i, v in enumerate(values)
    )
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="sparkline"><polyline fill="none" stroke="#2563eb" '
        f'stroke-width="1.5" points="{points}"/></svg>'
    )


def line_chart(
    series: Sequence[Series],
    *,
    band: Band | None = None,
    x: Axis | None = None,
    y_label: str = "",
    width: int = 600,
    height: int = 220,
    y_min: float | None = None,
    y_max: float | None = None,
    title: str = "",
    shades: Sequence[Shade] = (),
    shade_legend: str = "",
) -> Markup:
    """Lines over a shared x (timestamps when `x.time`), with an optional band behind them.

    Both axes carry a title (`x.label`, else "time (UTC)" on a time axis; `y_label`, else
    `title`, else the series' names); a time axis spans the data's own range. Up to `MAX_MARKERS` points are
    markers whose tooltips state their exact values. `shades` mark spans of x (each centred on
    its start, the x of its window's point) as not to be judged, with `shade_legend` as their
    legend entry; a series' `hollow` points are drawn in them as hollow markers, never joined to
    the line."""
    x = x or Axis()
    xs = [p[0] for s in series for p in (*s.points, *s.hollow)]
    ys = [p[1] for s in series for p in s.points if p[1] is not None]
    if not ys:  # only values not to be judged: scale to them rather than draw nothing
        ys = [p[1] for s in series for p in s.hollow if p[1] is not None]
    if band is not None:
        xs += [p[0] for p in band.points]
        ys += [v for p in band.points for v in p[1:] if v is not None]
    if not xs or not ys:
        return Markup('<p class="empty">No data to draw.</p>')
    x_title = x.label or ("time (UTC)" if x.time else "")
    y_title = y_label or title or ", ".join(s.name for s in series)
    x_lo, x_hi = time_range(min(xs), max(xs)) if x.time else _range(xs)
    y_lo, y_hi = _range(ys)
    y_lo = y_min if y_min is not None else y_lo
    y_hi = y_max if y_max is not None else y_hi
    if y_hi <= y_lo:
        y_hi = y_lo + 1
    y_ticks = nice_ticks(y_lo, y_hi)
    left = left_margin([_fmt(t) for t in y_ticks], bool(y_title))
    right = 12
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    entries = [(c, s.name) for c, s in zip(colours, series, strict=True)] if len(series) > 1 else []
    if shades:
        entries.append((".incomplete", shade_legend or "not judged"))
    legend_parts, legend_end = legend(entries, left, width - right)
    top = math.ceil(legend_end) + 6
    bottom = FONT_PX + 12 + (FONT_PX + 6 if x_title else 0)
    height = max(height, top + bottom + 60)
    plot_bottom = height - bottom

    def px(v: float) -> float:
        return left + (width - left - right) * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        v = min(max(v, y_lo), y_hi)
        return plot_bottom - (plot_bottom - top) * (v - y_lo) / (y_hi - y_lo)

    def at(xv: float) -> str:
        return when(xv) if x.time else f"{x_title or 'x'} {exact(xv)}"

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title or y_title or "chart")}">',
        *legend_parts,
    ]
    for tick in y_ticks:
        yy = py(tick)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{coord(yy)}" y2="{coord(yy)}"/>'
            f'<text class="tick" x="{left - 4}" y="{coord(yy + 4)}" text-anchor="end">{_fmt(tick)}</text>'
        )
    if x.ticks:
        x_ticks = [(v, label) for v, label in x.ticks if x_lo <= v <= x_hi]
    elif x.time:
        x_ticks = time_ticks(x_lo, x_hi, width - left - right)
    else:
        x_ticks = [(t, _fmt(t)) for t in nice_ticks(x_lo, x_hi)]
    parts += x_tick_texts(
        [(px(v), label) for v, label in x_ticks], 0, width, plot_bottom + FONT_PX + 4
    )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{plot_bottom}" '
        f'y2="{plot_bottom}"/><line class="axis" x1="{left}" x2="{left}" y1="{top}" '
        f'y2="{plot_bottom}"/>'
    )
    parts += axis_titles(
        x_title,
        y_title,
        left=left,
        right=width - right,
        top=top,
        bottom_y=plot_bottom,
        height=height,
    )
    if band is not None:
        upper = [(px(p[0]), py(p[2])) for p in band.points if p[1] is not None and p[2] is not None]
        lower = [(px(p[0]), py(p[1])) for p in band.points if p[1] is not None and p[2] is not None]
        if upper:
            path = " ".join(f"{coord(a)},{coord(b)}" for a, b in [*upper, *reversed(lower)])
            parts.append(
                f'<polygon class="band" points="{path}"><title>{escape(band.name)}</title></polygon>'
            )
    for shade in shades:
        half = max((px(shade.end) - px(shade.start)) / 2, 4.0)
        x0 = max(px(shade.start) - half, float(left))
        x1 = min(px(shade.start) + half, float(width - right))
        parts.append(
            f'<rect class="incomplete" x="{coord(x0)}" y="{top}" width="{coord(x1 - x0)}" '
            f'height="{plot_bottom - top}"><title>{escape(shade.label)}</title></rect>'
        )
    markers = sum(len(s.points) for s in series) <= MAX_MARKERS
    for s, colour in zip(series, colours, strict=True):
        for xv, yv in s.hollow:
            if yv is None or not math.isfinite(yv) or not y_lo <= yv <= y_hi:
                continue
            parts.append(
                f'<circle class="hollow" cx="{coord(px(xv))}" cy="{coord(py(yv))}" r="3.5" '
                f'stroke="{colour}"><title>{escape(s.name)} {exact(yv)} at {at(xv)} (not judged)'
                "</title></circle>"
            )
        segments: list[list[tuple[float, float]]] = [[]]
        for xv, yv in s.points:
            if yv is None or not math.isfinite(yv):
                segments.append([])
                continue
            segments[-1].append((xv, yv))
        finite = [p for seg in segments for p in seg]
        last = f": {exact(finite[-1][1])} at {at(finite[-1][0])}" if finite else ""
        for seg in segments:
            if len(seg) > 1:
                points = " ".join(f"{coord(px(a))},{coord(py(b))}" for a, b in seg)
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
                    f'points="{points}"><title>{escape(s.name)}{last}</title></polyline>'
                )
            if markers or len(seg) == 1:
                for xv, yv in seg:
                    parts.append(
                        f'<circle class="point" cx="{coord(px(xv))}" cy="{coord(py(yv))}" '
                        f'r="{2.5 if len(seg) == 1 else 2}" fill="{colour}"><title>'
                        f"{escape(s.name)} {exact(yv)} at {at(xv)}</title></circle>"
                    )
    parts.append("</svg>")
    return boxed("".join(parts))


def bar_chart(
    bars: Sequence[tuple[float, float]],
    *,
    bar_width_seconds: float,
    overlay: Sequence[tuple[float, float]] = (),
    y_label: str = "",
    width: int = 600,
    height: int = 160,
    names: tuple[str, str] = ("", ""),
) -> Markup:
    """Bars over time (e.g. rows per window); `overlay` draws a second bar series on top (e.g.
    the labelled rows), with `names` as the two series' legend entries. Each bar's tooltip
    states its window and exact value."""
    if not bars:
        return Markup('<p class="empty">No data to draw.</p>')
    x_lo = min(b[0] for b in bars)
    x_hi = max(b[0] for b in bars) + bar_width_seconds
    y_hi = max(max(b[1] for b in bars), 1.0)
    y_ticks = nice_ticks(0, y_hi)
    y_title = y_label or "count"
    left, right = left_margin([_fmt(t) for t in y_ticks]), 12
    entries = [(c, n) for c, n in zip(("#93c5fd", "#2563eb"), names, strict=True) if n]
    legend_parts, legend_end = legend(entries if overlay else entries[:1], left, width - right)
    top = math.ceil(legend_end) + 6
    bottom = 2 * FONT_PX + 18
    height = max(height, top + bottom + 50)
    plot_bottom = height - bottom

    def px(v: float) -> float:
        return left + (width - left - right) * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        return plot_bottom - (plot_bottom - top) * v / y_hi

    bw = max(px(x_lo + bar_width_seconds) - px(x_lo) - 0.5, 0.6)
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(y_title)}">',
        *legend_parts,
    ]
    for tick in y_ticks:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{coord(py(tick))}" '
            f'y2="{coord(py(tick))}"/><text class="tick" x="{left - 4}" y="{coord(py(tick) + 4)}" '
            f'text-anchor="end">{_fmt(tick)}</text>'
        )
    for series, cls, name in ((bars, "bar", names[0]), (overlay, "bar2", names[1])):
        for xv, yv in series:
            parts.append(
                f'<rect class="{cls}" x="{coord(px(xv))}" y="{coord(py(yv))}" width="{coord(bw)}" '
                f'height="{coord(py(0) - py(yv))}"><title>'
                f"{when(xv)}: {exact(yv)}{' ' + escape(name) if name else ''}</title></rect>"
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{plot_bottom}" '
        f'y2="{plot_bottom}"/>'
    )
    ticks = time_ticks(x_lo, x_hi, width - left - right)
    parts += x_tick_texts(
        [(px(t), label) for t, label in ticks], 0, width, plot_bottom + FONT_PX + 4
    )
    parts += axis_titles(
        "window start (UTC)",
        y_title,
        left=left,
        right=width - right,
        top=top,
        bottom_y=plot_bottom,
        height=height,
    )
    parts.append("</svg>")
    return boxed("".join(parts))


def parallel_coordinates(
    axes: Sequence[str],
    lines: Sequence[tuple[str, Mapping[str, float | None]]],
    *,
    width: int = 600,
    height: int = 260,
) -> Markup:
    """One polyline per run across numeric axes (params and metrics), each axis scaled to its
    own range; the chart widens so that every axis' name and range stay readable."""
    if len(axes) < 2 or not lines:
        return Markup('<p class="empty">Parallel coordinates need two numeric columns.</p>')
    gap = 100.0
    left, right, top, bottom = 50, 60, 2 * FONT_PX + 14, FONT_PX + 10
    width = max(width, int(left + right + gap * (len(axes) - 1)))
    gap = (width - left - right) / (len(axes) - 1)
    ranges = {a: _range([v for _, vals in lines if (v := vals.get(a)) is not None]) for a in axes}
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="parallel coordinates">'
    ]
    for i, axis in enumerate(axes):
        x = left + i * gap
        lo, hi = ranges[axis]
        first, last = i == 0, i == len(axes) - 1
        room = 2 * gap - 10 if not (first or last) else gap + (left if first else right) - 10
        name = fit(axis.split(".", 1)[-1], room)
        anchor = "start" if first else "end" if last else "middle"
        name_x = 4 if first else width - 4 if last else x
        value_x, value_anchor = (x - 3, ' text-anchor="end"') if last else (x + 3, "")
        parts.append(
            f'<line class="axis" x1="{coord(x)}" x2="{coord(x)}" y1="{top}" y2="{height - bottom}"/>'
            f'<text class="tick" x="{coord(name_x)}" y="{FONT_PX + (FONT_PX + 4) * (i % 2)}" '
            f'text-anchor="{anchor}">{escape(name)}</text>'
            f'<text class="tick" x="{coord(value_x)}" y="{top + FONT_PX}"{value_anchor}>'
            f"{escape(fit(_fmt(hi), gap - 8))}</text>"
            f'<text class="tick" x="{coord(value_x)}" y="{height - bottom - 3}"{value_anchor}>'
            f"{escape(fit(_fmt(lo), gap - 8))}</text>"
        )
    for k, (name, values) in enumerate(lines):
        points = []
        for i, axis in enumerate(axes):
            v = values.get(axis)
            if v is None:
                continue
            lo, hi = ranges[axis]
            y = height - bottom - (height - top - bottom) * (v - lo) / (hi - lo)
            points.append(f"{coord(left + i * gap)},{coord(y)}")
        colour = PALETTE[k % len(PALETTE)]
        stated = "; ".join(f"{a} {exact(v)}" for a in axes if (v := values.get(a)) is not None)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{" ".join(points)}">'
            f"<title>{escape(name)}: {escape(stated)}</title></polyline>"
        )
    parts.append("</svg>")
    return boxed("".join(parts))


@dataclass(frozen=True)
class Span:
    lane: str
    start: dt.datetime
    end: dt.datetime
    label: str
    severity: str = "info"


def timeline(spans: Sequence[Span], *, width: int = 600) -> Markup:
    """One lane per monitor (or alias), one bar per alert from its first to its last window;
    each bar's tooltip states its label and exact span."""
    if not spans:
        return Markup('<p class="empty">No alerts in this period.</p>')
    lanes = sorted({s.lane for s in spans})
    label_w = int(min(max(text_width(lane) for lane in lanes), 200) + 12)
    lane_h, top = FONT_PX + 8, 6
    height = top + lane_h * len(lanes) + 2 * FONT_PX + 16
    plot_bottom = top + lane_h * len(lanes)
    lo = min(s.start for s in spans).timestamp()
    hi = max(s.end for s in spans).timestamp()
    lo, hi = time_range(lo, hi)

    def px(t: float) -> float:
        return label_w + (width - label_w - 12) * (t - lo) / (hi - lo)

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="timeline">'
    ]
    for i, lane in enumerate(lanes):
        parts.append(
            f'<text class="rowlabel" x="{label_w - 6}" y="{top + i * lane_h + FONT_PX + 1}" '
            f'text-anchor="end">{escape(fit(lane, label_w - 8))}<title>{escape(lane)}</title></text>'
        )
    for s in spans:
        i = lanes.index(s.lane)
        x0, x1 = px(s.start.timestamp()), px(s.end.timestamp())
        colour = SEVERITY_COLOURS.get(s.severity, "#4b5563")
        parts.append(
            f'<rect x="{coord(x0)}" y="{top + i * lane_h + 2}" width="{coord(max(x1 - x0, 3))}" '
            f'height="{lane_h - 5}" fill="{colour}" rx="2"><title>{escape(s.label)}: '
            f"{when(s.start.timestamp())} to {when(s.end.timestamp())}</title></rect>"
        )
    parts.append(
        f'<line class="axis" x1="{label_w}" x2="{width - 12}" y1="{plot_bottom}" y2="{plot_bottom}"/>'
    )
    ticks = time_ticks(lo, hi, width - label_w - 12)
    parts += x_tick_texts(
        [(px(t), label) for t, label in ticks], label_w / 2, width, plot_bottom + FONT_PX + 4
    )
    parts += axis_titles(
        "time (UTC)",
        "",
        left=label_w,
        right=width - 12,
        top=top,
        bottom_y=plot_bottom,
        height=height,
    )
    parts.append("</svg>")
    return boxed("".join(parts))
