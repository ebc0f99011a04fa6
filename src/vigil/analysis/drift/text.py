"""Text summary of drift findings (`DriftReport.summary()`), drifted columns first."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.analysis.drift.findings import ColumnDrift, DriftFindings

MAX_NEW_SHOWN = 3
MISSING_CHANGE_NOTED = 0.01
"""A change of at least one percentage point in the missing share is listed under "Also changed"."""


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value != 0 and (abs(value) < 10**-digits or abs(value) >= 10**6):
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def share(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"


def verdict(report: DriftFindings) -> str:
    """The headline: dataset drift, columns drifting below the dataset rule, or none."""
    compared = len(report.columns)
    drifted = len(report.drifted_columns)
    counted = f"{drifted} of {compared} columns drifted ({report.share_drifted:.0%}"
    if report.dataset_drift:
        return f"DATASET DRIFT: {counted}; the dataset drifts at {report.drift_share:.0%})"
    if drifted:
        return (
            f"COLUMNS DRIFTED: {counted}; below the dataset rule of {report.drift_share:.0%}, "
            "so no dataset drift)"
        )
    return f"no dataset drift: {counted}; the dataset drifts at {report.drift_share:.0%})"


def tone(report: DriftFindings) -> str:
    """`bad` (dataset drift), `warn` (some columns drifted) or `good`: the headline's class."""
    if report.dataset_drift:
        return "bad"
    return "warn" if report.drifted_columns else "good"


def _missing(c: ColumnDrift) -> str:
    return f"{share(c.reference_missing_share)} -> {share(c.current_missing_share)}"


def _new(c: ColumnDrift) -> str:
    if not c.new_categories:
        return "-"
    shown = ", ".join(f"{n.value} ({n.share:.1%})" for n in c.new_categories[:MAX_NEW_SHOWN])
    more = len(c.new_categories) - MAX_NEW_SHOWN
    return shown + (f" +{more} more" if more > 0 else "")


def _row(c: ColumnDrift) -> list[str]:
    name = c.name if c.role == "feature" else f"{c.name} [{c.role}]"
    p = fmt(c.adjusted_p_value if c.adjusted_p_value is not None else c.p_value, 4)
    effect = f"{fmt(c.effect_size)} {c.effect_method}" if c.statistic_type == "p_value" else "-"
    return [
        name,
        c.kind.value,
        c.method,
        fmt(c.statistic, 4),
        p,
        fmt(c.threshold, 3),
        effect,
        "DRIFT" if c.drifted else "ok",
        _missing(c),
        _new(c),
    ]


def _notes(report: DriftFindings) -> list[str]:
    notes = []
    for c in report.sorted_columns():
        change = c.missing_share_change
        if not math.isnan(change) and abs(change) >= MISSING_CHANGE_NOTED:
            notes.append(
                f"{c.name}: missing values {share(c.reference_missing_share)} -> "
                f"{share(c.current_missing_share)}"
            )
        if c.new_categories:
            notes.append(
                f"{c.name}: {c.new_category_share:.1%} of rows in categories never seen in the "
                f"reference: {_new(c)}"
            )
    return notes


def render_text(report: DriftFindings) -> str:
    source = "exact statistics on raw data" if report.path == "exact" else "from profiles"
    lines = [
        f"Drift: {verdict(report)}",
        f"reference {report.reference_rows:,} rows, current {report.current_rows:,} rows; {source}"
        + (
            "; p-values corrected across columns (Benjamini-Hochberg)"
            if report.correction == "bh"
            else ""
        ),
    ]
    for role in ("prediction", "target"):
        named = [c for c in report.columns.values() if c.role == role]
        if named:
            states = ", ".join(f"{c.name} {'DRIFT' if c.drifted else 'ok'}" for c in named)
            lines.append(f"{role.capitalize()} drift: {states}")
    header = [
        "column",
        "kind",
        "method",
        "statistic",
        "p (adj.)",
        "threshold",
        "effect size",
        "drift",
        "missing ref -> cur",
        "new categories",
    ]
    rows = [_row(c) for c in report.sorted_columns()]
    if rows:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines.append("")
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
        lines.extend(
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
        )
    notes = _notes(report)
    if notes:
        lines.append("")
        lines.append("Also changed (reported beside the drift verdict):")
        lines.extend(f"  {note}" for note in notes)
    for m in report.multivariate:
        state = "DRIFT" if m.drifted else "ok"
        what = "error ratio" if m.method == "pca_reconstruction" else "ROC AUC"
        p = f", p {fmt(m.p_value, 4)}" if m.p_value is not None else ""
        lines.append(
            f"Multivariate {m.method}: {what} {m.statistic:.3f} (no drift ~ {m.reference_value}, "
            f"threshold {m.threshold}{p}) {state}"
        )
    if report.skipped:
        lines.append("")
        lines.append("Not compared:")
        lines.extend(f"  {name}: {why}" for name, why in report.skipped.items())
    return "\n".join(lines)
