"""The drift pictures, as SVG drawn on the server: the heatmap of a model's columns by windows,
coloured by each cell's stored drift severity, and two distributions side by side.

Like `charts`, every function returns `Markup`; text from users is escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from vigil.server.dashboard.chart_parts import FONT_PX, axis_titles, left_margin, text_width
from vigil.server.dashboard.charts import coord, nice_ticks

SHARE_TITLE = "share of rows (%)"
"""The y axis' title of `distribution_bars`."""


def _heat(severity: float, drifted: bool) -> str:
    """Cells that did not drift stay pale (white to light yellow as they near the bar); drifted
    cells go from dark orange at the bar to dark red at 3x the bar, every one at least 3:1
    against white (WCAG AA for graphics: #ea580c is 3.6:1)."""
    if not drifted:
        s = max(0.0, min(severity, 1.0))
        return f"#ff{int(255 - 20 * s):02x}{int(255 - 90 * s):02x}"
    f = max(0.0, min((severity - 1.0) / 2.0, 1.0))
    r, g, b = int(234 - 107 * f), int(88 - 59 * f), int(12 + 17 * f)
    return f"#{r:02x}{g:02x}{b:02x}"


HEAT_VISIBLE = 0.25
"""Cells below a quarter of the bar are drawn as the white background (nothing of their own)."""
HEAT_LEVELS = 6
"""Colours per band (not drifted, drifted): a cell's severity is rounded to one of them, so the
grid is a dozen paths, not one element per cell (100 features by 2,000 windows stays small)."""


def _level(severity: float, drifted: bool) -> float:
    """The representative severity of a cell's colour band."""
    if not drifted:
        step = (1.0 - HEAT_VISIBLE) / HEAT_LEVELS
        index = min(int((min(severity, 1.0) - HEAT_VISIBLE) / step), HEAT_LEVELS - 1)
        return HEAT_VISIBLE + (index + 0.5) * step
    index = min(int(max(severity - 1.0, 0.0) / (2.0 / HEAT_LEVELS)), HEAT_LEVELS - 1)
    return 1.0 + (index + 0.5) * 2.0 / HEAT_LEVELS


def _mark_colour(severity: float) -> str:
    """The drifted cells' mark: dark on the orange half of the scale, white on the dark reds, so
    a drifted cell differs from an undrifted one by more than its colour."""
    return "#111827" if severity < 2.0 else "#ffffff"


