"""Results in a notebook: a short `repr`, an inline HTML view (`_repr_html_`) and `to_pandas()`.

A result class mixes in `NotebookResult` and says three things: its tidy rows (one record per
column, check, window...), the columns of those rows, and a one-line headline. The mixin builds
the rest, so every result reads the same way in Jupyter, in a terminal and in pandas.

The HTML works offline (inline CSS and SVG, no script, no network) and is scoped to its own
element, so it cannot restyle the notebook around it. Full reports that carry their own page
styles (drift, explanations) are shown in a sandboxed `<iframe srcdoc>` instead.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from vigil.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

Tone = Literal["good", "bad", "neutral"]

MAX_TABLE_ROWS = 200
"""Rows shown inline; `to_pandas()` has them all."""

_STYLE = """
.vigil-nb{font:13px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;
max-width:100%;overflow-x:auto}
.vigil-nb .head{font-weight:600;margin:0 0 6px}
.vigil-nb .tone-bad{color:#b42318}.vigil-nb .tone-good{color:#1a7f37}
.vigil-nb table{border-collapse:collapse;margin:4px 0}
.vigil-nb th,.vigil-nb td{padding:2px 10px 2px 0;border-bottom:1px solid #d0d7de;text-align:left;
white-space:nowrap}
.vigil-nb td.n{text-align:right;font-variant-numeric:tabular-nums}
.vigil-nb tr.flag td:first-child{border-left:4px solid #b42318;padding-left:4px}
.vigil-nb .more{color:#59636e}
.vigil-nb svg text{font-size:10px;fill:#59636e}
"""

_PALETTE = ("#0969da", "#b42318", "#1a7f37", "#8250df", "#9a6700", "#59636e")


def require_pandas() -> Any:
    """pandas, or an error saying how to get it (it is an optional dependency)."""
    try:
        import pandas
    except ImportError:
        raise InvalidInputError(
            "to_pandas() needs pandas: pip install 'vigil[pandas]'", missing="pandas"
        ) from None
    return pandas


def _cell(value: Any) -> tuple[str, bool]:
    """A value as table text, and whether it is a number (right-aligned)."""
    if value is None:
        return "-", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        if not math.isfinite(value):
            return ("-" if math.isnan(value) else str(value)), True
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.3g}", True
        return f"{value:,.4f}".rstrip("0").rstrip("."), True
    if isinstance(value, dt.datetime):
        if value.utcoffset() in (None, dt.timedelta(0)):
            return value.strftime("%Y-%m-%d %H:%M"), False  # UTC, as the axis says
        return value.isoformat(sep=" ", timespec="minutes"), False
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value), False
    return str(value), False


def table_html(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, flag: str | None = None
) -> str:
    """An HTML table of `rows` (first `MAX_TABLE_ROWS`); rows whose `flag` field is true are
    marked with a bar and keep the word in their own cell, so colour is never the only sign."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows[:MAX_TABLE_ROWS]:
        cells = []
        for column in columns:
            text, numeric = _cell(row.get(column))
            cls = ' class="n"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        marked = ' class="flag"' if flag is not None and row.get(flag) else ""
        body.append(f"<tr{marked}>{''.join(cells)}</tr>")
    more = ""
    if len(rows) > MAX_TABLE_ROWS:
        more = f'<div class="more">{len(rows) - MAX_TABLE_ROWS:,} more rows: see to_pandas()</div>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def line_chart_svg(
    x: Sequence[dt.datetime],
    series: Mapping[str, Sequence[float | None]],
    *,
    y_label: str,
    width: int = 560,
    height: int = 180,
) -> str:
    """A small line chart over time: labelled axes, a legend beside (not over) the plot, a
    `<title>` tooltip with the exact value on every point, gaps where a value is missing."""
    values = [v for line in series.values() for v in line if v is not None and math.isfinite(v)]
    if not x or not values:
        return ""
    left, right, top, bottom = 48, 130, 8, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 0.5, high + 0.5
    t0, t1 = x[0].timestamp(), x[-1].timestamp()
    span = (t1 - t0) or 1.0

    def px(t: dt.datetime) -> float:
        return left + (t.timestamp() - t0) / span * plot_w if len(x) > 1 else left + plot_w / 2

    def py(v: float) -> float:
        return top + (high - v) / (high - low) * plot_h

    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{html.escape(y_label)}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#8c959f"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#8c959f"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{_cell(high)[0]}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">{_cell(low)[0]}</text>',
        f'<text x="{left}" y="{height - 18}">{html.escape(_cell(x[0])[0])}</text>',
        f'<text x="{left + plot_w}" y="{height - 18}" text-anchor="end">'
        f"{html.escape(_cell(x[-1])[0])}</text>",
        f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">time (UTC)</text>',
        f'<text x="10" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 10 {top + plot_h / 2})">{html.escape(y_label)}</text>',
    ]
    for i, (name, line) in enumerate(series.items()):
        colour = _PALETTE[i % len(_PALETTE)]
        segments: list[list[tuple[float, float]]] = [[]]
        for t, v in zip(x, line, strict=True):
            if v is None or not math.isfinite(v):
                segments.append([])
                continue
            segments[-1].append((px(t), py(v)))
            parts.append(
                f'<circle cx="{px(t):.1f}" cy="{py(v):.1f}" r="2.5" fill="{colour}">'
                f"<title>{html.escape(name)} {_cell(t)[0]}: {_cell(v)[0]}</title></circle>"
            )
        for segment in segments:
            if len(segment) > 1:
                points = " ".join(f"{a:.1f},{b:.1f}" for a, b in segment)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    'stroke-width="1.5"/>'
                )
        legend_y = top + 10 + 14 * i
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{legend_y - 8}" width="10" height="10" '
            f'fill="{colour}"/><text x="{left + plot_w + 26}" y="{legend_y + 1}">'
            f"{html.escape(name[:18])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def isolated(document: str, *, height: int = 640) -> str:
    """A whole HTML page inside a sandboxed iframe: its styles stay out of the notebook."""
    return (
        f'<iframe sandbox="allow-scripts" srcdoc="{html.escape(document, quote=True)}" '
        f'style="width:100%;height:{height}px;border:1px solid #d0d7de;border-radius:6px">'
        "</iframe>"
    )


class NotebookResult:
    """Mixed into a result: `to_pandas()`, `_repr_html_()` and a one-line `repr` from its
    tidy rows (`_rows`), their columns (`_columns`) and a headline (`_headline`)."""

    __slots__ = ()
    _flag: ClassVar[str | None] = None
    """A boolean column that marks a row as a finding (drifted, failed...)."""

    def _columns(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _headline(self) -> tuple[str, Tone]:
        raise NotImplementedError

    def _chart_html(self) -> str:
        """An optional chart above the table."""
        return ""

    def to_pandas(self) -> pd.DataFrame:
        """The result as a tidy frame: one row per record, the columns of `_columns`."""
        pandas = require_pandas()
        frame: pd.DataFrame = pandas.DataFrame(self._rows(), columns=list(self._columns()))
        return frame

    def _repr_html_(self) -> str:
        text, tone = self._headline()
        return (
            f'<div class="vigil-nb"><style>{_STYLE}</style>'
            f'<div class="head tone-{tone}">{html.escape(type(self).__name__)}: '
            f"{html.escape(text)}</div>{self._chart_html()}"
            f"{table_html(self._rows(), self._columns(), flag=self._flag)}</div>"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._headline()[0]}>"
