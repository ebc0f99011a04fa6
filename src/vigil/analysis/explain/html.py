"""A small self-contained HTML view of an explanation: a global summary first (per feature, its
mean |contribution| and every row's contribution as a dot coloured by the feature's value, most
important first: SHAP's summary plot), then per row the base value, the output and one bar per
feature (pushing the output up or down), largest first. A classifier explained in log-odds shows
each output as a probability too. Inline CSS and SVG only: no script, no external file, so the
page can be mailed or attached as it is."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from vigil.analysis.explain.values import ExplanationValues

MAX_ROWS_SHOWN = 100
"""Rows drawn in one page; the JSON has them all."""
MAX_SUMMARY_FEATURES = 20
"""Features in the summary plot, most important first; the others are named below it."""
MAX_SUMMARY_ROWS = 2000
"""Dots per feature in the summary plot (an even sample of the rows beyond it)."""

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d232a}
h1{font-size:20px;margin:0 0 4px}
p.meta{color:#555;margin:0 0 16px}
section{margin:0 0 24px;border:1px solid #d8dde3;border-radius:6px;padding:12px 16px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
td{padding:2px 6px;vertical-align:middle;white-space:nowrap}
td.bar{width:50%}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.track{position:relative;height:14px;background:#f3f5f7}
.track .mid{position:absolute;left:50%;top:0;bottom:0;border-left:1px solid #8a949e}
.pos{position:absolute;left:50%;top:2px;height:10px;background:#d6455d}
.neg{position:absolute;right:50%;top:2px;height:10px;background:#2f7ed8}
svg text{font:12px system-ui,-apple-system,Segoe UI,Roboto,sans-serif;fill:#1d232a}
"""
_SPACE_LABEL = {"raw": "model output", "log_odds": "log-odds", "probability": "probability"}


def sigmoid(value: float) -> float:
    """The probability of a log-odds value."""
    return float(1.0 / (1.0 + np.exp(-value)))


def _output(explanation: ExplanationValues, value: float) -> str:
    """An output in its space, with its probability when the space is log-odds."""
    if explanation.output_space == "log_odds":
        return f"{value:.6g} log-odds (probability {sigmoid(value):.4f})"
    return f"{value:.6g}"


def _colour(share: float) -> str:
    """Low feature values blue, high ones red (the colours of the row bars)."""
    low, high = (47, 126, 216), (214, 69, 93)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"rgb({r},{g},{b})"


def _value_shares(column: np.ndarray[Any, Any]) -> list[float | None]:
    """Each value's rank share in its column (0 lowest, 1 highest); None for values that are
    not numbers (drawn grey)."""
    numbers = np.full(column.shape[0], np.nan)
    for i, value in enumerate(column.tolist()):
        if isinstance(value, int | float) and not isinstance(value, bool):
            numbers[i] = float(value)
    finite = np.isfinite(numbers)
    if finite.sum() < 2:
        return [0.5 if ok else None for ok in finite.tolist()]
    ranks = np.argsort(np.argsort(numbers[finite], kind="stable"), kind="stable")
    shares: list[float | None] = [None] * column.shape[0]
    for position, rank in zip(np.flatnonzero(finite).tolist(), ranks.tolist(), strict=True):
        shares[position] = rank / (finite.sum() - 1)
    return shares


