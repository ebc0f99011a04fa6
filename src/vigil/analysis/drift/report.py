"""The typed result of `vigil.drift`: its findings (findings.py) with a text summary, an HTML page
and a notebook view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.analysis.drift.findings import ColumnDrift, DriftFindings
from vigil.analysis.drift.html import render_html
from vigil.analysis.drift.text import render_text
from vigil.report.notebook import NotebookResult, Tone, isolated

__all__ = ["ColumnDrift", "DriftReport"]

_FRAME_COLUMNS = (
    "column",
    "kind",
    "role",
    "method",
    "statistic",
    "p_value",
    "adjusted_p_value",
    "threshold",
    "effect_size",
    "effect_method",
    "drifted",
    "reference_missing_share",
    "current_missing_share",
    "new_category_share",
)
"""The columns of `DriftReport.to_pandas()`: one row per compared column."""


@dataclass(frozen=True, repr=False)
class DriftReport(DriftFindings, NotebookResult):
    """What `vigil.drift` found: per-column drift, the share of drifted columns and the verdict.

    >>> report = vigil.drift(training_df, production_df)       # doctest: +SKIP
    >>> report.dataset_drift, report.drifted_columns           # doctest: +SKIP
    (True, ('monthly_charges', 'contract'))
    """

    def summary(self) -> str:
        """A readable text summary, drifted columns first."""
        return render_text(self)

    def to_html(self, path: str | Path) -> Path:
        """Write one self-contained HTML file (inline CSS and SVG, no network) and return its path."""
        out = Path(path)
        out.write_text(render_html(self), encoding="utf-8")
        return out

    def __str__(self) -> str:
        return self.summary()

    # In a notebook: the HTML report inline, a frame per column, a one-line repr.
    _flag = "drifted"

    def _columns(self) -> tuple[str, ...]:
        return _FRAME_COLUMNS

    def _rows(self) -> list[dict[str, Any]]:
        return [
            {
                "column": c.name,
                "kind": c.kind.value,
                "role": c.role,
                "method": c.method,
                "statistic": c.statistic,
                "p_value": c.p_value,
                "adjusted_p_value": c.adjusted_p_value,
                "threshold": c.threshold,
                "effect_size": c.effect_size,
                "effect_method": c.effect_method,
                "drifted": c.drifted,
                "reference_missing_share": c.reference_missing_share,
                "current_missing_share": c.current_missing_share,
                "new_category_share": c.new_category_share,
            }
            for c in self.sorted_columns()
        ]

    def _headline(self) -> tuple[str, Tone]:
        drifted = len(self.drifted_columns)
        text = (
            f"{drifted} of {len(self.columns)} columns drifted"
            f"{' (dataset drift)' if self.dataset_drift else ''}; "
            f"{self.reference_rows:,} reference rows, {self.current_rows:,} current rows"
        )
        return text, "bad" if drifted else "good"  # a notebook headline: any drift is news

    def _repr_html_(self) -> str:
        return isolated(render_html(self), height=min(900, 260 + 150 * len(self.columns)))
