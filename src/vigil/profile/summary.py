"""A readable text rendering of a DatasetProfile."""

from __future__ import annotations

import math

from vigil.profile.columns import (
    BooleanColumn,
    DatetimeColumn,
    EmbeddingColumn,
    NumericColumn,
    StringColumn,
    UnknownColumn,
)
from vigil.profile.parts import ProfileFields


def _num(value: float) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if abs(value) >= 1e6 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render_summary(profile: ProfileFields) -> str:
    lines = [f"{profile.n_rows:,} rows, {len(profile.columns)} columns"]
    if profile.window:
        lines[0] += (
            f", window {profile.window.start.isoformat()} .. {profile.window.end.isoformat()}"
        )
    width = max((len(n) for n in profile.columns), default=6)
    width = min(max(width, 6), 32)
    lines.append(f"{'column':<{width}}  {'kind':<11}  {'missing':>8}  details")
    for name, column in profile.columns.items():
        shown = name if len(name) <= width else name[: width - 1] + "…"
        missing = column.null_count + (column.nan_count if isinstance(column, NumericColumn) else 0)
        lines.append(
            f"{shown:<{width}}  {column.kind.value:<11}  {_share(missing, column.count):>8}  "
            + _details(column)
        )
    for name, reason in profile.skipped.items():
        lines.append(f"{name:<{width}}  {'skipped':<11}  {'':>8}  {reason}")
    return "\n".join(lines)


def _details(column: object) -> str:
    if isinstance(column, NumericColumn):
        if not column.finite_count:
            return "no finite values"
        text = (
            f"mean {_num(column.mean)}  std {_num(column.std)}  min {_num(column.min)}  "
            f"p50 {_num(column.quantile(0.5))}  max {_num(column.max)}"
        )
        if column.inf_count:
            text += f"  inf {column.inf_count:,}"
        return text
    if isinstance(column, StringColumn):
        top = ", ".join(
            f"{v[:20]!r} {_share(c, column.categories.total)}" for v, c in column.top(3)
        )
        approx = "" if column.distinct_is_exact else "~"
        if not top:
            top = f"no value above {column.categories.epsilon:.1%} of rows"
        return f"{approx}{column.distinct:,} distinct  top: {top}"
    if isinstance(column, BooleanColumn):
        return f"true {_share(column.true_count, column.count - column.null_count)}"
    if isinstance(column, DatetimeColumn):
        if column.min is None or column.max is None:
            return "no values"
        return f"{column.min.isoformat()} .. {column.max.isoformat()}"
    if isinstance(column, EmbeddingColumn):
        return f"dim {column.dim}  mean norm {_num(column.norm_moments.mean)}"
    if isinstance(column, UnknownColumn):
        return "no typed values"
    return ""


ROW_COLUMNS = (
    "column",
    "kind",
    "count",
    "missing",
    "missing_share",
    "mean",
    "std",
    "min",
    "p25",
    "p50",
    "p75",
    "max",
    "distinct",
    "top",
)
"""The columns of `DatasetProfile.to_pandas()`: one row per profiled column."""


def column_rows(profile: ProfileFields) -> list[dict[str, object]]:
    """One record per column: counts, moments and quantiles (numeric), distinct values and the
    most frequent one (string), the share of true values as `mean` (boolean)."""
    rows: list[dict[str, object]] = []
    for name, column in profile.columns.items():
        missing = column.null_count + (column.nan_count if isinstance(column, NumericColumn) else 0)
        row: dict[str, object] = {
            "column": name,
            "kind": column.kind.value,
            "count": column.count,
            "missing": missing,
            "missing_share": missing / column.count if column.count else None,
        }
        if isinstance(column, NumericColumn) and column.finite_count:
            row |= {
                "mean": column.mean,
                "std": column.std,
                "min": column.min,
                "p25": column.quantile(0.25),
                "p50": column.quantile(0.5),
                "p75": column.quantile(0.75),
                "max": column.max,
            }
        elif isinstance(column, StringColumn):
            top = column.top(1)
            row |= {"distinct": column.distinct, "top": top[0][0] if top else None}
        elif isinstance(column, BooleanColumn):
            valid = column.count - column.null_count
            row["mean"] = column.true_count / valid if valid else None
        elif isinstance(column, DatetimeColumn) and column.min is not None:
            row |= {"min": column.min, "max": column.max}
        rows.append(row)
    return rows
