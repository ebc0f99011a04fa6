"""A small self-contained HTML view of an explanation: per row, the base value, the output and
one bar per feature (pushing the output up or down), largest first. Inline CSS only: no script,
no external file, so the page can be mailed or attached as it is."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from vigil.analysis.explain.values import ExplanationValues

MAX_ROWS_SHOWN = 100
"""Rows drawn in one page; the JSON has them all."""

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
"""


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
        f"<section><h2>Row {i}: output {explanation.output[i]:.6g} = base "
        f"{explanation.base_value:.6g} {float(contributions.sum()):+.6g}</h2>"
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
    more = (
        f"<p class='meta'>{explanation.n_rows - shown} more rows are in the JSON.</p>"
        if explanation.n_rows > shown
        else ""
    )
    sections = "".join(_row_section(explanation, i, scale) for i in range(shown))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='meta'>{meta}</p>{sections}{more}</body></html>"
    )
