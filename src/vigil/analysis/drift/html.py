"""One self-contained HTML file for a drift report: inline CSS, inline SVG charts built here from
the profiles' distributions (never raw rows), a few lines of inline JS to filter; no network.

Each chart is two SVG paths (reference, current), so a 200-column report stays a few hundred KB.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING

from vigil.analysis.drift.text import fmt, share, tone, verdict

if TYPE_CHECKING:
    from vigil.analysis.drift.findings import ColumnDrift, DriftFindings
    from vigil.analysis.drift.inputs import Distribution

WIDTH, HEIGHT = 360, 120
LABEL_W = 110

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px}.muted{color:#59636e}.verdict{font-size:16px;margin:8px 0 16px}
.bad{color:#b42318}.warn{color:#9a6700}.good{color:#1a7f37}.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;
padding:12px 16px;margin:0 0 12px;display:flex;gap:24px;flex-wrap:wrap}.card.drift{border-left:5px solid #b42318}
.meta{min-width:320px;flex:1}.meta h2{font-size:15px;margin:0 0 6px}table.kv td{padding:1px 10px 1px 0}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eef1f4;margin-left:6px}
.tag.drift{background:#fde7e5;color:#b42318}.tag.ok{background:#dafbe1;color:#1a7f37}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}.ref{fill:#8c959f}.cur{fill:#0969da}
svg text{font-size:10px;fill:#59636e}.bar{opacity:.75}#filter{margin:0 0 12px}
table.overview{border-collapse:collapse;background:#fff;border:1px solid #d0d7de;margin:0 0 16px;
font-size:13px}table.overview th,table.overview td{padding:3px 10px;border-bottom:1px solid #eef1f4;
text-align:left;white-space:nowrap}table.overview td.n{text-align:right;font-variant-numeric:tabular-nums}
table.overview tr.drift td:first-child{border-left:4px solid #b42318}a{color:#0969da;text-decoration:none}
"""

