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


def _fmt(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.2e}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def coord(value: float) -> str:
    """An SVG coordinate, to a tenth of a pixel."""
    return f"{value:.1f}"


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About `count` round values spanning [lo, hi], for an axis."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(lo / step) * step
    ticks: list[float] = []
    value = first
    while value <= hi + step * 1e-9 and len(ticks) < 20:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _time_label(seconds: float, span: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    if span <= 2 * 86_400:
        return f"{moment:%d %b %H:%M}"
    return f"{moment:%d %b}"


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
    width: int = 720,
    height: int = 220,
    y_min: float | None = None,
    y_max: float | None = None,
    title: str = "",
    shades: Sequence[Shade] = (),
    shade_legend: str = "",
) -> Markup:
    """Lines over a shared x (timestamps when `x.time`), with an optional band behind them.

    `shades` mark spans of x (each centred on its start, the x of its window's point) as not to
    be judged, with `shade_legend` as their legend entry; a series' `hollow` points are drawn in
    them as hollow markers, never joined to the line."""
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
    left, right, top, bottom = 56, 12, 12, 28
    if len(series) > 1 or shades:
        top = 28
    x_lo, x_hi = _range(xs)
    y_lo, y_hi = _range(ys)
    y_lo = y_min if y_min is not None else y_lo
    y_hi = y_max if y_max is not None else y_hi
    if y_hi <= y_lo:
        y_hi = y_lo + 1

    def px(v: float) -> float:
        return left + (width - left - right) * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        v = min(max(v, y_lo), y_hi)
        return height - bottom - (height - top - bottom) * (v - y_lo) / (y_hi - y_lo)

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title or y_label or "chart")}">'
    ]
    for tick in nice_ticks(y_lo, y_hi):
        yy = py(tick)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{coord(yy)}" y2="{coord(yy)}"/>'
            f'<text class="tick" x="{left - 4}" y="{coord(yy + 3)}" text-anchor="end">{_fmt(tick)}</text>'
        )
    x_ticks = x.ticks or [
        (t, _time_label(t, x_hi - x_lo) if x.time else _fmt(t)) for t in nice_ticks(x_lo, x_hi)
    ]
    if x.time and not x.ticks:
        span = x_hi - x_lo
        step = max(span / 5, 3600.0)
        x_ticks = [(x_lo + i * step, _time_label(x_lo + i * step, span)) for i in range(6)]
    for value, label in x_ticks:
        if x_lo <= value <= x_hi:
            parts.append(
                f'<text class="tick" x="{coord(px(value))}" y="{height - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{height - bottom}" '
        f'y2="{height - bottom}"/><line class="axis" x1="{left}" x2="{left}" y1="{top}" '
        f'y2="{height - bottom}"/>'
    )
    if y_label:
        parts.append(
            f'<text class="label" x="12" y="{coord((height - bottom + top) / 2)}" '
            f'transform="rotate(-90 12 {coord((height - bottom + top) / 2)})" '
            f'text-anchor="middle">{escape(y_label)}</text>'
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
            f'height="{height - bottom - top}"><title>{escape(shade.label)}</title></rect>'
        )
    for i, s in enumerate(series):
        colour = s.colour or PALETTE[i % len(PALETTE)]
        for xv, yv in s.hollow:
            if yv is None or not math.isfinite(yv) or not y_lo <= yv <= y_hi:
                continue
            parts.append(
                f'<circle class="hollow" cx="{coord(px(xv))}" cy="{coord(py(yv))}" r="3.5" '
                f'stroke="{colour}"><title>{escape(s.name)} {_fmt(yv)} (not judged)</title>'
                "</circle>"
            )
        segments: list[list[str]] = [[]]
        for xv, yv in s.points:
            if yv is None or not math.isfinite(yv):
                segments.append([])
                continue
            segments[-1].append(f"{coord(px(xv))},{coord(py(yv))}")
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            elif seg:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
                    f'points="{" ".join(seg)}"><title>{escape(s.name)}</title></polyline>'
                )
        if len(series) > 1 or shades:
            lx, ly = _legend_at(i, left, width)
            parts.append(
                f'<rect x="{lx}" y="{ly - 7}" width="10" height="3" fill="{colour}"/>'
                f'<text class="legend" x="{lx + 14}" y="{ly - 2}">{escape(s.name[:40])}</text>'
            )
    if shades:
        lx, ly = _legend_at(len(series), left, width)
        parts.append(
            f'<rect class="incomplete" x="{lx}" y="{ly - 9}" width="10" height="8"/>'
            f'<text class="legend" x="{lx + 14}" y="{ly - 2}">'
            f"{escape((shade_legend or 'not judged')[:40])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend_at(i: int, left: int, width: int) -> tuple[int, int]:
    """Where the `i`-th legend entry of a line chart goes (four a row above the plot)."""
    return left + 8 + (i % 4) * ((width - left) // 4), 12 + (i // 4) * 12


def bar_chart(
    bars: Sequence[tuple[float, float]],
    *,
    bar_width_seconds: float,
    overlay: Sequence[tuple[float, float]] = (),
    y_label: str = "",
    width: int = 720,
    height: int = 160,
) -> Markup:
    """Bars over time (e.g. rows per window); `overlay` draws a second bar series on top (e.g.
    the labelled rows)."""
    if not bars:
        return Markup('<p class="empty">No data to draw.</p>')
    left, right, top, bottom = 56, 12, 10, 28
    x_lo = min(b[0] for b in bars)
    x_hi = max(b[0] for b in bars) + bar_width_seconds
    y_hi = max(max(b[1] for b in bars), 1.0)

    def px(v: float) -> float:
        return left + (width - left - right) * (v - x_lo) / (x_hi - x_lo)

    def py(v: float) -> float:
        return height - bottom - (height - top - bottom) * v / y_hi

    bw = max(px(x_lo + bar_width_seconds) - px(x_lo) - 0.5, 0.6)
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(y_label or "bars")}">'
    ]
    for tick in nice_ticks(0, y_hi):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{coord(py(tick))}" '
            f'y2="{coord(py(tick))}"/><text class="tick" x="{left - 4}" y="{coord(py(tick) + 3)}" '
            f'text-anchor="end">{_fmt(tick)}</text>'
        )
    for series, cls in ((bars, "bar"), (overlay, "bar2")):
        for xv, yv in series:
            parts.append(
                f'<rect class="{cls}" x="{coord(px(xv))}" y="{coord(py(yv))}" width="{coord(bw)}" '
                f'height="{coord(py(0) - py(yv))}"><title>'
                f"{_time_label(xv, 0)}: {_fmt(yv)}</title></rect>"
            )
    span = x_hi - x_lo
    for i in range(6):
        t = x_lo + i * span / 5
        parts.append(
            f'<text class="tick" x="{coord(px(t))}" y="{height - 8}" text-anchor="middle">'
            f"{_time_label(t, span)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def parallel_coordinates(
    axes: Sequence[str],
    lines: Sequence[tuple[str, Mapping[str, float | None]]],
    *,
    width: int = 720,
    height: int = 240,
) -> Markup:
    """One polyline per run across numeric axes (params and metrics), each axis scaled to its
    own range."""
    if len(axes) < 2 or not lines:
        return Markup('<p class="empty">Parallel coordinates need two numeric columns.</p>')
    left, right, top, bottom = 40, 40, 34, 24
    gap = (width - left - right) / (len(axes) - 1)
    ranges = {a: _range([v for _, vals in lines if (v := vals.get(a)) is not None]) for a in axes}
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="parallel coordinates">'
    ]
    for i, axis in enumerate(axes):
        x = left + i * gap
        lo, hi = ranges[axis]
        parts.append(
            f'<line class="axis" x1="{coord(x)}" x2="{coord(x)}" y1="{top}" y2="{height - bottom}"/>'
            f'<text class="tick" x="{coord(x)}" y="{top - 4 - 10 * (i % 2)}" text-anchor="middle">'
            f"{escape(axis.split('.', 1)[-1][:16])}</text>"
            f'<text class="tick" x="{coord(x + 3)}" y="{top + 8}">{_fmt(hi)}</text>'
            f'<text class="tick" x="{coord(x + 3)}" y="{height - bottom}">{_fmt(lo)}</text>'
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
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{" ".join(points)}">'
            f"<title>{escape(name)}</title></polyline>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Span:
    lane: str
    start: dt.datetime
    end: dt.datetime
    label: str
    severity: str = "info"


def timeline(spans: Sequence[Span], *, width: int = 720) -> Markup:
    """One lane per monitor, one bar per alert from its first to its last window."""
    if not spans:
        return Markup('<p class="empty">No alerts in this period.</p>')
    lanes = sorted({s.lane for s in spans})
    label_w, lane_h, top = 170, 18, 8
    height = top + lane_h * len(lanes) + 24
    lo = min(s.start for s in spans).timestamp()
    hi = max(s.end for s in spans).timestamp()
    if hi <= lo:
        hi = lo + 3600

    def px(t: float) -> float:
        return label_w + (width - label_w - 10) * (t - lo) / (hi - lo)

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="alerts timeline">'
    ]
    for i, lane in enumerate(lanes):
        parts.append(
            f'<text class="rowlabel" x="{label_w - 6}" y="{top + i * lane_h + 12}" '
            f'text-anchor="end">{escape(lane[:26])}</text>'
        )
    for s in spans:
        i = lanes.index(s.lane)
        x0, x1 = px(s.start.timestamp()), px(s.end.timestamp())
        colour = SEVERITY_COLOURS.get(s.severity, "#4b5563")
        parts.append(
            f'<rect x="{coord(x0)}" y="{top + i * lane_h + 2}" width="{coord(max(x1 - x0, 3))}" '
            f'height="{lane_h - 5}" fill="{colour}" rx="2"><title>{escape(s.label)}</title></rect>'
        )
    span = hi - lo
    for i in range(5):
        t = lo + i * span / 4
        parts.append(
            f'<text class="tick" x="{coord(px(t))}" y="{height - 6}" text-anchor="middle">'
            f"{_time_label(t, span)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