def heatmap(
    features: Sequence[str],
    starts: Sequence[dt.datetime],
    cells: Mapping[dt.datetime, Mapping[str, Sequence[float]]],
    *,
    granularity: str,
    labels: Sequence[str] | None = None,
    links: Sequence[str] | None = None,
    partial: Sequence[str] | None = None,
) -> Markup:
    """Features (rows) by windows (columns), coloured by drift severity: one path per colour
    band (`class="cells drifted"` for the drifted ones, `cells nodata` for cells not computed
    yet); drifted cells also carry a mark (`class="drifted-mark"`), so the verdict does not rest on
    colour alone. The grid's geometry and labels ride on data attributes: a click anywhere on
    the grid opens the cell under it (vigil.js).

    `labels` names each column (a period: "Mar 2026", "week of 2 Mar"); with `links`, a label
    is a link (to the column's period by finer cells). `partial` holds a reason per column ("" for
    a whole period): such columns are hatched and their label ends in "*"."""
    if not features or not starts:
        return Markup('<p class="empty">No windows to draw yet.</p>')
    label_w, cell_h, top = 150, 14, 34
    cell_w = max(2.0, min(72.0 if labels else 18.0, 1000 / len(starts)))
    grid_w = cell_w * len(starts)
    width = int(label_w + grid_w + 8)
    height = top + cell_h * len(features) + 4
    isos = [s.strftime("%Y-%m-%dT%H:%M:%SZ") for s in starts]
    parts = [
        f'<svg class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="drift heatmap" data-left="{label_w}" data-top="{top}" '
        f'data-cell-w="{cell_w:.4f}" data-cell-h="{cell_h}" '
        f"data-features='{escape(json.dumps(list(features)))}' "
        f"data-starts='{escape(json.dumps(isos))}'>",
        '<defs><pattern id="heat-partial" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#4b5563" '
        'stroke-width="1.5"/></pattern></defs>',
        f'<rect class="grid-bg" x="{label_w}" y="{top}" width="{coord(grid_w)}" '
        f'height="{cell_h * len(features)}" fill="#ffffff"/>',
    ]
    # Labels as wide as the text they hold: every column when they fit, else every n-th.
    star = "*" if partial and any(partial) else ""
    longest = text_width(max(labels, key=len) + star) if labels else 0.0
    step = max(1, len(starts) // 8) if not labels else max(1, math.ceil((longest + 4) / cell_w))
    for j in range(0, len(starts), step):
        if labels:
            text = escape(labels[j]) + ("*" if partial and partial[j] else "")
        elif granularity == "day":
            text = escape(f"{starts[j]:%d %b}")
        else:
            text = escape(f"{starts[j]:%d %b %H:%M}")
        if j and label_w + j * cell_w + text_width(str(text)) > width:
            continue  # the last label would run off the grid's edge
        tick = (
            f'<text class="tick" x="{coord(label_w + j * cell_w)}" y="{top - 8}">{text}'
            + (f"<title>{escape(partial[j])}</title>" if partial and partial[j] else "")
            + "</text>"
        )
        if links and links[j]:
            tick = f'<a class="zoom" href="{escape(links[j])}">{tick}</a>'
        parts.append(tick)
    w = coord(max(cell_w - (1 if cell_w > 4 else 0), 1))
    bands: dict[tuple[str, str], list[str]] = {}
    marks: dict[str, list[str]] = {}
    side = min(cell_w - 2, cell_h - 2, 6.0)
    for i, feature in enumerate(features):
        y = top + i * cell_h
        parts.append(
            f'<text class="rowlabel" x="{label_w - 6}" y="{y + cell_h - 3}" text-anchor="end">'
            f"{escape(feature[:22])}</text>"
        )
        for j, start in enumerate(starts):
            value = cells.get(start, {}).get(feature)
            if value is None:
                key = ("cells nodata", "#eef0f3")
            elif value[1] or value[0] >= HEAT_VISIBLE:
                drifted = bool(value[1])
                level = _level(float(value[0]), drifted)
                key = ("cells drifted" if drifted else "cells", _heat(level, drifted))
                if drifted and side >= 2:
                    x0 = label_w + j * cell_w + (cell_w - 1 - side) / 2
                    y0 = y + (cell_h - 1 - side) / 2
                    marks.setdefault(_mark_colour(level), []).append(
                        f"M{coord(x0)} {coord(y0)}h{coord(side)}v{coord(side)}h-{coord(side)}z"
                    )
            else:
                continue
            bands.setdefault(key, []).append(
                f"M{coord(label_w + j * cell_w)} {y}h{w}v{cell_h - 1}h-{w}z"
            )
    for (cls, fill), path in sorted(bands.items()):
        parts.append(f'<path class="{cls}" fill="{fill}" d="{"".join(path)}"/>')
    for colour, path in sorted(marks.items()):
        parts.append(f'<path class="drifted-mark" fill="{colour}" d="{"".join(path)}"/>')
    for j, reason in enumerate(partial or ()):
        if reason:
            parts.append(
                f'<rect class="partial" x="{coord(label_w + j * cell_w)}" y="{top}" '
                f'width="{w}" height="{cell_h * len(features) - 1}" fill="url(#heat-partial)" '
                f'fill-opacity="0.45"><title>{escape(reason)}</title></rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend_swatch(kind: str) -> Markup:
    """A legend's sample cell, drawn as the heatmap draws it (colour, mark, hatching)."""
    fills = {
        "none": "#ffffff",
        "near": _heat(_level(0.9, False), False),
        "drifted": _heat(_level(1.1, True), True),
        "drifted3": _heat(_level(3.0, True), True),
        "nodata": "#eef0f3",
        "partial": "#ffffff",
    }
    parts = [
        '<svg class="swatch" width="16" height="14" viewBox="0 0 16 14" aria-hidden="true">',
        f'<rect x="0.5" y="0.5" width="15" height="13" fill="{fills[kind]}" stroke="#9ca3af"/>',
    ]
    if kind in ("drifted", "drifted3"):
        level = _level(1.1 if kind == "drifted" else 3.0, True)
        parts.append(f'<rect x="5" y="4" width="6" height="6" fill="{_mark_colour(level)}"/>')
    if kind == "partial":
        parts.append(
            '<path d="M0 14L14 0M-2 6L6 -2M8 16L16 8" stroke="#4b5563" stroke-width="1.5"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def distribution_bars(
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    width: int = 560,
    height: int = 200,
    names: tuple[str, str] = ("reference", "window"),
    x_title: str = "bin or category",
) -> Markup:
    """Two distributions side by side (shares per bin or category), both axes titled: the
    y axis `SHARE_TITLE`, the x axis `x_title`."""
    if not labels:
        return Markup('<p class="empty">No distribution to draw.</p>')
    y_hi = max([*reference, *current, 1e-9])
    ticks = nice_ticks(0, y_hi)
    left, right, top, bottom = left_margin([f"{t:.0%}" for t in ticks]), 8, 22, 2 * FONT_PX + 18
    group = (width - left - right) / len(labels)
    bw = max(group / 2 - 1, 0.8)

    def py(v: float) -> float:
        return height - bottom - (height - top - bottom) * v / y_hi

    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="distribution comparison">',
        f'<rect x="{left}" y="6" width="10" height="8" class="ref"/>'
        f'<text class="legend" x="{left + 14}" y="14">{escape(names[0])}</text>'
        f'<rect x="{left + 110}" y="6" width="10" height="8" class="cur"/>'
        f'<text class="legend" x="{left + 124}" y="14">{escape(names[1])}</text>',
    ]
    for tick in ticks:
        parts.append(
            f'<text class="tick" x="{left - 4}" y="{coord(py(tick) + 3)}" text-anchor="end">'
            f"{tick:.0%}</text>"
        )
    every = max(1, len(labels) // 6)
    for i, label in enumerate(labels):
        x = left + i * group
        for k, (values, cls) in enumerate(((reference, "ref"), (current, "cur"))):
            v = values[i]
            parts.append(
                f'<rect class="{cls}" x="{coord(x + k * bw)}" y="{coord(py(v))}" width="{coord(bw)}" '
                f'height="{coord(py(0) - py(v))}"><title>{escape(label)}: {v:.1%}</title></rect>'
            )
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{coord(x + bw)}" y="{height - bottom + 12}" '
                f'text-anchor="middle">{escape(label.split("..")[0][:12])}</text>'
            )
    parts += axis_titles(
        x_title,
        SHARE_TITLE,
        left=left,
        right=width - right,
        top=top,
        bottom_y=height - bottom,
        height=height,
    )
    parts.append("</svg>")
    return Markup("".join(parts))