_JS = """
document.getElementById('only').addEventListener('change',function(e){
document.querySelectorAll('.card,.overview tbody tr').forEach(function(c){
c.style.display=(e.target.checked&&!c.classList.contains('drift'))?'none':'';});});
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _numeric_svg(d: Distribution) -> str:
    top = max([*d.reference, *d.current, 1e-12])
    n = len(d.labels)
    step = WIDTH / n

    def outline(values: tuple[float, ...]) -> str:
        parts = [f"M0 {HEIGHT}"]
        for i, v in enumerate(values):
            y = HEIGHT - (v / top) * (HEIGHT - 4)
            parts.append(f"L{i * step:.1f} {y:.1f}L{(i + 1) * step:.1f} {y:.1f}")
        parts.append(f"L{WIDTH} {HEIGHT}Z")
        return "".join(parts)

    lo, hi = (d.edges[0], d.edges[-1]) if d.edges else (0.0, 0.0)
    return (
        f'<svg width="{WIDTH}" height="{HEIGHT + 14}" role="img" aria-label="distribution">'
        f'<path class="ref" style="opacity:.45" d="{outline(d.reference)}"/>'
        f'<path class="cur" style="opacity:.45" d="{outline(d.current)}"/>'
        f'<text x="0" y="{HEIGHT + 12}">{_e(f"{lo:.4g}")}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT + 12}" text-anchor="end">{_e(f"{hi:.4g}")}</text></svg>'
    )


def _category_svg(d: Distribution) -> str:
    row = 16
    height = row * len(d.labels) + 4
    top = max([*d.reference, *d.current, 1e-12])
    scale = (WIDTH - LABEL_W - 40) / top
    ref_path, cur_path, texts = [], [], []
    for i, (label, p, q) in enumerate(zip(d.labels, d.reference, d.current, strict=True)):
        y = i * row + 2
        ref_path.append(f"M{LABEL_W} {y}h{p * scale:.1f}v6h{-p * scale:.1f}Z")
        cur_path.append(f"M{LABEL_W} {y + 7}h{q * scale:.1f}v6h{-q * scale:.1f}Z")
        short = label if len(label) <= 16 else label[:15] + "…"
        texts.append(
            f'<text x="{LABEL_W - 4}" y="{y + 11}" text-anchor="end">{_e(short)}</text>'
            f'<text x="{LABEL_W + max(p, q) * scale + 4:.1f}" y="{y + 11}">{q:.1%}</text>'
        )
    return (
        f'<svg width="{WIDTH}" height="{height}" role="img" aria-label="category shares">'
        f'<path class="ref" d="{"".join(ref_path)}"/><path class="cur" d="{"".join(cur_path)}"/>'
        f"{''.join(texts)}</svg>"
    )


def _chart(c: ColumnDrift) -> str:
    d = c.distribution
    if d is None or not d.labels:
        return ""
    return _numeric_svg(d) if d.edges else _category_svg(d)


def _overview(columns: list[ColumnDrift]) -> str:
    """One line per column, linking to its card: the whole report at a glance."""
    head = (
        "<tr><th>column</th><th>kind</th><th>method</th><th>statistic</th><th>p (adj.)</th>"
        "<th>effect size</th><th>missing</th><th>new categories</th><th>drift</th></tr>"
    )
    rows = []
    for index, c in enumerate(columns):
        p = c.adjusted_p_value if c.adjusted_p_value is not None else c.p_value
        role = f" [{c.role}]" if c.role != "feature" else ""
        state = "drift" if c.drifted else "ok"
        rows.append(
            f'<tr class="{"drift" if c.drifted else ""}">'
            f'<td><a href="#col-{index}">{_e(c.name)}</a>{_e(role)}</td><td>{_e(c.kind.value)}</td>'
            f"<td>{_e(c.method)}</td><td class=n>{_e(fmt(c.statistic, 4))}</td>"
            f"<td class=n>{_e(fmt(p, 4) if c.statistic_type == 'p_value' else '-')}</td>"
            f"<td class=n>{_e(fmt(c.effect_size))}</td>"
            f"<td>{_e(share(c.reference_missing_share))} → {_e(share(c.current_missing_share))}</td>"
            f"<td>{_e(f'{c.new_category_share:.1%}' if c.new_categories else '-')}</td>"
            f'<td><span class="tag {state}">{state}</span></td></tr>'
        )
    return f'<table class="overview"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _card(c: ColumnDrift, index: int) -> str:
    p = c.adjusted_p_value if c.adjusted_p_value is not None else c.p_value
    rows = [
        ("method", f"{c.method} ({c.path})"),
        ("statistic", fmt(c.statistic, 4)),
        ("p-value (adjusted)", fmt(p, 4) if c.statistic_type == "p_value" else "-"),
        ("threshold", fmt(c.threshold, 3)),
        (
            "effect size",
            f"{fmt(c.effect_size)} {c.effect_method}"
            + (f" (needs {c.effect_threshold})" if c.effect_threshold is not None else ""),
        ),
        ("missing", f"{share(c.reference_missing_share)} → {share(c.current_missing_share)}"),
    ]
    if c.error_bound is not None and math.isfinite(c.error_bound):
        rows.append(("sketch error bound", f"±{fmt(c.error_bound, 4)}"))
    if c.new_categories:
        fresh = ", ".join(f"{n.value} ({n.share:.1%})" for n in c.new_categories[:5])
        rows.append(("new categories", f"{fresh}; {c.new_category_share:.1%} of rows"))
    body = "".join(f"<tr><td class=muted>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    role = f'<span class="tag">{_e(c.role)}</span>' if c.role != "feature" else ""
    state = (
        '<span class="tag drift">drift</span>' if c.drifted else '<span class="tag ok">ok</span>'
    )
    return (
        f'<div class="card{" drift" if c.drifted else ""}" id="col-{index}"><div class="meta">'
        f"<h2>{_e(c.name)}<span class=tag>{_e(c.kind.value)}</span>{role}{state}</h2>"
        f'<table class="kv">{body}</table></div><div>{_chart(c)}</div></div>'
    )


def render_html(report: DriftFindings) -> str:
    cls = tone(report)
    multi = "".join(
        f"<li>{_e(m.method)}: {m.statistic:.3f} (threshold {m.threshold}) "
        f"{'drift' if m.drifted else 'ok'}</li>"
        for m in report.multivariate
    )
    skipped = "".join(f"<li>{_e(n)}: {_e(why)}</li>" for n, why in report.skipped.items())
    ordered = report.sorted_columns()
    cards = "".join(_card(c, i) for i, c in enumerate(ordered))
    roles = "".join(
        f"<div>{role.capitalize()} drift: "
        + ", ".join(
            f'{_e(c.name)} <span class="tag {"drift" if c.drifted else "ok"}">'
            f"{'drift' if c.drifted else 'ok'}</span>"
            for c in named
        )
        + "</div>"
        for role in ("prediction", "target")
        if (named := [c for c in report.columns.values() if c.role == role])
    )
    source = (
        "exact statistics on raw data" if report.path == "exact" else "statistics from profiles"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Vigil drift report</title><style>{_CSS}</style></head><body>"
        "<h1>Vigil drift report</h1>"
        f'<div class="muted">reference {report.reference_rows:,} rows · current '
        f"{report.current_rows:,} rows · {source}</div>"
        f'<div class="verdict {cls}">{_e(verdict(report))}</div>{roles}'
        + (f"<h3>Multivariate drift</h3><ul>{multi}</ul>" if multi else "")
        + '<div class="legend muted"><span style="background:#8c959f"></span>reference'
        '<span style="background:#0969da"></span>current</div>'
        '<label id="filter"><input type="checkbox" id="only"> drifted columns only</label>'
        f"{_overview(ordered)}{cards}"
        + (f"<h3>Not compared</h3><ul>{skipped}</ul>" if skipped else "")
        + f"<script>{_JS}</script></body></html>"
    )
