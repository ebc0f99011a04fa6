"""The parts every chart is made of: numbers and times as tick labels, round tick values, where
legend entries and tick labels go so that none overlaps another or the chart's edge, axis titles,
and the scrolling box a chart sits in (a chart keeps its size, so its text stays readable on a
phone; the box scrolls instead).

Text widths are estimated from the stylesheet's chart font (vigil.css: `svg text`, 12 px)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

FONT_PX = 12
"""The charts' font size, as vigil.css sets it."""
CHAR_PX = 7.2
"""A generous average glyph width of that font (digits are ~6.7 px, capitals wider)."""


def text_width(text: str) -> float:
    """About how wide `text` is drawn, in px."""
    return len(text) * CHAR_PX


def fit(text: str, width: float) -> str:
    """`text` shortened (keeping its end, where names differ) to at most `width` px."""
    room = max(int(width / CHAR_PX), 2)
    return text if len(text) <= room else "\u2026" + text[-(room - 1) :]


def fmt(value: float) -> str:
    """A number as a tick or tooltip shows it."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.2e}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def exact(value: float) -> str:
    """A number as a tooltip states it: enough digits to tell close values apart."""
    if isinstance(value, int) or (math.isfinite(value) and value == int(value)):
        return f"{int(value):,}"
    return f"{value:.6g}"


def coord(value: float) -> str:
    """An SVG coordinate, to a tenth of a pixel."""
    return f"{value:.1f}"


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """About `count` round values spanning [lo, hi], for an axis."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
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


def time_label(seconds: float, span: float) -> str:
    """A tick label of a time axis spanning `span` seconds (hours shown under two days)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    if span <= 2 * 86_400:
        return f"{moment:%d %b %H:%M}"
    return f"{moment:%d %b %Y}" if span > 300 * 86_400 else f"{moment:%d %b}"


def when(seconds: float) -> str:
    """A moment as a tooltip states it."""
    return f"{dt.datetime.fromtimestamp(seconds, dt.UTC):%Y-%m-%d %H:%M} UTC"


def time_range(lo: float, hi: float, pad: float = 3600.0) -> tuple[float, float]:
    """A time axis spanning the data itself: one moment gets `pad` seconds either side (never a
    share of the timestamp, which would stretch one point over years)."""
    return (lo - pad, hi + pad) if hi <= lo else (lo, hi)


def time_ticks(lo: float, hi: float, plot_w: float) -> list[tuple[float, str]]:
    """Ticks of a time axis from `lo` to `hi` drawn over `plot_w` px: as many as fit without
    their labels touching, the first at `lo` and the last at `hi`."""
    span = hi - lo
    label = time_label(lo, span)
    room = text_width(label) + 16
    count = max(2, min(7, int(plot_w // room) + 1))
    if span <= 0:
        return [(lo, label)]
    step = span / (count - 1)
    return [(lo + i * step, time_label(lo + i * step, span)) for i in range(count)]


def x_tick_texts(
    ticks: Sequence[tuple[float, str]], left: float, right: float, y: float
) -> list[str]:
    """The <text> of x tick labels at pixel positions: labels near an edge are anchored to stay
    inside [left, right], and a label that would touch the previous one is left out."""
    out: list[str] = []
    last_end = -math.inf
    for x, label in ticks:
        w = text_width(label)
        if x - w / 2 < left:
            anchor, start = "start", left
        elif x + w / 2 > right:
            anchor, start = "end", right - w
        else:
            anchor, start = "middle", x - w / 2
        if start < last_end + 6:
            continue
        last_end = start + w
        tx = {"start": left, "end": right, "middle": x}[anchor]
        out.append(
            f'<text class="tick" x="{coord(tx)}" y="{coord(y)}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    return out


def legend(
    entries: Sequence[tuple[str, str]], left: float, right: float, top: float = 4
) -> tuple[list[str], float]:
    """Legend entries (swatch class-or-colour, name) flowed in rows from `left` to `right`,
    starting at `top`: their SVG parts and the y below the last row."""
    parts: list[str] = []
    x, y, row_h = left, top, FONT_PX + 6
    for swatch, name in entries:
        name = fit(name, right - left - 18)
        w = 14 + text_width(name) + 14
        if x > left and x + w > right:
            x, y = left, y + row_h
        mark = (
            f'<rect class="{swatch[1:]}" x="{coord(x)}" y="{coord(y + 3)}" width="10" height="9"/>'
            if swatch.startswith(".")
            else f'<rect x="{coord(x)}" y="{coord(y + 5)}" width="10" height="4" fill="{swatch}"/>'
        )
        parts.append(
            f'{mark}<text class="legend" x="{coord(x + 14)}" y="{coord(y + FONT_PX)}">'
            f"{escape(name)}</text>"
        )
        x += w
    return parts, (y + row_h if entries else top)


def axis_titles(
    x_title: str,
    y_title: str,
    *,
    left: float,
    right: float,
    top: float,
    bottom_y: float,
    height: float,
) -> list[str]:
    """The x axis' title centred under its tick labels, the y axis' rotated at the left edge."""
    parts = []
    if x_title:
        parts.append(
            f'<text class="axis-label x" x="{coord((left + right) / 2)}" y="{coord(height - 4)}" '
            f'text-anchor="middle">{escape(fit(x_title, right - left))}</text>'
        )
    if y_title:
        mid = (top + bottom_y) / 2
        parts.append(
            f'<text class="axis-label y" x="{FONT_PX}" y="{coord(mid)}" '
            f'transform="rotate(-90 {FONT_PX} {coord(mid)})" text-anchor="middle">'
            f"{escape(fit(y_title, bottom_y - top))}</text>"
        )
    return parts


def left_margin(tick_labels: Sequence[str], y_title: bool = True) -> int:
    """Room left of the plot for the y tick labels (and the y axis' title)."""
    widest = max((text_width(t) for t in tick_labels), default=0.0)
    return math.ceil(widest + 8 + (FONT_PX + 8 if y_title else 4))


def boxed(svg: str) -> Markup:
    """A chart in the box that scrolls it when the screen is narrower than the chart."""
    return Markup(f'<div class="chart-box">{svg}</div>')