def summary_svg(explanation: ExplanationValues) -> str:
    """SHAP's summary plot as SVG: one line per feature (most important first), each row's
    contribution a dot, coloured by the feature's value; the mean |contribution| at the right."""
    contributions = explanation.contributions
    if contributions.size == 0:
        return ""
    rows = np.arange(explanation.n_rows)
    if rows.size > MAX_SUMMARY_ROWS:
        rows = np.linspace(0, explanation.n_rows - 1, MAX_SUMMARY_ROWS).round().astype(int)
    means = np.abs(contributions).mean(axis=0)
    order = np.argsort(-means, kind="stable")[:MAX_SUMMARY_FEATURES]
    limit = float(np.abs(contributions[rows][:, order]).max()) or 1.0
    label_w, plot_w, mean_w, line_h, top = 160, 420, 90, 22, 8
    width, height = label_w + plot_w + mean_w, top + line_h * len(order) + 40
    mid = label_w + plot_w / 2
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='summary of contributions'>",
        f"<line x1='{mid}' y1='{top}' x2='{mid}' y2='{height - 34}' stroke='#8a949e'/>",
    ]
    data = np.asarray(explanation.data, dtype=object)
    for line, j in enumerate(order.tolist()):
        y = top + line_h * line + line_h / 2
        name = html.escape(explanation.features[j])
        parts.append(
            f"<text x='{label_w - 8}' y='{y + 4}' text-anchor='end'>{name}</text>"
            f"<text x='{width - 4}' y='{y + 4}' text-anchor='end'>{means[j]:.4g}</text>"
        )
        shares = _value_shares(data[rows, j]) if data.ndim == 2 else [None] * rows.size
        for k, i in enumerate(rows.tolist()):
            value = float(contributions[i, j])
            x = mid + value / limit * (plot_w / 2 - 6)
            jitter = ((i * 7919) % 11 - 5) * 1.2
            share = shares[k]
            fill = "#8a949e" if share is None else _colour(share)
            parts.append(
                f"<circle cx='{x:.1f}' cy='{y + jitter:.1f}' r='2.2' fill='{fill}' "
                f"fill-opacity='0.8'><title>{name} = "
                f"{html.escape(_fmt(data[i, j]) if data.ndim == 2 else '')}: "
                f"{value:+.4g}</title></circle>"
            )
    axis = _SPACE_LABEL.get(explanation.output_space, explanation.output_space)
    base = height - 30
    parts.append(
        f"<text x='{label_w}' y='{base + 14}'>{-limit:.3g}</text>"
        f"<text x='{mid}' y='{base + 14}' text-anchor='middle'>0</text>"
        f"<text x='{label_w + plot_w}' y='{base + 14}' text-anchor='end'>{limit:.3g}</text>"
        f"<text x='{mid}' y='{base + 28}' text-anchor='middle'>contribution ({axis}); "
        "dot colour: the feature's value, blue low, red high</text>"
        f"<text x='{width - 4}' y='{base + 14}' text-anchor='end'>mean |c|</text>"
        "</svg>"
    )
    return "".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def _row_section(explanation: ExplanationValues, i: int, scale: float) -> str:
    contributions = explanation.contributions[i]
    order = np.argsort(-np.abs(contributions), kind="stable")
    lines = []
    for j in order:
        value = float(contributions[j])
        width = 50.0 * abs(value) / scale if scale else 0.0
        css = "pos" if value >= 0 else "neg"
        lines.append(
            "<tr>"
            f"<td>{html.escape(explanation.features[j])}</td>"
            f"<td class='num'>{html.escape(_fmt(explanation.data[i][j]))}</td>"
            f"<td class='bar'><div class='track'><div class='mid'></div>"
            f"<div class='{css}' style='width:{width:.2f}%'></div></div></td>"
            f"<td class='num'>{value:+.6g}</td>"
            "</tr>"
        )
    return (
        f"<section><h2>Row {i}: output {_output(explanation, float(explanation.output[i]))} = "
        f"base {explanation.base_value:.6g} {float(contributions.sum()):+.6g}</h2>"
        "<table><tr><th align='left'>feature</th><th align='right'>value</th>"
        "<th>contribution</th><th align='right'></th></tr>"
        f"{''.join(lines)}</table></section>"
    )


def explanation_html(explanation: ExplanationValues, *, title: str = "Explanation") -> str:
    """The page as a string (see the module docstring)."""
    shown = min(explanation.n_rows, MAX_ROWS_SHOWN)
    scale = float(np.abs(explanation.contributions[:shown]).max()) if shown else 0.0
    target = (
        f", class {html.escape(str(explanation.target))}" if explanation.target is not None else ""
    )
    meta = (
        f"SHAP ({explanation.algorithm} explainer), output space "
        f"<b>{explanation.output_space}</b>{target}; base value {explanation.base_value:.6g}. "
        "Red bars push the output up, blue bars down."
    )
    if explanation.output_space == "log_odds":
        meta += (
            f" The base value is a probability of {sigmoid(explanation.base_value):.4f}; "
            "contributions add up in log-odds, not in probability."
        )
    hidden = len(explanation.features) - MAX_SUMMARY_FEATURES
    summary = (
        f"<section><h2>Summary: every row's contributions, most important feature first</h2>"
        f"{summary_svg(explanation)}"
        + (
            f"<p class='meta'>{hidden} less important features are not drawn.</p>"
            if hidden > 0
            else ""
        )
        + "</section>"
    )
    more = (
        f"<p class='meta'>{explanation.n_rows - shown} more rows are in the JSON.</p>"
        if explanation.n_rows > shown
        else ""
    )
    sections = "".join(_row_section(explanation, i, scale) for i in range(shown))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='meta'>{meta}</p>{summary}{sections}{more}"
        "</body></html>"
    )
